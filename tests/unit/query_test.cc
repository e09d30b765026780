#include "cli/query.h"

#include "cli/output_format.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace lote::cli {
namespace {

using json = nlohmann::ordered_json;

// An endpoint as `lote endpoint show` returns it (docs/resources.md).
const json& Endpoint() {
  static const json doc = json::parse(R"({
    "name": "mybatchedp",
    "type": "batch",
    "auth_mode": "aad_token",
    "traffic": {"blue": 100, "green": 0},
    "scoring_uri": "http://127.0.0.1:8070/api/v1/endpoints/mybatchedp/jobs",
    "tags": {"my-key": "v1", "owner.team": "ml"},
    "deployments": [
      {"name": "blue", "model": "azureml:autolog:1", "mini_batch_size": 10,
       "compute": {"target": "azureml:cpu-cluster", "instance_count": 2},
       "retry_settings": {"max_retries": 3, "timeout": 30}, "error_threshold": -1},
      {"name": "green", "model": "azureml:mnist:2", "mini_batch_size": 5,
       "compute": {"target": "azureml:gpu-cluster", "instance_count": 1},
       "retry_settings": {"max_retries": 0, "timeout": 60.5}, "error_threshold": 10,
       "code_configuration": {"scoring_script": "score.py"}},
      {"name": "canary", "model": "azureml:mnist:3", "mini_batch_size": 1,
       "compute": {"target": "azureml:cpu-cluster", "instance_count": 1},
       "retry_settings": {"max_retries": 3, "timeout": 30}, "error_threshold": -1}
    ]
  })");
  return doc;
}

// Evaluates expr; a failure is reported and yields the string "<error>".
json Query(std::string_view expr, const json& doc = Endpoint()) {
  Result<json> result = EvaluateQuery(expr, doc);
  if (!result) {
    ADD_FAILURE() << "query \"" << expr << "\" failed: " << result.error().message();
    return "<error>";
  }
  return *result;
}

// The error of a query expected to fail.
Error QueryError(std::string_view expr) {
  Result<json> result = EvaluateQuery(expr, Endpoint());
  if (result) {
    ADD_FAILURE() << "query \"" << expr << "\" succeeded with " << result->dump();
    return Internal("no error");
  }
  return result.error();
}

TEST(QueryTest, Identifiers) {
  EXPECT_EQ(Query("name"), "mybatchedp");
  EXPECT_EQ(Query("traffic.blue"), 100);
  EXPECT_EQ(Query("deployments[0].compute.instance_count"), 2);
  EXPECT_EQ(Query("  name  "), "mybatchedp");
  EXPECT_EQ(Query("a_1.b2", json{{"a_1", {{"b2", true}}}}), true);
}

TEST(QueryTest, MissingKeysYieldNull) {
  EXPECT_EQ(Query("nope"), nullptr);
  EXPECT_EQ(Query("nope.deeper.still"), nullptr);
  EXPECT_EQ(Query("name.length"), nullptr);       // a field of a string
  EXPECT_EQ(Query("deployments.name"), nullptr);  // a field of an array
  EXPECT_EQ(Query("a", json(nullptr)), nullptr);
  EXPECT_EQ(Query("a", json(42)), nullptr);
}

TEST(QueryTest, QuotedIdentifiers) {
  EXPECT_EQ(Query(R"("name")"), "mybatchedp");
  EXPECT_EQ(Query(R"(tags."my-key")"), "v1");
  EXPECT_EQ(Query(R"(tags."owner.team")"), "ml");
  EXPECT_EQ(Query(R"("a\"b")", json{{"a\"b", 1}}), 1);
  EXPECT_EQ(Query(R"("\u00e9t\u00e9")", json{{"été", "summer"}}), "summer");
  EXPECT_EQ(Query(R"("été")", json{{"été", "summer"}}), "summer");
  EXPECT_EQ(Query(R"("")", json{{"", "empty"}}), "empty");
}

