// Invoke bodies (jobs/invoke_request.h) on any JSON: POST .../jobs, which an
// endpoint token may send. Input: the body, parsed as the server does
// (nlohmann::json::parse) and then handed to ParseInvokeRequest; an accepted
// request's overrides go through ApplyOverrides and NormalizeDeployment onto a
// real deployment, as BuildJob does.
//
// Inputs over 4 KiB are skipped: the server bounds the body's size and
// nesting before parsing (issue 9, "JSON nesting and size limits before
// parsing"), and copying a deeper document recurses once per level.
//
// Invariants: nothing crashes; the result can be stored (dump()).
// With LOTE_FUZZ_STRICT=1 also (known defects of issue 9, "15 malformed
// bodies get 500 instead of 400"; fuzz/pending/invoke_request): nothing
// throws (json::parse included: the server catches only its parse_error),
// and an accepted request has the types the job builder reads: "deployment"
// a string, "input" one of {data} | {datastore, path} | {uri} with string
// values, "output" an object of strings, "set" an object.
#include <optional>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "jobs/invoke_request.h"
#include "model/specs.h"

using lote::fuzz::FuzzCheck;
using lote::fuzz::KnownIssue;
using nlohmann::json;

namespace {

constexpr size_t kMaxInput = 4096;

const json& Deployment() {
  static const json dep = [] {
    auto d = lote::model::NormalizeDeployment(json::parse(R"({
      "name": "blue", "model": "azureml:taxi:1", "compute": "azureml:cpu-cluster",
      "mini_batch_size": 10, "retry_settings": {"max_retries": 3, "timeout": 30}})"));
    FuzzCheck(d.has_value(), "the fixture deployment is invalid");
    return *d;
  }();
  return dep;
}

bool AllStrings(const json& obj) {
  if (!obj.is_object()) return false;
  for (const auto& [k, v] : obj.items()) {
    if (!v.is_string()) return false;
  }
  return true;
}

// The request's shape as BuildJob and ResolveInput read it.
std::string ShapeProblem(const json& r) {
  if (!r.is_object()) return "not an object";
  if (r.contains("deployment") && !r["deployment"].is_string()) return "deployment is not a string";
  if (!r.contains("input") || !AllStrings(r["input"])) return "input is not an object of strings";
  const json& in = r["input"];
  bool one = (in.size() == 1 && (in.contains("data") || in.contains("uri"))) ||
             (in.size() == 2 && in.contains("datastore") && in.contains("path"));
  if (!one) return "input is not one of {data}, {datastore, path}, {uri}";
  if (r.contains("output") && !AllStrings(r["output"])) return "output is not an object of strings";
  if (r.contains("set") && !r["set"].is_object()) return "set is not an object";
  return "";
}

// Calls fn (code of jobs/invoke_request.cc); an exception from it is the
// known defect, reported as nullopt.
template <class Fn>
auto Guarded(Fn fn) -> std::optional<decltype(fn())> {
  try {
    return fn();
  } catch (const json::exception& e) {
    KnownIssue(false, std::string("an exception escapes (the server answers 500): ") + e.what());
    return std::nullopt;
  }
}

void Check(const json& body) {
  auto request = Guarded([&] { return lote::jobs::ParseInvokeRequest(body); });
  if (!request) return;
  if (!*request) {
    FuzzCheck(request->error().code() == lote::ErrorCode::kInvalidArgument,
              "not InvalidArgument: " + request->error().message());
    return;
  }
  const json& r = **request;
  // The job store keeps it as text; an exception here is a crash.
  FuzzCheck(!r.dump().empty(), "an accepted request prints as nothing");
  std::string problem = ShapeProblem(r);
  KnownIssue(problem.empty(), "an accepted request of the wrong shape: " + problem + ": " + r.dump());
  if (!problem.empty()) return;  // BuildJob would throw; nothing further is meaningful
  json set = r.value("set", json::object());
  if (r.contains("output") && r["output"].contains("file_name")) {
    set["output_file_name"] = r["output"]["file_name"];
  }
  auto overridden = Guarded([&] { return lote::jobs::ApplyOverrides(Deployment(), set); });
  if (!overridden || !*overridden) return;
  // NormalizeDeployment (model/) must refuse whatever the overrides hold.
  auto effective = lote::model::NormalizeDeployment(**overridden);
  if (effective) FuzzCheck(!effective->dump().empty(), "an effective deployment prints as nothing");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return 0;
  json body;
  try {
    body = json::parse(data, data + size);
  } catch (const json::parse_error&) {
    return 0;  // the server answers 400 itself
  } catch (const json::exception& e) {
    // server/http_util.cc catches parse_error only; "1e400" is out_of_range.406.
    KnownIssue(false, std::string("json::parse throws other than parse_error: ") + e.what());
    return 0;
  }
  if (!body.is_object()) return 0;  // 400 too
  Check(body);
  return 0;
}
