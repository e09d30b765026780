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


// The GA body as Azure's REST docs, the SDK's JSON (input_data) and the
// lower-camel serializers (inputData/jobInputType/uri) send it: one result.
TEST(InvokeRequestTest, GaBodiesInEverySpelling) {
  const json want = {{"input", {{"datastore", "workspaceblobstore"}, {"path", "heart"}}},
                     {"output", {{"datastore", "workspaceblobstore"}, {"path", "out/run1"}}}};
  for (const char* body : {
           R"({"properties": {"InputData": {"heart_data": {"JobInputType": "UriFolder",
               "Uri": "azureml://datastores/workspaceblobstore/paths/heart"}},
               "OutputData": {"score": {"JobOutputType": "UriFolder",
               "Uri": "azureml://datastores/workspaceblobstore/paths/out/run1"}}}})",
           R"({"properties": {"inputData": {"heart_data": {"jobInputType": "uri_folder",
               "uri": "azureml://datastores/workspaceblobstore/paths/heart", "mode": "ReadOnlyMount"}},
               "outputData": {"score": {"jobOutputType": "uri_folder",
               "uri": "azureml://datastores/workspaceblobstore/paths/out/run1/"}}}})",
           R"({"properties": {"input_data": {"heart_data": {"job_input_type": "UriFolder",
               "uri": "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w/datastores/workspaceblobstore/paths/heart"}},
               "output_data": {"score": {"job_output_type": "UriFolder",
               "uri": "azureml://subscriptions/s/resourcegroups/g/workspaces/w/datastores/workspaceblobstore/paths/out/run1"}}}})",
       }) {
    auto r = ParseInvokeRequest(json::parse(body));
    ASSERT_TRUE(r) << body << ": " << r.error().message();
    EXPECT_EQ(*r, want) << body;
  }
}

TEST(InvokeRequestTest, GaUriInEveryForm) {
  auto input_of = [](const std::string& type, const std::string& uri) {
    json body = {{"properties", {{"InputData", {{"in", {{"JobInputType", type}, {"Uri", uri}}}}}}}};
    return ParseInvokeRequest(body);
  };
  struct Case {
    std::string type, uri;
    json input;
  };
  for (const auto& c : std::vector<Case>{
           {"UriFolder", "azureml:heart-data@latest", {{"data", "azureml:heart-data@latest"}}},
           {"UriFolder", "azureml:heart-data:3", {{"data", "azureml:heart-data:3"}}},
           {"uri_folder", "azureml://datastores/ds/paths/a/b", {{"datastore", "ds"}, {"path", "a/b"}}},
           {"UriFolder", "https://h/data/mnist/sample", {{"uri", "https://h/data/mnist/sample/"}}},
           {"UriFolder", "https://h/data/mnist/sample/", {{"uri", "https://h/data/mnist/sample/"}}},
           {"UriFolder", "https://h/data/x?sv=1&sig=a/b", {{"uri", "https://h/data/x/?sv=1&sig=a/b"}}},
           {"UriFile", "https://h/data/x.csv", {{"uri", "https://h/data/x.csv"}}},
           {"uri_file", "http://h/x.csv", {{"uri", "http://h/x.csv"}}},
           {"UriFolder",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w/data/heart/versions/2",
            {{"data", "azureml:heart:2"}}},
           {"UriFolder", "azureml:/subscriptions/s/resourceGroups/g/workspaces/w/data/heart/versions/1",
            {{"data", "azureml:heart:1"}}},
       }) {
    auto r = input_of(c.type, c.uri);
    ASSERT_TRUE(r) << c.uri << ": " << r.error().message();
    EXPECT_EQ((*r)["input"], c.input) << c.uri;
  }
}

TEST(InvokeRequestTest, GaOutputFileAndSettings) {
  auto r = ParseInvokeRequest(json::parse(R"({"properties": {
      "InputData": {"in": {"JobInputType": "UriFile", "Uri": "https://h/x.csv"}},
      "OutputData": {"score": {"JobOutputType": "UriFolder", "Uri": "azureml://datastores/out/paths/p/q"}},
      "outputFileName": "scores.csv", "miniBatchSize": 4, "errorThreshold": -1, "loggingLevel": "debug",
      "retrySettings": {"maxRetries": 2, "timeout": "PT1M30S"}, "compute": {"instanceCount": 2},
      "properties": {"anything": "Azure sends"}, "tags": {}}})"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r)["output"], json({{"datastore", "out"}, {"path", "p/q"}, {"file_name", "scores.csv"}}));
  EXPECT_EQ((*r)["set"], json({{"mini_batch_size", 4}, {"error_threshold", -1}, {"logging_level", "debug"},
                               {"retry_settings.max_retries", 2}, {"retry_settings.timeout", 90},
                               {"instance_count", 2}}));
}

