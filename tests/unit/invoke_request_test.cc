#include "jobs/invoke_request.h"

#include <gtest/gtest.h>

namespace lote::jobs {
namespace {

using nlohmann::json;

TEST(InvokeRequestTest, Azure2020DataUrlWithOutput) {
  json body = json::parse(R"({"properties": {"dataset": {"dataInputType": "DataUrl",
      "Path": "https://host/data/taxi.csv"}, "outputDataset": {"datastoreId":
      "/subscriptions/x/resourceGroups/y/providers/Microsoft.MachineLearningServices/workspaces/w/datastores/mystore",
      "path": "out/dir"}, "outputFileName": "p.csv"}})");
  auto r = ParseInvokeRequest(body);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r)["input"], json({{"uri", "https://host/data/taxi.csv"}}));
  EXPECT_EQ((*r)["output"], json({{"datastore", "mystore"}, {"path", "out/dir"}, {"file_name", "p.csv"}}));
}

TEST(InvokeRequestTest, Azure2020DatasetVersion) {
  auto r = ParseInvokeRequest(json::parse(
      R"({"properties": {"dataset": {"dataInputType": "DatasetVersion", "datasetName": "taxi", "datasetVersion": 2}}})"));
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["input"]["data"], "azureml:taxi:2");
}

TEST(InvokeRequestTest, Azure2022InputDataOutputData) {
  auto r = ParseInvokeRequest(json::parse(R"({"properties": {
      "InputData": {"mnistinput": {"JobInputType": "UriFolder", "Uri": "azureml://datastores/workspaceblobstore/paths/mnist"}},
      "OutputData": {"score": {"JobOutputType": "UriFile", "Uri": "azureml://datastores/workspaceblobstore/paths/out/x/preds.csv"}}}})"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r)["input"], json({{"datastore", "workspaceblobstore"}, {"path", "mnist"}}));
  EXPECT_EQ((*r)["output"], json({{"datastore", "workspaceblobstore"}, {"path", "out/x"}, {"file_name", "preds.csv"}}));
}

