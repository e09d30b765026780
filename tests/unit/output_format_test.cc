#include "cli/output_format.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdint>
#include <string>

namespace lote::cli {
namespace {

using nlohmann::json;  // sorted keys, as documents come from the server

// Whether a plain scalar is a YAML 1.2 int or float (digits, sign, point, exponent).
bool LooksNumeric(const std::string& text) {
  const std::string_view body = text[0] == '+' ? std::string_view(text).substr(1) : text;
  if (body.empty() || body.find_first_not_of("0123456789-.eE+") != std::string_view::npos ||
      body.find_first_of("0123456789") == std::string_view::npos) {
    return false;
  }
  double value = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
  return ec == std::errc() && end == body.data() + body.size();
}

// Reads YAML back as a YAML 1.2 (core schema) reader would: a quoted scalar is
// a string; a plain one is null, a bool, an int or a float when it looks like
// one, else a string.
json FromYaml(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = FromYaml(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(FromYaml(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string text = node.Scalar();
      if (node.Tag() == "!") return text;  // quoted
      if (text == "null" || text == "~" || text.empty()) return nullptr;
      if (text == "true" || text == "false") return text == "true";
      if (LooksNumeric(text)) return json::parse(text[0] == '+' ? text.substr(1) : text);
      return text;
    }
    default: return nullptr;
  }
}

json YamlRoundTrip(const json& value) {
  return FromYaml(YAML::Load(FormatOutput(value, OutputFormat::kYaml)));
}

// ---------------------------------------------------------------- names

TEST(OutputFormatTest, ParsesNames) {
  EXPECT_EQ(ParseOutputFormat("json"), OutputFormat::kJson);
  EXPECT_EQ(ParseOutputFormat("jsonc"), OutputFormat::kJson);
  EXPECT_EQ(ParseOutputFormat("yaml"), OutputFormat::kYaml);
  EXPECT_EQ(ParseOutputFormat("yamlc"), OutputFormat::kYaml);
  EXPECT_EQ(ParseOutputFormat("tsv"), OutputFormat::kTsv);
  EXPECT_EQ(ParseOutputFormat("table"), OutputFormat::kTable);
}

TEST(OutputFormatTest, UnknownNameListsValidOnes) {
  for (std::string_view name : {"xml", "", "JSON", "json "}) {
    Result<OutputFormat> format = ParseOutputFormat(name);
    ASSERT_FALSE(format.has_value()) << name;
    EXPECT_EQ(format.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(format.error().message().find("'" + std::string(name) + "'"), std::string::npos);
    EXPECT_NE(format.error().message().find("json, jsonc, yaml, yamlc, table, tsv"),
              std::string::npos)
        << format.error().message();
  }
}

TEST(OutputFormatTest, NullPrintsNothingInEveryFormat) {
  for (OutputFormat format :
       {OutputFormat::kJson, OutputFormat::kYaml, OutputFormat::kTsv, OutputFormat::kTable}) {
    EXPECT_EQ(FormatOutput(nullptr, format), "");
  }
}

// ---------------------------------------------------------------- json

TEST(OutputFormatTest, JsonIsPrettyPrinted) {
  const json doc =
      json::parse(R"({"name": "blue", "count": 3, "ratio": 0.5, "tags": ["a"], "none": null})");
  EXPECT_EQ(FormatOutput(doc, OutputFormat::kJson),
            "{\n"
            "  \"count\": 3,\n"
            "  \"name\": \"blue\",\n"
            "  \"none\": null,\n"
            "  \"ratio\": 0.5,\n"
            "  \"tags\": [\n"
            "    \"a\"\n"
            "  ]\n"
            "}\n");
}

TEST(OutputFormatTest, JsonScalarsAndEmptyContainers) {
  EXPECT_EQ(FormatOutput("http://x/jobs", OutputFormat::kJson), "\"http://x/jobs\"\n");
  EXPECT_EQ(FormatOutput(42, OutputFormat::kJson), "42\n");
  EXPECT_EQ(FormatOutput(false, OutputFormat::kJson), "false\n");
  EXPECT_EQ(FormatOutput(json::array(), OutputFormat::kJson), "[]\n");
  EXPECT_EQ(FormatOutput(json::object(), OutputFormat::kJson), "{}\n");
}

TEST(OutputFormatTest, JsonKeepsUnicodeAndSurvivesInvalidUtf8) {
  EXPECT_EQ(FormatOutput(json{{"d", "modèle 日本語 🚀"}}, OutputFormat::kJson),
            "{\n  \"d\": \"modèle 日本語 🚀\"\n}\n");
  // Invalid UTF-8 (from a server bug, say) is replaced, not thrown on.
  EXPECT_EQ(FormatOutput(std::string("a\xff"), OutputFormat::kJson), "\"a\xEF\xBF\xBD\"\n");
}

TEST(OutputFormatTest, JsonNumbersKeepTheirForm) {
  const json doc = json::parse(R"([1, 0.5, 0.1, -7, 1.0, 12345678901234, 18446744073709551615])");
  EXPECT_EQ(
      FormatOutput(doc, OutputFormat::kJson),
      "[\n  1,\n  0.5,\n  0.1,\n  -7,\n  1.0,\n  12345678901234,\n  18446744073709551615\n]\n");
}

// ---------------------------------------------------------------- yaml

TEST(OutputFormatTest, YamlIsBlockStyle) {
  const json doc = json::parse(R"({
    "name": "blue", "count": 3, "ratio": 0.5, "enabled": true, "none": null,
    "tags": ["a", "b"], "compute": {"target": "azureml:cpu-cluster", "instance_count": 1},
    "empty_list": [], "empty_map": {}})");
  EXPECT_EQ(FormatOutput(doc, OutputFormat::kYaml),
            "compute:\n"
            "  instance_count: 1\n"
            "  target: azureml:cpu-cluster\n"
            "count: 3\n"
            "empty_list: []\n"
            "empty_map: {}\n"
            "enabled: true\n"
            "name: blue\n"
            "none: null\n"
            "ratio: 0.5\n"
            "tags:\n"
            "  - a\n"
            "  - b\n");
}

TEST(OutputFormatTest, YamlListOfObjects) {
  const json doc = json::parse(R"([{"name": "blue", "count": 1}, {"name": "green", "count": 2}])");
  EXPECT_EQ(FormatOutput(doc, OutputFormat::kYaml),
            "- count: 1\n"
            "  name: blue\n"
            "- count: 2\n"
            "  name: green\n");
}

TEST(OutputFormatTest, YamlScalars) {
  EXPECT_EQ(FormatOutput("hello", OutputFormat::kYaml), "hello\n");
  EXPECT_EQ(FormatOutput(7, OutputFormat::kYaml), "7\n");
  EXPECT_EQ(FormatOutput(0.1, OutputFormat::kYaml), "0.1\n");
  EXPECT_EQ(FormatOutput(json::array(), OutputFormat::kYaml), "[]\n");
}

TEST(OutputFormatTest, YamlQuotesStringsThatLookLikeOtherTypes) {
  for (const char* s : {"123",  "0.5",   "-5",  "+1", ".5",   "1e3",   "0x1F", "2024-01-01",
                        "true", "False", "yes", "No", "on",   "OFF",   "y",    "n",
                        "null", "Null",  "~",   "",   ".inf", "-.Inf", ".NaN"}) {
    const std::string text = FormatOutput(json{{"v", s}}, OutputFormat::kYaml);
    EXPECT_EQ(text, "v: \"" + std::string(s) + "\"\n");
  }
  // Keys too.
  EXPECT_EQ(FormatOutput(json{{"1", "a"}, {"true", "b"}}, OutputFormat::kYaml),
            "\"1\": a\n\"true\": b\n");
  // Ordinary strings stay plain.
  EXPECT_EQ(FormatOutput(json{{"v", "azureml:autolog:1"}}, OutputFormat::kYaml),
            "v: azureml:autolog:1\n");
  EXPECT_EQ(FormatOutput(json{{"v", "v1.0"}}, OutputFormat::kYaml), "v: v1.0\n");
}

TEST(OutputFormatTest, YamlReadsBackTheSameData) {
  const json doc = json::parse(R"({
    "strings": ["123", "0.5", "true", "null", "", " padded ", "a: b", "#hash", "- dash",
                "line1\nline2", "tab\there", "quote\"s", "it's", "[x]", "{y}", "*star", "&amp",
                "!bang", "%pct", "@at", "`tick", "|pipe", ">gt", "?q", "日本語", "modèle 🚀"],
    "numbers": [0, 1, -1, 0.5, 0.1, 1.5e300, -2.25, 12345678901234],
    "bools": [true, false],
    "nothing": null,
    "nested": {"a": {"b": [{"c": []}, {}]}},
    "weird keys": {"": 1, "a b": 2, "123": 3, "yes": 4, "x: y": 5}
  })");
  EXPECT_EQ(YamlRoundTrip(doc), doc) << FormatOutput(doc, OutputFormat::kYaml);
}

TEST(OutputFormatTest, YamlKeepsUnicode) {
  EXPECT_EQ(FormatOutput(json{{"d", "modèle 日本語"}}, OutputFormat::kYaml), "d: modèle 日本語\n");
}

// ---------------------------------------------------------------- tsv

TEST(OutputFormatTest, TsvScalarsAreBare) {
  EXPECT_EQ(FormatOutput("http://127.0.0.1:8070/jobs", OutputFormat::kTsv),
            "http://127.0.0.1:8070/jobs\n");
  EXPECT_EQ(FormatOutput("with \"quotes\"", OutputFormat::kTsv), "with \"quotes\"\n");
  EXPECT_EQ(FormatOutput(42, OutputFormat::kTsv), "42\n");
  EXPECT_EQ(FormatOutput(0.5, OutputFormat::kTsv), "0.5\n");
  EXPECT_EQ(FormatOutput(-1, OutputFormat::kTsv), "-1\n");
  EXPECT_EQ(FormatOutput(true, OutputFormat::kTsv), "true\n");
  EXPECT_EQ(FormatOutput(false, OutputFormat::kTsv), "false\n");
  EXPECT_EQ(FormatOutput("", OutputFormat::kTsv), "\n");
  EXPECT_EQ(FormatOutput("日本語", OutputFormat::kTsv), "日本語\n");
}

TEST(OutputFormatTest, TsvArrayOfScalarsIsOnePerLine) {
  EXPECT_EQ(FormatOutput(json::parse(R"(["blue", "green", 3, null, true])"), OutputFormat::kTsv),
            "blue\ngreen\n3\n\ntrue\n");
  EXPECT_EQ(FormatOutput(json::array(), OutputFormat::kTsv), "");
}

TEST(OutputFormatTest, TsvObjectIsOneLineOfScalarValues) {
  // Keys in json's order; nested objects and arrays skipped; null empty.
  const json doc =
      json::parse(R"({"a": "x", "b": 1, "c": {"d": 2}, "e": [1, 2], "f": null, "g": false})");
  EXPECT_EQ(FormatOutput(doc, OutputFormat::kTsv), "x\t1\t\tfalse\n");
  EXPECT_EQ(FormatOutput(json::object(), OutputFormat::kTsv), "\n");
  EXPECT_EQ(FormatOutput(json{{"only", {{"nested", 1}}}}, OutputFormat::kTsv), "\n");
}

TEST(OutputFormatTest, TsvArrayOfObjectsIsOneLinePerObject) {
  const json doc = json::parse(R"([
    {"name": "blue", "count": 10, "compute": {"instance_count": 2}},
    {"name": "green", "count": 5, "compute": {"instance_count": 1}}])");
  EXPECT_EQ(FormatOutput(doc, OutputFormat::kTsv), "10\tblue\n5\tgreen\n");
}

TEST(OutputFormatTest, TsvArrayOfArraysIsOneLinePerArray) {
  // What `--query "[].[name, location]" -o tsv` prints.
  const json doc = json::parse(R"([["blue", 1, 0.5], ["green", 2, [9]], ["canary", null, true]])");
  EXPECT_EQ(FormatOutput(doc, OutputFormat::kTsv), "blue\t1\t0.5\ngreen\t2\ncanary\t\ttrue\n");
}

// ---------------------------------------------------------------- table

TEST(OutputFormatTest, TableOfObjects) {
  const json doc = json::parse(R"([
    {"name": "blue", "model": "azureml:autolog:1", "mini_batch_size": 10},
    {"name": "canary-deployment", "model": "azureml:mnist:2", "mini_batch_size": 1}])");
  EXPECT_EQ(FormatOutput(doc, OutputFormat::kTable),
            "Mini_batch_size  Model              Name\n"
            "---------------  -----------------  -----------------\n"
            "             10  azureml:autolog:1  blue\n"
            "              1  azureml:mnist:2    canary-deployment\n");
}