TEST(QueryTest, Indexes) {
  EXPECT_EQ(Query("deployments[0].name"), "blue");
  EXPECT_EQ(Query("deployments[2].name"), "canary");
  EXPECT_EQ(Query("deployments[-1].name"), "canary");
  EXPECT_EQ(Query("deployments[-3].name"), "blue");
  EXPECT_EQ(Query("deployments[3]"), nullptr);
  EXPECT_EQ(Query("deployments[-4]"), nullptr);
  EXPECT_EQ(Query("name[0]"), nullptr);  // not an array
  EXPECT_EQ(Query("[0]", json::array({"a", "b"})), "a");
  EXPECT_EQ(Query("[1][0]", json::parse("[[1, 2], [3, 4]]")), 3);
  EXPECT_EQ(Query("[0]", json::array()), nullptr);
  EXPECT_EQ(Query("[99999999999]", json::array({1})), nullptr);
}

TEST(QueryTest, Slices) {
  const json list = json::array({0, 1, 2, 3, 4});
  EXPECT_EQ(Query("[1:3]", list), json::array({1, 2}));
  EXPECT_EQ(Query("[:2]", list), json::array({0, 1}));
  EXPECT_EQ(Query("[-2:]", list), json::array({3, 4}));
  EXPECT_EQ(Query("[::2]", list), json::array({0, 2, 4}));
  EXPECT_EQ(Query("[::-1]", list), json::array({4, 3, 2, 1, 0}));
  EXPECT_EQ(Query("[10:]", list), json::array());
  EXPECT_EQ(Query("[:100:9223372036854775807]", list), json::array({0}));
  EXPECT_EQ(Query("deployments[:2].name"), json::array({"blue", "green"}));
  EXPECT_EQ(Query("[1:]", json("string")), nullptr);
}

TEST(QueryTest, WildcardProjection) {
  EXPECT_EQ(Query("deployments[*].name"), json::array({"blue", "green", "canary"}));
  EXPECT_EQ(Query("deployments[*].compute.instance_count"), json::array({2, 1, 1}));
  // A projection drops the elements whose result is null.
  EXPECT_EQ(Query("deployments[*].code_configuration.scoring_script"), json::array({"score.py"}));
  EXPECT_EQ(Query("[*]", json::array({1, nullptr, 2})), json::array({1, 2}));
  EXPECT_EQ(Query("[*].a", json::parse(R"([{"a": 1}, {"b": 2}, "x", {"a": null}, {"a": 3}])")),
            json::array({1, 3}));
  EXPECT_EQ(Query("[*].a", json::array()), json::array());
  EXPECT_EQ(Query("name[*]"), nullptr);  // not an array
  EXPECT_EQ(Query("traffic[*]"), nullptr);
}

TEST(QueryTest, ProjectionAppliesFollowingIndexPerElement) {
  const json doc = json::parse(R"({"a": [{"b": [1, 2]}, {"b": [3, 4]}, {"b": []}]})");
  EXPECT_EQ(Query("a[*].b[0]", doc), json::array({1, 3}));
  // A pipe ends the projection: [0] then picks from the projected list.
  EXPECT_EQ(Query("a[*].b | [0]", doc), json::array({1, 2}));
  EXPECT_EQ(Query("a[*].b[*]", doc), json::parse("[[1, 2], [3, 4], []]"));
  EXPECT_EQ(Query("deployments[*].name | [-1]"), "canary");
}

TEST(QueryTest, Flatten) {
  const json nested = json::parse("[[1, 2], 3, [4, [5]], null]");
  // A flatten is a projection: null elements are dropped too.
  EXPECT_EQ(Query("[]", nested), json::parse("[1, 2, 3, 4, [5]]"));
  EXPECT_EQ(Query("[][]", nested), json::parse("[1, 2, 3, 4, 5]"));
  const json doc = json::parse(R"({"a": [{"b": [1, 2]}, {"b": [3]}, {"c": 1}]})");
  EXPECT_EQ(Query("a[].b[]", doc), json::array({1, 2, 3}));
  EXPECT_EQ(Query("a[*].b[]", doc), json::array({1, 2, 3}));
  EXPECT_EQ(Query("deployments[].name"), json::array({"blue", "green", "canary"}));
  EXPECT_EQ(Query("[]", json::array()), json::array());
  EXPECT_EQ(Query("name[]"), nullptr);
}