TEST(InvokeRequestTest, LoteShapeAndErrors) {
  auto ok = ParseInvokeRequest(json::parse(R"({"input": {"data": "azureml:taxi:1"}, "set": {"mini_batch_size": 3}})"));
  ASSERT_TRUE(ok);
  auto two = ParseInvokeRequest(json::parse(R"({"input": {"data": "azureml:a:1", "uri": "https://x"}})"));
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().field(), "input");
  auto unknown = ParseInvokeRequest(json::parse(R"({"inputs": {}})"));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("unknown invoke key 'inputs'"), std::string::npos);
  auto bad_uri = ParseInvokeRequest(json::parse(R"({"input": {"uri": "ftp://x/y"}})"));
  ASSERT_FALSE(bad_uri);
  EXPECT_EQ(bad_uri.error().field(), "input.uri");
  auto bad_type = ParseInvokeRequest(json::parse(R"({"properties": {"dataset": {"dataInputType": "Weird"}}})"));
  ASSERT_FALSE(bad_type);
  EXPECT_EQ(bad_type.error().field(), "properties.dataset.dataInputType");
}

TEST(InvokeRequestTest, OverridesMapOntoTheDeploymentAndRefuseOthers) {
  json dep = {{"retry_settings", {{"max_retries", 3}, {"timeout", 30}}}, {"compute", {{"instance_count", 1}}}};
  auto r = ApplyOverrides(dep, {{"retry_settings.max_retries", 1}, {"instance_count", 2}, {"timeout", 5}});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["retry_settings"]["max_retries"], 1);
  EXPECT_EQ((*r)["retry_settings"]["timeout"], 5);
  EXPECT_EQ((*r)["compute"]["instance_count"], 2);
  auto bad = ApplyOverrides(dep, {{"model", "azureml:x:1"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field(), "set.model");
}


// Every field the job builder reads as a string is checked here, so a wrong
// type is a 400 naming the field and never an exception further down.
TEST(InvokeRequestTest, WrongTypesAreRefusedNamingTheField) {
  struct Case {
    const char* body;
    const char* field;
  };
  for (const auto& c : std::vector<Case>{
           {R"({"input": {"datastore": 1, "path": "x"}})", "input.datastore"},
           {R"({"input": {"datastore": "ds", "path": ["x"]}})", "input.path"},
           {R"({"input": {"datastore": "ds", "path": null}})", "input.path"},
           {R"({"input": {"uri": 5}})", "input.uri"},
           {R"({"input": {"uri": {"a": 1}}})", "input.uri"},
           {R"({"input": {"data": true}})", "input.data"},
           {R"({"input": {"data": "azureml:x:1", "path": "p"}})", "input.path"},
           {R"({"input": {"uri": "https://h/x.csv"}, "output": {"datastore": 1}})", "output.datastore"},
           {R"({"input": {"uri": "https://h/x.csv"}, "output": {"path": {}}})", "output.path"},
           {R"({"input": {"uri": "https://h/x.csv"}, "output": {"file_name": 2.5}})", "output.file_name"},
           {R"({"input": {"uri": "https://h/x.csv"}, "output": {"where": "x"}})", "output.where"},
           {R"({"input": {"uri": "https://h/x.csv"}, "output": []})", "output"},
           {R"({"input": {"uri": "https://h/x.csv"}, "deployment": 7})", "deployment"},
           {R"({"input": {"uri": "https://h/x.csv"}, "deployment": ["blue"]})", "deployment"},
           {R"({"input": {"uri": "https://h/x.csv"}, "set": "mini_batch_size=1"})", "set"},
           {R"({"input": [1]})", "input"},
           {R"({"properties": []})", "properties"},
       }) {
    auto r = ParseInvokeRequest(json::parse(c.body));
    ASSERT_FALSE(r) << c.body;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << c.body;
    EXPECT_EQ(r.error().field(), c.field) << c.body << ": " << r.error().message();
  }
  auto r = ParseInvokeRequest(json::parse(R"({"input": {"datastore": "ds", "path": 3}})"));
  EXPECT_EQ(r.error().message(), "input.path must be a string, not number");
}

TEST(InvokeRequestTest, DatastoreInputWithoutAPathIsTheRoot) {
  auto r = ParseInvokeRequest(json::parse(R"({"input": {"datastore": "ds"}, "deployment": "blue",
      "output": {"datastore": "o", "path": "p", "file_name": "f.csv"}})"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r)["input"], json({{"datastore", "ds"}}));
  EXPECT_EQ((*r)["deployment"], "blue");
}


TEST(InvokeRequestTest, NamesOverTheFilesystemLimitsAreRefused) {
  std::string long_name(300, 'a');
  json body = {{"input", {{"datastore", "ds"}, {"path", "dir/" + long_name}}}};
  auto r = ParseInvokeRequest(body);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field(), "input.path");
  EXPECT_EQ(r.error().message(), "input.path has a name of 300 bytes, over the limit of 255 (NAME_MAX)");
  body = {{"input", {{"datastore", "ds"}}}, {"output", {{"file_name", long_name}}}};
  EXPECT_EQ(ParseInvokeRequest(body).error().field(), "output.file_name");
  std::string deep;
  while (deep.size() < 5000) deep += "abcdefgh/";
  body = {{"input", {{"datastore", "ds"}}}, {"output", {{"path", deep}}}};
  r = ParseInvokeRequest(body);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("(PATH_MAX)"), std::string::npos);
  body = {{"properties", {{"dataset", {{"dataInputType", "DataUrl"}, {"Path", "https://h/x.csv"}}},
                          {"outputDataset", {{"datastoreId", "/x/ds"}, {"path", long_name}}}}}};
  EXPECT_EQ(ParseInvokeRequest(body).error().field(), "output.path");
  body = {{"input", {{"datastore", "ds"}, {"path", std::string(255, 'b')}}}};
  EXPECT_TRUE(ParseInvokeRequest(body));
}

}  // namespace
}  // namespace lote::jobs
