// The `--query` language (cli/query.h) on any expression and document.
// Input: the expression on the first line, then a JSON document (when it is
// not JSON, a fixed document resembling `endpoint show` is used instead).
//
// Invariants: nothing crashes, throws or overflows the stack; a syntax error
// is InvalidArgument naming the expression ("invalid query \"...\""); a
// result can be printed (dump() with strict UTF-8, as output_format does when
// the document and the literals are UTF-8); evaluating twice gives the same.
#include <nlohmann/json.hpp>

#include "cli/query.h"
#include "fuzz_util.h"

using lote::fuzz::FuzzCheck;
using lote::fuzz::InputReader;
using json = nlohmann::ordered_json;

namespace {

const json& Fallback() {
  static const json doc = json::parse(R"({
    "name": "mybatchedp", "type": "batch", "scoring_uri": "http://127.0.0.1:8080/x",
    "traffic": {"blue": 100, "green": 0}, "tags": {},
    "deployments": [
      {"name": "blue", "mini_batch_size": 10, "retry_settings": {"max_retries": 3, "timeout": 30},
       "compute": {"target": "azureml:cpu-cluster", "instance_count": 2}},
      {"name": "green", "mini_batch_size": "64MB", "error_threshold": -1, "environment": null,
       "compute": {"target": "azureml:gpu", "instance_count": 1}}],
    "jobs": [[1, 2, [3, 4]], [], "x", 2.5, true, null]})");
  return doc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  InputReader in(data, size);
  const std::string_view expression = in.Line();
  const std::string_view rest = in.Rest();
  json parsed = json::parse(rest, nullptr, /*allow_exceptions=*/false);
  const json& doc = parsed.is_discarded() ? Fallback() : parsed;

  auto result = lote::cli::EvaluateQuery(expression, doc);
  if (!result) {
    FuzzCheck(result.error().code() == lote::ErrorCode::kInvalidArgument &&
                  result.error().message().starts_with("invalid query \""),
              "a query error of the wrong kind: " + result.error().message());
    return 0;
  }
  std::string text;
  try {
    text = result->dump();
  } catch (const json::exception& e) {
    // Only a string literal of the expression can carry invalid UTF-8 here.
    bool utf8_expression = false;
    try {
      utf8_expression = !json(std::string(expression)).dump().empty();
    } catch (const json::exception&) {
    }
    FuzzCheck(!utf8_expression, std::string("a result of UTF-8 inputs cannot be printed: ") + e.what());
    return 0;
  }
  auto again = lote::cli::EvaluateQuery(expression, doc);
  FuzzCheck(again.has_value() && again->dump() == text, "evaluating twice differs");
  return 0;
}