TEST(QueryTest, ValueProjection) {
  EXPECT_EQ(Query("traffic.*"), json::array({100, 0}));
  EXPECT_EQ(Query("*", json{{"a", 1}, {"b", nullptr}, {"c", 3}}), json::array({1, 3}));
  EXPECT_EQ(Query("*.x", json::parse(R"({"a": {"x": 1}, "b": {"y": 2}})")), json::array({1}));
  EXPECT_EQ(Query("deployments.*"), nullptr);  // not an object
  EXPECT_EQ(Query("traffic.* | [0]"), 100);
}

TEST(QueryTest, FilterWithRawStringLiterals) {
  EXPECT_EQ(Query("deployments[?name=='green'].model"), json::array({"azureml:mnist:2"}));
  EXPECT_EQ(Query("deployments[?name=='green'] | [0].model"), "azureml:mnist:2");
  EXPECT_EQ(Query("deployments[?name != 'green'].name"), json::array({"blue", "canary"}));
  EXPECT_EQ(Query("deployments[?name=='nope']"), json::array());
  EXPECT_EQ(Query("deployments[?compute.target=='azureml:cpu-cluster'].name"),
            json::array({"blue", "canary"}));
  EXPECT_EQ(Query(R"([?@=='it\'s'])", json::array({"it's", "its"})), json::array({"it's"}));
  EXPECT_EQ(Query("[?@=='日本']", json::array({"日本", "x"})), json::array({"日本"}));
  EXPECT_EQ(Query("name[?a=='b']"), nullptr);
}

TEST(QueryTest, FilterWithJsonLiteralsAndOrdering) {
  EXPECT_EQ(Query("deployments[?mini_batch_size > `5`].name"), json::array({"blue"}));
  EXPECT_EQ(Query("deployments[?mini_batch_size >= `5`].name"), json::array({"blue", "green"}));
  EXPECT_EQ(Query("deployments[?mini_batch_size < `5`].name"), json::array({"canary"}));
  EXPECT_EQ(Query("deployments[?mini_batch_size <= `5`].name"), json::array({"green", "canary"}));
  EXPECT_EQ(Query("deployments[?mini_batch_size == `10`].name"), json::array({"blue"}));
  EXPECT_EQ(Query("deployments[?retry_settings.timeout > `30.25`].name"), json::array({"green"}));
  EXPECT_EQ(Query("deployments[?error_threshold == `-1`].name"), json::array({"blue", "canary"}));
  EXPECT_EQ(Query("deployments[?code_configuration == `null`].name"),
            json::array({"blue", "canary"}));
  EXPECT_EQ(Query(R"([?@ == `{"a": [1, true]}`])", json::parse(R"([{"a": [1, true]}, {"a": 1}])")),
            json::parse(R"([{"a": [1, true]}])"));
  // An int equals the same float; a bool is not a number.
  EXPECT_EQ(Query("[?@ == `1.0`]", json::parse("[1, 2, true]")), json::array({1}));
  // Strings order as in jmespath.py (what az uses); mixed types compare null.
  EXPECT_EQ(Query("[?@ > 'b']", json::array({"a", "b", "c"})), json::array({"c"}));
  EXPECT_EQ(Query("[?@ > `1`]", json::parse(R"(["2", 2, true, null])")), json::array({2}));
  EXPECT_EQ(Query("a < b", json{{"a", "x"}, {"b", 1}}), nullptr);
}

TEST(QueryTest, FilterCompareToField) {
  const json doc =
      json::parse(R"([{"a": 1, "b": 1}, {"a": 1, "b": 2}, {"a": {"x": 3}, "b": {"x": 3}}])");
  EXPECT_EQ(Query("[?a==b]", doc),
            json::parse(R"([{"a": 1, "b": 1}, {"a": {"x": 3}, "b": {"x": 3}}])"));
  EXPECT_EQ(Query("[?a!=b].b", doc), json::array({2}));
  EXPECT_EQ(Query("[?a.x==b.x].b.x", doc), json::array({3}));
  EXPECT_EQ(Query("deployments[?retry_settings.max_retries > mini_batch_size].name"),
            json::array({"canary"}));
}