TEST(InvokeRequestTest, GaBadBodiesNameTheField) {
  struct Case {
    const char* body;
    const char* field;
    const char* says;
  };
  for (const auto& c : std::vector<Case>{
           {R"({"properties": {"InputData": {"in": {"JobInputType": "MLTable", "Uri": "azureml:t:1"}}}})",
            "properties.InputData.in.JobInputType", "'MLTable' is not supported"},
           {R"({"properties": {"InputData": {"in": {"JobInputType": "Literal", "Value": "append"}}}})",
            "properties.InputData.in.JobInputType", "'Literal' is not supported"},
           {R"({"properties": {"inputData": {"in": {"jobInputType": 3, "uri": "https://h/x"}}}})",
            "properties.inputData.in.jobInputType", "must be a string"},
           {R"({"properties": {"InputData": {"in": {"JobInputType": "UriFolder"}}}})",
            "properties.InputData.in.Uri", "has no Uri"},
           {R"({"properties": {"InputData": {"in": {"JobInputType": "UriFolder", "Uri": 5}}}})",
            "properties.InputData.in.Uri", "must be a string"},
           {R"({"properties": {"InputData": {"in": {"Uri": "ftp://h/x"}}}})",
            "properties.InputData.in.Uri", "must be an http(s) URL"},
           {R"({"properties": {"InputData": {"in": {"JobInputType": "UriFile", "Uri": "https://h/dir/"}}}})",
            "properties.InputData.in.Uri", "ends with '/'"},
           {R"({"properties": {"InputData": {"in": {"Uri": "azureml://datastores/ds/nopaths"}}}})",
            "properties.InputData.in.Uri", "names no datastore path"},
           {R"({"properties": {"InputData": {"in": {"Uri": "azureml://registries/r/data/x/versions/1"}}}})",
            "properties.InputData.in.Uri", "neither a datastore path"},
           {R"({"properties": {"InputData": {}}})", "properties.InputData", "exactly one named input"},
           {R"({"properties": {"InputData": {"a": {"Uri": "https://h/x"}, "b": {"Uri": "https://h/y"}}}})",
            "properties.InputData", "exactly one named input"},
           {R"({"properties": {"InputData": "https://h/x"}})", "properties.InputData", "exactly one named input"},
           {R"({"properties": {"InputData": {"in": "https://h/x"}}})", "properties.InputData.in", "must be an object"},
           {R"({"properties": {"InputData": {"in": {"Uri": "https://h/x"}},
                "OutputData": {"o": {"JobOutputType": "MLTable", "Uri": "azureml://datastores/d/paths/p"}}}})",
            "properties.OutputData.o.JobOutputType", "'MLTable' is not supported"},
           {R"({"properties": {"InputData": {"in": {"Uri": "https://h/x"}},
                "OutputData": {"o": {"Uri": "https://h/out"}}}})",
            "properties.OutputData.o.Uri", "not a datastore path"},
           {R"({"properties": {"InputData": {"in": {"Uri": "https://h/x"}},
                "OutputData": {"o": {"JobOutputType": "UriFile", "Uri": "azureml://datastores/d/paths/"}}}})",
            "properties.OutputData.o.Uri", "names no file"},
           {R"({"properties": {"InputData": {"in": {"Uri": "https://h/x"}}, "OutputData": [1]}})",
            "properties.OutputData", "at most one named output"},
           {R"({"properties": {"InputData": {"in": {"Uri": "https://h/x"}}, "miniBatchSize": "4"}})",
            "properties.miniBatchSize", "must be an integer"},
           {R"({"properties": {"InputData": {"in": {"Uri": "https://h/x"}}, "retrySettings": {"timeout": "30s"}}})",
            "properties.retrySettings.timeout", "ISO 8601"},
           {R"({"properties": {"InputData": {"in": {"Uri": "https://h/x"}}, "compute": 2}})",
            "properties.compute", "must be an object"},
           {R"({"properties": {"InputData": {"in": {"Uri": "https://h/x"}}, "outputFileName": 1}})",
            "properties.outputFileName", "must be a string"},
           {R"({"properties": {"InputData": {"in": {"Uri": "https://h/x"}},
                "OutputData": {"o": {"JobOutputType": "UriFile", "Uri": "azureml://datastores/d/paths/a.csv"}},
                "outputFileName": "b.csv"}})",
            "properties.outputFileName", "contradicts"},
           {R"({"properties": {"input_data": null}})", "properties", "must hold 'InputData'"},
           {R"({"Properties": {"dataset": {"dataInputType": "DataUrl", "Path": 7}}})",
            "Properties.dataset.Path", "must be a string"},
       }) {
    auto r = ParseInvokeRequest(json::parse(c.body));
    ASSERT_FALSE(r) << c.body;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << c.body;
    EXPECT_EQ(r.error().field(), c.field) << c.body << ": " << r.error().message();
    EXPECT_NE(r.error().message().find(c.says), std::string::npos) << c.body << ": " << r.error().message();
  }
}

