// JSON request bodies (http/json_body.h CheckJsonNesting and ParseJson;
// server/http_util.h ParseJsonBody) on any bytes: every REST body passes
// here before anything reads it, and an endpoint token may send one. Input:
// the body.
//
// Checked against nlohmann's own parser (json::parse without exceptions; a
// text holding a raw NUL byte is not JSON, although nlohmann stops reading
// there) and the depth of the document it builds, counted without recursion:
//   - nothing throws; every refusal is InvalidArgument (PayloadTooLarge for
//     size), never Internal;
//   - ParseJson accepts exactly the valid JSON texts nested no deeper than
//     the limit, and gives the same value as json::parse;
//   - CheckJsonNesting, on valid JSON of depth D, accepts a limit of D and
//     refuses D - 1 (the scanner counts brackets as the parser nests them,
//     strings and escapes included);
//   - ParseJsonBody is ParseJson plus "an object";
//   - what is accepted prints (dump(): its strings are UTF-8) and reads back
//     equal.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "http/json_body.h"
#include "http/request.h"
#include "server/http_util.h"

using lote::fuzz::FuzzCheck;
using nlohmann::json;
namespace http = lote::http;

namespace {

// Levels of arrays and objects (a scalar is 0), without recursion: a valid
// document may nest as deep as the input is long.
int Depth(const json& root) {
  int deepest = 0;
  std::vector<std::pair<const json*, int>> todo = {{&root, 0}};
  while (!todo.empty()) {
    auto [j, d] = todo.back();
    todo.pop_back();
    if (!j->is_structured()) continue;
    deepest = std::max(deepest, d + 1);
    for (const auto& child : *j) todo.emplace_back(&child, d + 1);
  }
  return deepest;
}

bool IsClientError(const lote::Error& e) {
  return e.code() == lote::ErrorCode::kInvalidArgument || e.code() == lote::ErrorCode::kPayloadTooLarge;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const json reference = json::parse(text, nullptr, /*allow_exceptions=*/false);
    // nlohmann's lexer ends its input at a NUL byte; JSON text holds none.
    const bool valid = !reference.is_discarded() && text.find('\0') == std::string_view::npos;
    const int depth = valid ? Depth(reference) : -1;

    auto parsed = http::ParseJson(text);
    if (parsed) {
      FuzzCheck(valid, "ParseJson accepts what json::parse refuses");
      FuzzCheck(depth <= http::kMaxJsonDepth, "ParseJson accepts a document " + std::to_string(depth) + " deep");
      FuzzCheck(*parsed == reference, "ParseJson and json::parse read different values");
      const std::string printed = parsed->dump();
      FuzzCheck(json::parse(printed) == *parsed, "an accepted body does not read back equal");
    } else {
      FuzzCheck(parsed.error().code() == lote::ErrorCode::kInvalidArgument,
                "ParseJson: not InvalidArgument: " + parsed.error().message());
      FuzzCheck(!valid || depth > http::kMaxJsonDepth,
                "ParseJson refuses valid JSON " + std::to_string(depth) + " deep: " + parsed.error().message());
    }
    if (valid) {
      FuzzCheck(http::CheckJsonNesting(text, depth).has_value(),
                "CheckJsonNesting refuses valid JSON at its own depth " + std::to_string(depth));
      FuzzCheck(depth == 0 || !http::CheckJsonNesting(text, depth - 1).has_value(),
                "CheckJsonNesting accepts valid JSON " + std::to_string(depth) + " deep with a limit of " +
                    std::to_string(depth - 1));
    }

    http::Request req;
    req.method = "POST";
    req.body = std::string(text);
    auto body = lote::server::ParseJsonBody(req);
    if (body) {
      FuzzCheck(parsed && parsed->is_object() && *body == *parsed, "ParseJsonBody accepts what ParseJson does not");
    } else {
      FuzzCheck(IsClientError(body.error()), "ParseJsonBody: not a client error: " + body.error().message());
      FuzzCheck(!parsed || !parsed->is_object() || text.empty(),
                "ParseJsonBody refuses an object: " + body.error().message());
    }
  } catch (const std::exception& e) {
    FuzzCheck(false, std::string("an exception escapes: ") + e.what());
  }
  return 0;
}
