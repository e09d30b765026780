#include "http/json_body.h"

#include <gtest/gtest.h>

namespace lote::http {
namespace {

TEST(JsonNestingTest, CountsBracketsOutsideStrings) {
  EXPECT_TRUE(CheckJsonNesting("[[[]]]", 3));
  EXPECT_FALSE(CheckJsonNesting("[[[[]]]]", 3));
  EXPECT_TRUE(CheckJsonNesting(R"({"a": "[[[[[[[[", "b": [1]})", 2));
  EXPECT_TRUE(CheckJsonNesting(R"(["\"[[[[", {"x": "\\"}])", 2));  // escapes do not end strings
  EXPECT_TRUE(CheckJsonNesting("[]]]]][[", 2));  // unbalanced: the parser's to report
}

TEST(JsonNestingTest, TheErrorNamesTheLimitAndTheByte) {
  auto st = CheckJsonNesting("{\"a\": [[[1]]]}", 3);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.error().message(),
            "JSON body nests arrays and objects deeper than the limit of 3 levels (at byte 9)");
}

TEST(JsonNestingTest, HundredThousandLevelsAreRefusedWithoutRecursion) {
  std::string deep(100000, '[');
  auto st = CheckJsonNesting(deep);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("limit of 64 levels"), std::string::npos);
  auto parsed = ParseJson(std::string(1 << 20, '['));
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument);
}

TEST(ParseJsonTest, AcceptsDocumentsUpToTheLimit) {
  std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(ParseJson(ok));
  std::string too_deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_FALSE(ParseJson(too_deep));
  auto j = ParseJson(R"({"a": [1, 2.5, "x", null, true], "b": {"c": -3}})");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["a"][1], 2.5);
  EXPECT_EQ((*j)["b"]["c"], -3);
}

TEST(ParseJsonTest, EveryFailureIsInvalidArgumentNamingTheByte) {
  struct Case {
    std::string text;
    std::string words;
  };
  for (const auto& c : std::vector<Case>{
           {R"({"x": 1e400})", "malformed JSON body at byte 11: "},  // overflow: out_of_range in nlohmann
           {R"({"x": -1e400})", "number overflow"},
           {R"({"name": )", "malformed JSON body at byte 10"},
           {R"({"a": 1,})", "malformed JSON body at byte 9"},
           {"not json", "malformed JSON body at byte 2"},
           {"{\"a\": \"\xff\"}", "malformed JSON body"},  // invalid UTF-8
           {"", "malformed JSON body at byte 1"},
           {"[1] [2]", "malformed JSON body"},
       }) {
    auto j = ParseJson(c.text);
    ASSERT_FALSE(j) << c.text;
    EXPECT_EQ(j.error().code(), ErrorCode::kInvalidArgument) << c.text;
    EXPECT_NE(j.error().message().find(c.words), std::string::npos) << c.text << " -> " << j.error().message();
  }
}

// Found by fuzz/json_body: nlohmann's lexer takes a NUL byte for the end of
// its input, so '{"a": 1}' followed by a NUL and anything at all was read as
// the object alone (a body other JSON parsers refuse). JSON text never holds
// a raw NUL: it is refused, naming the byte.
TEST(ParseJsonTest, ANulByteIsNotTheEndOfTheBody) {
  for (const std::string& text : {std::string("{\"a\": 1}\0garbage", 17), std::string("{\"a\": 1}\0", 9),
                                  std::string("\0", 1), std::string("{\"a\": \"x\0y\"}", 12)}) {
    auto j = ParseJson(text);
    ASSERT_FALSE(j) << "accepted: " << j->dump();
    EXPECT_EQ(j.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(j.error().message().find("NUL byte"), std::string::npos) << j.error().message();
  }
  EXPECT_NE(ParseJson(std::string("{\"a\": 1}\0", 9)).error().message().find("at byte 9"), std::string::npos);
  EXPECT_TRUE(ParseJson(R"({"a": "\u0000"})")) << "an escaped NUL is a character like any other";
}

}  // namespace
}  // namespace lote::http