TEST(QueryTest, FilterBooleanOperators) {
  EXPECT_EQ(Query("deployments[?name=='blue' || name=='canary'].name"),
            json::array({"blue", "canary"}));
  EXPECT_EQ(Query("deployments[?compute.instance_count==`1` && mini_batch_size > `2`].name"),
            json::array({"green"}));
  EXPECT_EQ(Query("deployments[?!code_configuration].name"), json::array({"blue", "canary"}));
  EXPECT_EQ(Query("deployments[?code_configuration].name"), json::array({"green"}));
  EXPECT_EQ(Query("deployments[?!(name=='blue' || name=='green')].name"), json::array({"canary"}));
  // && binds tighter than ||.
  EXPECT_EQ(Query("deployments[?name=='blue' || name=='green' && mini_batch_size==`1`].name"),
            json::array({"blue"}));
  EXPECT_EQ(Query("deployments[?(name=='blue' || name=='green') && mini_batch_size==`5`].name"),
            json::array({"green"}));
}

TEST(QueryTest, Truthiness) {
  // Filters keep truthy results: every number (0 too) is true; null, false,
  // "", [] and {} are false.
  const json values = json::parse(R"([0, 1, "", "x", [], [0], {}, {"a": 1}, true, false, null])");
  EXPECT_EQ(Query("[?@]", values), json::parse(R"([0, 1, "x", [0], {"a": 1}, true])"));
  EXPECT_EQ(Query("a || b", json{{"a", ""}, {"b", "fallback"}}), "fallback");
  EXPECT_EQ(Query("a || b", json{{"a", "first"}, {"b", "fallback"}}), "first");
  EXPECT_EQ(Query("a && b", json{{"a", json::array()}, {"b", 1}}), json::array());
  EXPECT_EQ(Query("a && b", json{{"a", 0}, {"b", 1}}), 1);
  EXPECT_EQ(Query("!a", json{{"a", 0}}), false);
  EXPECT_EQ(Query("!missing"), true);
}

TEST(QueryTest, MultiSelectHash) {
  EXPECT_EQ(Query("{n: name, t: type}"), json({{"n", "mybatchedp"}, {"t", "batch"}}));
  EXPECT_EQ(Query("{n: name, missing: nope}"), json({{"n", "mybatchedp"}, {"missing", nullptr}}));
  EXPECT_EQ(Query(R"({"my key": name})"), json({{"my key", "mybatchedp"}}));
  EXPECT_EQ(
      Query("deployments[*].{n: name, c: compute.instance_count}"),
      json::parse(R"([{"n": "blue", "c": 2}, {"n": "green", "c": 1}, {"n": "canary", "c": 1}])"));
  EXPECT_EQ(Query("deployments[?name=='green'].{n: name, s: code_configuration.scoring_script}"),
            json::parse(R"([{"n": "green", "s": "score.py"}])"));
  EXPECT_EQ(Query("deployments[0].{retries: retry_settings.max_retries}"), json({{"retries", 3}}));
  EXPECT_EQ(Query("nope.{a: b}"), nullptr);  // a multiselect of null is null
}

TEST(QueryTest, MultiSelectList) {
  EXPECT_EQ(Query("[name, type]"), json::array({"mybatchedp", "batch"}));
  EXPECT_EQ(Query("[name, nope]"), json::array({"mybatchedp", nullptr}));
  EXPECT_EQ(Query("deployments[*].[name, mini_batch_size]"),
            json::parse(R"([["blue", 10], ["green", 5], ["canary", 1]])"));
  EXPECT_EQ(Query("deployments[].[name, compute.target][]"),
            json::parse(R"(["blue", "azureml:cpu-cluster", "green", "azureml:gpu-cluster",
                            "canary", "azureml:cpu-cluster"])"));
  EXPECT_EQ(Query("[[name], {t: type}]"), json::parse(R"([["mybatchedp"], {"t": "batch"}])"));
  EXPECT_EQ(Query("nope.[a]"), nullptr);
}

