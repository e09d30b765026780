#include "model/yaml_doc.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace lote::model {
namespace {

using nlohmann::json;

YamlDocument MustParse(std::string_view text) {
  auto doc = ParseYaml(text, "t.yml");
  EXPECT_TRUE(doc) << doc.error().message();
  return doc ? *doc : YamlDocument{};
}

TEST(YamlDocTest, PlainScalarsGetTypes) {
  auto doc = MustParse(
      "i: 5\nneg: -3\nplus: +7\nf: 1.5\nexp: 2e3\nhalf: .5\n"
      "t: true\nT: True\nF: FALSE\nyes_: yes\nno_: no\non_: on\n"
      "n1: ~\nn2: null\nn3:\ne: 1e\ninf: .inf\nhex: 0x1F\nbig: 99999999999999999999\n"
      "s: hello world\nver: 1.0.2\n");
  const json& v = doc.value;
  EXPECT_EQ(v["i"], json(5));
  EXPECT_TRUE(v["i"].is_number_integer());
  EXPECT_EQ(v["neg"], json(-3));
  EXPECT_EQ(v["plus"], json(7));
  EXPECT_TRUE(v["f"].is_number_float());
  EXPECT_DOUBLE_EQ(v["f"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(v["exp"].get<double>(), 2000.0);
  EXPECT_DOUBLE_EQ(v["half"].get<double>(), 0.5);
  EXPECT_EQ(v["t"], json(true));
  EXPECT_EQ(v["T"], json(true));
  EXPECT_EQ(v["F"], json(false));
  EXPECT_EQ(v["yes_"], json("yes"));
  EXPECT_EQ(v["no_"], json("no"));
  EXPECT_EQ(v["on_"], json("on"));
  EXPECT_TRUE(v["n1"].is_null());
  EXPECT_TRUE(v["n2"].is_null());
  EXPECT_TRUE(v["n3"].is_null());
  EXPECT_EQ(v["e"], json("1e"));
  EXPECT_EQ(v["inf"], json(".inf"));
  EXPECT_EQ(v["hex"], json("0x1F"));
  EXPECT_EQ(v["big"], json("99999999999999999999"));
  EXPECT_EQ(v["s"], json("hello world"));
  EXPECT_EQ(v["ver"], json("1.0.2"));
}

TEST(YamlDocTest, QuotedAndBlockScalarsStayStrings) {
  auto doc = MustParse("a: '5'\nb: \"true\"\nc: 'null'\nd: \"\"\ne: !!str 7\nf: |\n  12\n");
  EXPECT_EQ(doc.value["a"], json("5"));
  EXPECT_EQ(doc.value["b"], json("true"));
  EXPECT_EQ(doc.value["c"], json("null"));
  EXPECT_EQ(doc.value["d"], json(""));
  EXPECT_EQ(doc.value["e"], json("7"));
  EXPECT_EQ(doc.value["f"], json("12\n"));
}

TEST(YamlDocTest, ReadsJson) {
  auto doc = MustParse(R"({"name": "ep", "n": 3, "list": [1, "2", null], "ok": false})");
  EXPECT_EQ(doc.value, json::parse(R"({"name": "ep", "n": 3, "list": [1, "2", null], "ok": false})"));
}

TEST(YamlDocTest, LinesOfNestedPathsInListForm) {
  auto doc = MustParse(
      "name: ep\n"                      // 1
      "deployments:\n"                  // 2
      "  - name: a\n"                   // 3
      "    retry_settings:\n"           // 4
      "      max_retries: 3\n"          // 5
      "      timeout: 30\n"             // 6
      "  - name: b\n"                   // 7
      "    model: azureml:m:1\n");      // 8
  EXPECT_EQ(doc.LineOf(""), 1);
  EXPECT_EQ(doc.LineOf("name"), 1);
  EXPECT_EQ(doc.LineOf("deployments"), 2);
  EXPECT_EQ(doc.LineOf("deployments[0]"), 3);
  EXPECT_EQ(doc.LineOf("deployments[0].retry_settings"), 4);
  EXPECT_EQ(doc.LineOf("deployments[0].retry_settings.timeout"), 6);
  EXPECT_EQ(doc.LineOf("deployments[1].model"), 8);
  // Missing fields fall back to the nearest ancestor present.
  EXPECT_EQ(doc.LineOf("deployments[1].compute.target"), 7);
  EXPECT_EQ(doc.LineOf("deployments[0].retry_settings.nope"), 4);
  EXPECT_EQ(doc.LineOf("nothing.here"), 1);
}

TEST(YamlDocTest, LinesOfNestedPathsInMapForm) {
  auto doc = MustParse(
      "name: ep\n"                         // 1
      "traffic:\n"                         // 2
      "  blue: 100\n"                      // 3
      "deployments:\n"                     // 4
      "  blue:\n"                          // 5
      "    model:\n"                       // 6
      "      name: m\n"                    // 7
      "      local_path: ./m\n"            // 8
      "    compute:\n"                     // 9
      "      target: azureml:cpu\n");      // 10
  EXPECT_EQ(doc.LineOf("traffic.blue"), 3);
  EXPECT_EQ(doc.LineOf("deployments.blue"), 5);
  EXPECT_EQ(doc.LineOf("deployments.blue.model.local_path"), 8);
  EXPECT_EQ(doc.LineOf("deployments.blue.compute.target"), 10);
  EXPECT_EQ(doc.LineOf("deployments.blue.compute.instance_count"), 9);
}

TEST(YamlDocTest, DescribeFormatsFileLineField) {
  auto doc = MustParse("name: ep\nretry_settings:\n  timeout: 0\n");
  EXPECT_EQ(doc.Describe(InvalidArgument("must be > 0", "retry_settings.timeout")),
            "t.yml:3: retry_settings.timeout: must be > 0");
  EXPECT_EQ(doc.Describe(InvalidArgument("bad file")), "t.yml:1: bad file");
  YamlDocument bare;
  EXPECT_EQ(bare.Describe(InvalidArgument("oops", "x")), "x: oops");
}

TEST(YamlDocTest, SyntaxErrorNamesFileLineAndColumn) {
  auto doc = ParseYaml("name: ep\ntraffic:\n  a: 100\n  b: [1, 2\n", "ep.yml");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(doc.error().message().starts_with("ep.yml:5:1: ")) << doc.error().message();

  auto bad_indent = ParseYaml("a:\n  b: 1\n c: 2\n", "x.yml");
  ASSERT_FALSE(bad_indent);
  EXPECT_TRUE(bad_indent.error().message().starts_with("x.yml:3:")) << bad_indent.error().message();
}

TEST(YamlDocTest, DuplicateKeysAreRefused) {
  auto doc = ParseYaml("name: a\ndeployments:\n  - name: x\n    mini_batch_size: 1\n"
                       "    mini_batch_size: 2\n",
                       "d.yml");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(doc.error().message(), "d.yml:5: duplicate key 'mini_batch_size' (first at line 4)");
  EXPECT_EQ(doc.error().field(), "deployments[0].mini_batch_size");
}

TEST(YamlDocTest, MoreThanOneDocumentIsRefused) {
  auto doc = ParseYaml("a: 1\n---\nb: 2\n", "m.yml");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().message(),
            "m.yml:2: the file holds more than one YAML document; expected one");
  EXPECT_TRUE(ParseYaml("a: 1\n---\n", "m.yml"));  // a trailing separator is no document
}

// yaml-cpp 0.7's LoadAll loops forever on these (jbeder/yaml-cpp#1040).
TEST(YamlDocTest, StrayCommaIsASyntaxErrorNotAHang) {
  auto comma = ParseYaml(",", "c.yml");
  ASSERT_FALSE(comma);
  EXPECT_EQ(comma.error().message(), "c.yml:1:1: unexpected ','");
  auto key = ParseYaml(",ame: taxi\nversion: 1\n", "c.yml");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().message(), "c.yml:1:1: unexpected ','");
}

TEST(YamlDocTest, MergeKeys) {
  auto doc = MustParse(
      "common: &common\n"        // 1
      "  mini_batch_size: 5\n"   // 2
      "  logging_level: info\n"  // 3
      "blue:\n"                  // 4
      "  <<: *common\n"          // 5
      "  logging_level: debug\n" // 6
      "  name: blue\n");         // 7
  EXPECT_EQ(doc.value["blue"],
            json({{"mini_batch_size", 5}, {"logging_level", "debug"}, {"name", "blue"}}));
  EXPECT_EQ(doc.LineOf("blue.logging_level"), 6);
  EXPECT_EQ(doc.LineOf("blue.mini_batch_size"), 2);  // where the merged value is written
  EXPECT_FALSE(ParseYaml("a: &a [1]\nb:\n  <<: *a\n", "m.yml"));
}

TEST(YamlDocTest, InvalidUtf8IsRefused) {
  auto doc = ParseYaml("name: ep\ndescription: caf\xe9\n", "u.yml");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().message(), "u.yml:2: the file is not valid UTF-8 text");
  EXPECT_TRUE(ParseYaml("description: caf\xc3\xa9\n", "u.yml"));
  // yaml-cpp decodes "\_" (no-break space) to a raw Latin-1 byte; it must come out as UTF-8.
  auto nbsp = ParseYaml("a: \"x\\_y\\Nz\"\n", "u.yml");
  ASSERT_TRUE(nbsp);
  EXPECT_EQ(nbsp->value["a"], json("x\xc2\xa0y\xc2\x85z"));
  EXPECT_NO_THROW((void)nbsp->value.dump());
}

