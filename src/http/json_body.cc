#include "http/json_body.h"

#include <string>

namespace lote::http {

using nlohmann::json;

Status CheckJsonNesting(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is, cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) {
          return InvalidArgument("JSON body nests arrays and objects deeper than the limit of " +
                                 std::to_string(max_depth) + " levels (at byte " +
                                 std::to_string(i + 1) + ")");
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;  // an unbalanced close is the parser's to report
        break;
      default:
        break;
    }
  }
  return {};
}

namespace {

// Builds the DOM through nlohmann's own SAX builder (iterative), but keeps
// the position of a failure instead of throwing: the library reports a
// number overflow (1e400) as out_of_range without a byte, and we want one.
class PositionedDomBuilder {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit PositionedDomBuilder(json& out) : dom_(out, /*allow_exceptions=*/false) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(number_float_t v, const string_t& s) { return dom_.number_float(v, s); }
  bool string(string_t& v) { return dom_.string(v); }
  bool binary(binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) { return dom_.start_object(n); }
  bool key(string_t& v) { return dom_.key(v); }
  bool end_object() { return dom_.end_object(); }
  bool start_array(std::size_t n) { return dom_.start_array(n); }
  bool end_array() { return dom_.end_array(); }
  bool parse_error(std::size_t position, const std::string& /*token*/,
                   const nlohmann::detail::exception& ex) {
    failed_ = true;
    position_ = position;
    what_ = ex.what();
    return false;
  }

  bool failed() const { return failed_; }
  std::size_t position() const { return position_; }
  const std::string& what() const { return what_; }

 private:
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  bool failed_ = false;
  std::size_t position_ = 0;
  std::string what_;
};

}  // namespace

Result<json> ParseJson(std::string_view text, int max_depth) {
  LOTE_TRY(CheckJsonNesting(text, max_depth));
  // nlohmann's lexer ends its input at a NUL byte, which would let anything
  // follow a document; JSON text holds none (inside strings it is \u0000).
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return InvalidArgument("malformed JSON body at byte " + std::to_string(nul + 1) +
                           ": a NUL byte (JSON text holds none; write \\u0000 in a string)");
  }
  try {
    json out;
    PositionedDomBuilder builder(out);
    bool ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json,
                              /*strict=*/true);
    if (!ok || builder.failed()) {
      return InvalidArgument("malformed JSON body at byte " + std::to_string(builder.position()) +
                             ": " + builder.what());
    }
    return out;
  } catch (const json::exception& e) {  // not expected with allow_exceptions=false
    return InvalidArgument(std::string("malformed JSON body: ") + e.what());
  } catch (const std::exception& e) {  // e.g. out of memory: not the client's fault
    return Internal(std::string("cannot parse the JSON body: ") + e.what());
  }
}

}  // namespace lote::http