// lote's own shape with what the GA CLI sends: a type beside the input, and
// --output-path azureml://datastores/<ds>/paths/<p> as output.path or
// output.uri: the datastore's folder, never a folder named "azureml:".
TEST(InvokeRequestTest, LoteShapeTakesTypesAndDatastoreUris) {
  auto r = ParseInvokeRequest(json::parse(R"({"input": {"uri": "https://h/data/mnist/sample", "type": "uri_folder"},
      "output": {"path": "azureml://datastores/outs/paths/run/1", "file_name": "p.csv"}})"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r)["input"], json({{"uri", "https://h/data/mnist/sample/"}}));
  EXPECT_EQ((*r)["output"], json({{"datastore", "outs"}, {"path", "run/1"}, {"file_name", "p.csv"}}));
  r = ParseInvokeRequest(json::parse(R"({"input": {"data": "azureml:d@latest", "type": "uri_file"},
      "output": {"uri": "azureml://datastores/outs/paths/run/2"}})"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r)["input"], json({{"data", "azureml:d@latest"}}));
  EXPECT_EQ((*r)["output"], json({{"datastore", "outs"}, {"path", "run/2"}}));
  r = ParseInvokeRequest(json::parse(R"({"input": {"datastore": "workspaceblobstore",
      "path": "azureml://datastores/workspaceblobstore/paths/in"},
      "output": {"datastore": "azureml:outs", "path": "azureml://datastores/outs/paths/p"}})"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r)["input"], json({{"datastore", "workspaceblobstore"}, {"path", "in"}}));
  EXPECT_EQ((*r)["output"], json({{"datastore", "outs"}, {"path", "p"}}));
  struct Case {
    const char* body;
    const char* field;
  };
  for (const auto& c : std::vector<Case>{
           {R"({"input": {"uri": "https://h/x", "type": "mltable"}})", "input.type"},
           {R"({"input": {"uri": "https://h/x", "type": 1}})", "input.type"},
           {R"({"input": {"uri": "https://h/x/", "type": "uri_file"}})", "input.uri"},
           {R"({"input": {"uri": "https://h/x"}, "output": {"uri": "https://h/out"}})", "output.uri"},
           {R"({"input": {"uri": "https://h/x"}, "output": {"uri": "azureml://datastores/a/paths/p", "path": "q"}})",
            "output.uri"},
           {R"({"input": {"uri": "https://h/x"}, "output": {"datastore": "b", "path": "azureml://datastores/a/paths/p"}})",
            "output.datastore"},
           {R"({"input": {"uri": "https://h/x"}, "output": {"path": "azureml://datastores/a/nopaths"}})", "output.path"},
       }) {
    auto bad = ParseInvokeRequest(json::parse(c.body));
    ASSERT_FALSE(bad) << c.body;
    EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument) << c.body;
    EXPECT_EQ(bad.error().field(), c.field) << c.body << ": " << bad.error().message();
  }
}

}  // namespace
}  // namespace lote::jobs