TEST(YamlDocTest, EmptyDocumentIsNull) {
  auto doc = MustParse("# only a comment\n");
  EXPECT_TRUE(doc.value.is_null());
}

TEST(YamlDocTest, AliasExpansionIsBounded) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'h'; ++c) {
    text += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) text += std::string(i ? ", *" : "*") + prev;
    text += "]\n";
    prev = c;
  }
  auto doc = ParseYaml(text, "bomb.yml");
  ASSERT_FALSE(doc);
  EXPECT_NE(doc.error().message().find("too large"), std::string::npos);
}

TEST(YamlDocTest, LoadYamlFileReportsMissingAndDirectory) {
  auto missing = LoadYamlFile("/nonexistent/lote/ep.yml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("/nonexistent/lote/ep.yml"), std::string::npos);

  auto dir = LoadYamlFile(std::filesystem::temp_directory_path());
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code(), ErrorCode::kIo);
}

TEST(YamlDocTest, LoadYamlFileReadsFile) {
  auto path = std::filesystem::temp_directory_path() /
              ("lote_yaml_doc_test_" + std::to_string(::getpid()) + ".yml");
  { std::ofstream(path) << "name: ep\nx:\n  y: 2\n"; }
  auto doc = LoadYamlFile(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(doc) << doc.error().message();
  EXPECT_EQ(doc->file, path.string());
  EXPECT_EQ(doc->value["x"]["y"], json(2));
  EXPECT_EQ(doc->LineOf("x.y"), 3);
}

TEST(YamlDocTest, FieldHelpers) {
  EXPECT_EQ(JoinField("", "a"), "a");
  EXPECT_EQ(JoinField("a", "b"), "a.b");
  EXPECT_EQ(JoinField("a", "[0]"), "a[0]");
  EXPECT_EQ(ParentField("a.b[2]"), "a.b");
  EXPECT_EQ(ParentField("a.b"), "a");
  EXPECT_EQ(ParentField("a"), "");
}

}  // namespace
}  // namespace lote::model