TEST(OutputFormatTest, TableColumnsAreTheUnionOfScalarKeys) {
  // Nested values and nulls are left out; a missing cell is blank.
  const json doc = json::parse(R"([
    {"name": "blue", "compute": {"instance_count": 2}, "code": null},
    {"name": "green", "code": "score.py", "tags": ["x"]},
    {"zone": "b"}])");
  EXPECT_EQ(FormatOutput(doc, OutputFormat::kTable),
            "Name   Code      Zone\n"
            "-----  --------  ----\n"
            "blue\n"
            "green  score.py\n"
            "                 b\n");
}

TEST(OutputFormatTest, TableOfOneObject) {
  const json doc =
      json::parse(R"({"name": "mybatchedp", "auth_mode": "key", "traffic": {"blue": 100}})");
  EXPECT_EQ(FormatOutput(doc, OutputFormat::kTable),
            "Auth_mode  Name\n"
            "---------  ----------\n"
            "key        mybatchedp\n");
}

TEST(OutputFormatTest, TableOfScalarsIsOneColumn) {
  EXPECT_EQ(FormatOutput("blue", OutputFormat::kTable), "Result\n------\nblue\n");
  EXPECT_EQ(FormatOutput(json::parse(R"(["blue", "green-long"])"), OutputFormat::kTable),
            "Result\n----------\nblue\ngreen-long\n");
  EXPECT_EQ(FormatOutput(json::parse("[1, 250, 0.5]"), OutputFormat::kTable),
            "Result\n------\n     1\n   250\n   0.5\n");
  EXPECT_EQ(FormatOutput(true, OutputFormat::kTable), "Result\n------\ntrue\n");
}