TEST(QueryTest, Pipes) {
  EXPECT_EQ(Query("deployments | [0] | name"), "blue");
  EXPECT_EQ(Query("deployments[*].name | [1]"), "green");
  EXPECT_EQ(Query("deployments[?mini_batch_size > `1`] | [-1].compute.target"),
            "azureml:gpu-cluster");
  EXPECT_EQ(Query("traffic | blue"), 100);
  EXPECT_EQ(Query("@"), Endpoint());
  EXPECT_EQ(Query("deployments[0] | @.name"), "blue");
}

TEST(QueryTest, Literals) {
  EXPECT_EQ(Query("'raw'"), "raw");
  EXPECT_EQ(Query(R"('back\\slash\n')"), "back\\slash\\n");
  EXPECT_EQ(Query("`[1, 2]`"), json::array({1, 2}));
  EXPECT_EQ(Query("`\"quoted\"`"), "quoted");
  EXPECT_EQ(Query("`a\\`b`"), "a`b");  // legacy bare-string literal with an escaped backtick
  EXPECT_EQ(Query("`true`"), true);
}

TEST(QueryTest, NumbersKeepTheirType) {
  const json doc = json::parse(
      R"({"i": 3, "f": 0.5, "big": 12345678901234, "neg": -7, "u": 18446744073709551615})");
  const json result = Query("[i, f, big, neg, u]", doc);
  ASSERT_TRUE(result.is_array());
  EXPECT_TRUE(result[0].is_number_integer());
  EXPECT_EQ(result[0].dump(), "3");
  EXPECT_TRUE(result[1].is_number_float());
  EXPECT_EQ(result[1].dump(), "0.5");
  EXPECT_EQ(result[2].dump(), "12345678901234");
  EXPECT_EQ(result[3].dump(), "-7");
  EXPECT_EQ(result[4].dump(), "18446744073709551615");
  EXPECT_EQ(Query("`0.5`").dump(), "0.5");
  EXPECT_EQ(Query("`100`").dump(), "100");
}

TEST(QueryTest, UnicodeValuesPassThrough) {
  const json doc = json::parse(R"({"desc": "modèle 日本語 🚀", "items": [{"n": "ü"}, {"n": "x"}]})");
  EXPECT_EQ(Query("desc", doc), "modèle 日本語 🚀");
  EXPECT_EQ(Query("items[?n=='ü'].n", doc), json::array({"ü"}));
}

TEST(QueryTest, EmptyContainers) {
  EXPECT_EQ(Query("a[*].b", json{{"a", json::array()}}), json::array());
  EXPECT_EQ(Query("a[0]", json{{"a", json::array()}}), nullptr);
  EXPECT_EQ(Query("a.*", json{{"a", json::object()}}), json::array());
  EXPECT_EQ(Query("a", json::object()), nullptr);
  EXPECT_EQ(Query("[?a]", json::array()), json::array());
}

// Syntax errors: InvalidArgument naming the expression and the 1-based character.
struct SyntaxErrorCase {
  std::string_view expr;
  std::string_view where;   // "character N"
  std::string_view detail;  // a fragment of the explanation
};

class QuerySyntaxErrorTest : public testing::TestWithParam<SyntaxErrorCase> {};

