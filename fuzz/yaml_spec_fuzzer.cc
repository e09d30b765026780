// The resource files (model/yaml_doc.h, model/specs.h) on any text: every
// `lote ... --file` reads one, and the server normalizes the same JSON from
// REST bodies. Input: the file's text. It is parsed once and handed to every
// Normalize*; short inputs also go to the one-line parsers (--traffic,
// mini_batch_size, timeouts, model and compute references).
//
// Invariants: nothing crashes or throws; an error is InvalidArgument (a
// parse error's message starts with the file name) and Describe() can place
// it; an accepted resource is a JSON object that can be stored (dump() with
// strict UTF-8) and is itself valid input that normalizes to the same
// document (docs/resources.md: "a canonical document read back from the
// server is valid input").
#include <functional>
#include <utility>
#include <vector>

#include "fuzz_util.h"
#include "model/specs.h"
#include "model/yaml_doc.h"

using lote::fuzz::FuzzCheck;
using nlohmann::json;
namespace model = lote::model;

namespace {

const std::vector<std::string> kDeploymentNames = {"blue", "green"};

using Normalizer = std::function<lote::Result<json>(const json&)>;
const std::vector<std::pair<const char*, Normalizer>> kNormalizers = {
    {"endpoint", [](const json& j) { return model::NormalizeEndpoint(j); }},
    {"deployment", [](const json& j) { return model::NormalizeDeployment(j); }},
    {"compute", [](const json& j) { return model::NormalizeCompute(j); }},
    {"datastore", [](const json& j) { return model::NormalizeDatastore(j); }},
    {"data asset", [](const json& j) { return model::NormalizeDataAsset(j); }},
    {"model", [](const json& j) { return model::NormalizeModel(j); }},
    {"traffic", [](const json& j) { return model::NormalizeTraffic(j, kDeploymentNames); }},
};

std::string Dump(const json& j, const std::string& what) {
  try {
    return j.dump();
  } catch (const json::exception& e) {
    FuzzCheck(false, what + ": the result cannot be stored: " + e.what());
  }
  return {};
}

void CheckError(const lote::Error& e, const model::YamlDocument& doc, const std::string& what) {
  FuzzCheck(e.code() == lote::ErrorCode::kInvalidArgument, what + ": not InvalidArgument: " + e.message());
  FuzzCheck(!e.message().empty(), what + ": an error without a message");
  FuzzCheck(!doc.Describe(e).empty(), what + ": Describe() says nothing");
}

void OneLineParsers(std::string_view text) {
  // Their results are checked by their unit tests; here: no crash, no throw,
  // and a clear kind of error.
  auto expect_invalid = [](const lote::Error& e, const char* what) {
    FuzzCheck(e.code() == lote::ErrorCode::kInvalidArgument, std::string(what) + ": " + e.message());
  };
  if (auto r = model::ParseTrafficArg(text); !r) expect_invalid(r.error(), "ParseTrafficArg");
  if (auto r = model::ParseByteSize(text); !r) expect_invalid(r.error(), "ParseByteSize");
  if (auto r = model::ParseModelRef(text); !r) expect_invalid(r.error(), "ParseModelRef");
  if (auto r = model::ParseComputeRef(text); !r) expect_invalid(r.error(), "ParseComputeRef");
  json s = std::string(text);  // a JSON string may hold any bytes until dumped
  if (auto r = model::ParseTimeoutSeconds(s, "timeout"); r) {
    FuzzCheck(*r > 0, "ParseTimeoutSeconds accepted a timeout <= 0");
  } else {
    expect_invalid(r.error(), "ParseTimeoutSeconds");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size <= 256) OneLineParsers(text);

  auto doc = model::ParseYaml(text, "fuzz.yml");
  if (!doc) {
    FuzzCheck(doc.error().code() == lote::ErrorCode::kInvalidArgument &&
                  doc.error().message().starts_with("fuzz.yml"),
              "a parse error that does not name the file: " + doc.error().message());
    return 0;
  }
  Dump(doc->value, "ParseYaml");
  for (const auto& [what, normalize] : kNormalizers) {
    auto once = normalize(doc->value);
    if (!once) {
      CheckError(once.error(), *doc, what);
      continue;
    }
    FuzzCheck(what == std::string("traffic") || once->is_object(), std::string(what) + ": not an object");
    std::string first = Dump(*once, what);
    auto twice = normalize(*once);
    FuzzCheck(twice.has_value(), std::string(what) + ": the canonical document is refused: " +
                                     (twice ? std::string() : twice.error().message()) + "\n" + first);
    FuzzCheck(Dump(*twice, what) == first,
              std::string(what) + ": normalizing the canonical document changes it:\n" + first +
                  "\n" + twice->dump());
  }
  return 0;
}