TEST(OutputFormatTest, TableOfArraysNumbersColumns) {
  const json doc = json::parse(R"([["blue", 10], ["green", 5, "extra"]])");
  EXPECT_EQ(FormatOutput(doc, OutputFormat::kTable),
            "Column1  Column2  Column3\n"
            "-------  -------  -------\n"
            "blue          10\n"
            "green          5  extra\n");
}

TEST(OutputFormatTest, TableWithNothingToShowIsEmpty) {
  EXPECT_EQ(FormatOutput(json::array(), OutputFormat::kTable), "");
  EXPECT_EQ(FormatOutput(json::object(), OutputFormat::kTable), "");
  EXPECT_EQ(FormatOutput(json{{"nested", {{"a", 1}}}}, OutputFormat::kTable), "");
}

TEST(OutputFormatTest, TableAlignsUnicodeByCharacter) {
  const json doc = json::parse(R"([{"name": "modèle", "c": "x"}, {"name": "ab", "c": "y"}])");
  EXPECT_EQ(FormatOutput(doc, OutputFormat::kTable),
            "C  Name\n"
            "-  ------\n"
            "x  modèle\n"
            "y  ab\n");
}

TEST(OutputFormatTest, TableKeepsCellsOnOneLine) {
  EXPECT_EQ(FormatOutput(json{{"d", "two\nlines\tand tab"}}, OutputFormat::kTable),
            "D\n-----------------\ntwo lines and tab\n");
}

TEST(OutputFormatTest, TableMixesBoolsAndNumbersLeftAligned) {
  // A column is right-aligned only when every cell is a number.
  const json doc = json::parse(R"([{"v": 100}, {"v": true}])");
  EXPECT_EQ(FormatOutput(doc, OutputFormat::kTable), "V\n----\n100\ntrue\n");
}

}  // namespace
}  // namespace lote::cli