TEST_P(QuerySyntaxErrorTest, NamesExpressionAndPosition) {
  const SyntaxErrorCase& c = GetParam();
  const Error error = QueryError(c.expr);
  EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
  const std::string& message = error.message();
  EXPECT_NE(message.find("\"" + std::string(c.expr) + "\""), std::string::npos) << message;
  EXPECT_NE(message.find("syntax error at " + std::string(c.where) + ":"), std::string::npos)
      << message;
  EXPECT_NE(message.find(c.detail), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, QuerySyntaxErrorTest,
    testing::Values(SyntaxErrorCase{"", "character 1", "unexpected end of expression"},
                    SyntaxErrorCase{"a.", "character 3", "expected an identifier"},
                    SyntaxErrorCase{"a.]", "character 3", "found ']'"},
                    SyntaxErrorCase{"a[", "character 3", "end of expression"},
                    SyntaxErrorCase{"a[0", "character 4", "expected ']'"},
                    SyntaxErrorCase{"a[x]", "character 3", "expected a number, ':' or '*'"},
                    SyntaxErrorCase{"a[?b=='c'", "character 10", "']' to close the filter"},
                    SyntaxErrorCase{"a b", "character 3", "unexpected 'b'"},
                    SyntaxErrorCase{"a = 'b'", "character 3", "did you mean '=='"},
                    SyntaxErrorCase{"a.'b", "character 3", "unterminated raw string literal"},
                    SyntaxErrorCase{"\"abc", "character 1", "unterminated quoted identifier"},
                    SyntaxErrorCase{"`{bad json", "character 1", "unterminated JSON literal"},
                    SyntaxErrorCase{"a == `{\"a\": }`", "character 6", "invalid JSON literal"},
                    SyntaxErrorCase{"{a name}", "character 4", "expected ':' after key 'a'"},
                    SyntaxErrorCase{"{'a': name}", "character 2", "expected a key name"},
                    SyntaxErrorCase{"{a: b c: d}", "character 7", "expected ',' or '}'"},
                    SyntaxErrorCase{"[a b]", "character 4", "expected ',' or ']'"},
                    SyntaxErrorCase{"(a", "character 3", "expected ')'"},
                    SyntaxErrorCase{"a | ", "character 5", "unexpected end of expression"},
                    SyntaxErrorCase{"length(a)", "character 7", "function calls are not supported"},
                    SyntaxErrorCase{"a[?&b]", "character 4", "expression references"},
                    SyntaxErrorCase{"a # b", "character 3", "unexpected character '#'"},
                    SyntaxErrorCase{"été.a", "character 1", "unexpected character 'é'"},
                    SyntaxErrorCase{"\"été\" é", "character 7", "unexpected character 'é'"},
                    SyntaxErrorCase{"[1::0]", "character 5", "slice step cannot be 0"},
                    SyntaxErrorCase{"[1:2:3:4]", "character 7", "in slice"},
                    SyntaxErrorCase{"[99999999999999999999]", "character 2", "number out of range"},
                    SyntaxErrorCase{"a[*]*", "character 5", "unexpected '*'"},
                    SyntaxErrorCase{"a[*]b", "character 5", "unexpected 'b'"},
                    SyntaxErrorCase{"- 1", "character 1", "unexpected character '-'"}));

TEST(QueryTest, EveryPrefixParsesOrIsASyntaxError) {
  // Truncated input must never crash or yield another kind of error.
  for (std::string_view full :
       {R"(deployments[?name=='blue' && !(mini_batch_size > `5`)].{n: name, "c": compute.target})",
        R"([*].[a[-1], b[1:-1:2], c[], d.*, @ | [0]] | [?@ != `{"k": [1, "\u00e9"]}`])",
        R"("été"[?'it\'s' == "a-b" || x[0][1] >= `-3.5e2`].{"k": `"v"`})"}) {
    for (size_t n = 0; n <= full.size(); ++n) {
      Result<json> result = EvaluateQuery(full.substr(0, n), Endpoint());
      if (!result) {
        EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument) << full.substr(0, n);
      }
    }
  }
}

TEST(QueryTest, DeepNestingIsRefusedNotACrash) {
  const std::string parens = std::string(5000, '(') + "a" + std::string(5000, ')');
  EXPECT_NE(QueryError(parens).message().find("nests too deeply"), std::string::npos);
  std::string chain = "a";
  for (int i = 0; i < 5000; ++i) chain += ".a";
  EXPECT_NE(QueryError(chain).message().find("nests too deeply"), std::string::npos);
  // Reasonable depths are fine.
  EXPECT_EQ(Query("((((a))))", json{{"a", 1}}), 1);
  std::string twenty = "a";
  for (int i = 0; i < 20; ++i) twenty += ".a";
  EXPECT_EQ(Query(twenty), nullptr);
}

}  // namespace
}  // namespace lote::cli

namespace lote::cli {
namespace {

TEST(QueryTest, MultiselectHashKeepsTheQuerysKeyOrder) {
  json r = Query("{z: name, a: type, m: deployments[0].name}");
  ASSERT_TRUE(r.is_object());
  std::vector<std::string> keys;
  for (auto& [k, v] : r.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"z", "a", "m"}));
  EXPECT_EQ(FormatOutput(r, OutputFormat::kTsv), "mybatchedp\tbatch\tblue\n");
}

}  // namespace
}  // namespace lote::cli
