// Invoke bodies (jobs/invoke_request.h) on any bytes: POST .../jobs, which an
// endpoint token may send. Input: the body, read as the server reads it
// (server/http_util.h ParseJsonBody: size and nesting limits, then the
// parser) and then handed to ParseInvokeRequest; an accepted request's
// overrides go through ApplyOverrides and NormalizeDeployment onto a real
// deployment, as BuildJob does.
//
// Invariants: nothing crashes or throws (json::parse's own exceptions
// included: the server would answer 500); every refusal is InvalidArgument
// (or PayloadTooLarge); the result can be stored (dump()); an accepted request
// has the types the job builder reads: "deployment" a string, "input" one of
// {data} | {datastore[, path]} | {uri} with string values, "output" an object
// of strings, "set" an object (issue 9, "15 malformed bodies get 500 instead
// of 400"; fuzz/regressions/invoke_request).

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "http/request.h"
#include "jobs/invoke_request.h"
#include "model/specs.h"
#include "server/http_util.h"

using lote::fuzz::FuzzCheck;
using nlohmann::json;

namespace {

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
  // {datastore} alone is the datastore's root (BuildJob reads a missing path as "").
  bool one = (in.size() == 1 && (in.contains("data") || in.contains("uri") || in.contains("datastore"))) ||
             (in.size() == 2 && in.contains("datastore") && in.contains("path"));
  if (!one) return "input is not one of {data}, {datastore[, path]}, {uri}";
  if (r.contains("output") && !AllStrings(r["output"])) return "output is not an object of strings";
  if (r.contains("set") && !r["set"].is_object()) return "set is not an object";
  return "";
}

// Calls fn (code of jobs/invoke_request.cc); an exception from it would be
// a 500.
template <class Fn>
auto Guarded(Fn fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    FuzzCheck(false, std::string("an exception escapes (the server answers 500): ") + e.what());
    throw;
  }
}

void Check(const json& body) {
  auto request = Guarded([&] { return lote::jobs::ParseInvokeRequest(body); });
  if (!request) {
    FuzzCheck(request.error().code() == lote::ErrorCode::kInvalidArgument,
              "not InvalidArgument: " + request.error().message());
    return;
  }
  const json& r = *request;
  // The job store keeps it as text; an exception here is a crash.
  FuzzCheck(!r.dump().empty(), "an accepted request prints as nothing");
  std::string problem = ShapeProblem(r);
  FuzzCheck(problem.empty(), "an accepted request of the wrong shape: " + problem + ": " + r.dump());
  json set = r.value("set", json::object());
  if (r.contains("output") && r["output"].contains("file_name")) {
    set["output_file_name"] = r["output"]["file_name"];
  }
  auto overridden = Guarded([&] { return lote::jobs::ApplyOverrides(Deployment(), set); });
  if (!overridden) return;
  // NormalizeDeployment (model/) must refuse whatever the overrides hold.
  auto effective = lote::model::NormalizeDeployment(*overridden);
  if (effective) FuzzCheck(!effective->dump().empty(), "an effective deployment prints as nothing");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lote::http::Request req;
  req.method = "POST";
  req.path = "/api/v1/endpoints/mybatchedp/jobs";
  req.body.assign(reinterpret_cast<const char*>(data), size);
  auto body = Guarded([&] { return lote::server::ParseJsonBody(req); });
  if (!body) {
    FuzzCheck(body.error().code() == lote::ErrorCode::kInvalidArgument ||
                  body.error().code() == lote::ErrorCode::kPayloadTooLarge,
              "ParseJsonBody: not a client error: " + body.error().message());
    return 0;
  }
  FuzzCheck(body->is_object(), "ParseJsonBody returned what is not an object");
  Check(*body);
  return 0;
}
