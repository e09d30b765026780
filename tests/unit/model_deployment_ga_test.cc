// The GA (v2) batch deployment schema: `type: model`, `settings:`, `tags`,
// `endpoint_name`, as Azure's current samples write them.
#include <gtest/gtest.h>

#include "model/specs.h"
#include "model_test_util.h"

namespace lote::model {
namespace {

using nlohmann::json;
using testing::Contains;
using testing::ErrorOf;
using testing::Yaml;

// A deployment as in Azure's heart-classifier-mlflow sample.
constexpr std::string_view kGaDeployment = R"(
$schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
endpoint_name: heart-classifier-batch
name: classifier-xgboost-mlflow
description: A heart condition classifier based on XGBoost
type: model
tags:
  owner: ml-team
  stage: 2
model: azureml:heart-classifier-mlflow@latest
compute: azureml:batch-cluster
resources:
  instance_count: 2
settings:
  max_concurrency_per_instance: 2
  mini_batch_size: 2
  output_action: append_row
  output_file_name: predictions.csv
  retry_settings:
    max_retries: 3
    timeout: 300
  error_threshold: -1
  logging_level: info
  environment_variables:
    MY_VAR: "1"
)";

TEST(ModelDeploymentGaTest, SettingsBlockIsReadAsTheTopLevelKeys) {
  auto d = NormalizeDeployment(Yaml(kGaDeployment));
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ((*d)["name"], "classifier-xgboost-mlflow");
  EXPECT_EQ((*d)["model"], "azureml:heart-classifier-mlflow@latest");
  EXPECT_EQ((*d)["compute"], (json{{"target", "azureml:batch-cluster"}, {"instance_count", 2}}));
  EXPECT_EQ((*d)["max_concurrency_per_instance"], 2);
  EXPECT_EQ((*d)["mini_batch_size"], 2);
  EXPECT_EQ((*d)["retry_settings"], (json{{"max_retries", 3}, {"timeout", 300}}));
  EXPECT_EQ((*d)["error_threshold"], -1);
  EXPECT_EQ((*d)["environment_variables"], (json{{"MY_VAR", "1"}}));
  EXPECT_EQ((*d)["tags"], (json{{"owner", "ml-team"}, {"stage", "2"}}));
  EXPECT_FALSE(d->contains("settings"));
  // The canonical form (top-level keys) reads back to itself.
  auto again = NormalizeDeployment(*d);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(*again, *d);
}

TEST(ModelDeploymentGaTest, SameOutputAsThePreviewForm) {
  json ga = Yaml(kGaDeployment);
  json preview = ga;
  preview.erase("settings");
  preview.erase("type");
  for (auto& [k, v] : ga["settings"].items()) preview[k] = v;
  auto a = NormalizeDeployment(ga);
  auto b = NormalizeDeployment(preview);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
}

TEST(ModelDeploymentGaTest, ErrorsInSettingsNameTheirPath) {
  json d = Yaml(kGaDeployment);
  d["settings"]["mini_batch_size"] = "lots";
  Error e = ErrorOf(NormalizeDeployment(d));
  EXPECT_EQ(e.field(), "settings.mini_batch_size");

  d = Yaml(kGaDeployment);
  d["settings"]["retry_settings"]["timout"] = 5;
  e = ErrorOf(NormalizeDeployment(d));
  EXPECT_EQ(e.field(), "settings.retry_settings.timout");
  EXPECT_TRUE(Contains(e.message(), "did you mean 'timeout'")) << e.message();

  d = Yaml(kGaDeployment);
  d["settings"]["mini_batch_sise"] = 5;
  e = ErrorOf(NormalizeDeployment(d));
  EXPECT_EQ(e.field(), "settings.mini_batch_sise");
  EXPECT_TRUE(Contains(e.message(), "did you mean 'mini_batch_size'")) << e.message();

  d = Yaml(kGaDeployment);
  d["settings"]["model"] = "azureml:x:1";  // not a setting
  e = ErrorOf(NormalizeDeployment(d));
  EXPECT_EQ(e.field(), "settings.model");

  d = Yaml(kGaDeployment);
  d["settings"] = "fast";
  e = ErrorOf(NormalizeDeployment(d));
  EXPECT_EQ(e.field(), "settings");
}

TEST(ModelDeploymentGaTest, ASettingGivenTwiceIsRefused) {
  json d = Yaml(kGaDeployment);
  d["mini_batch_size"] = 5;
  Error e = ErrorOf(NormalizeDeployment(d));
  EXPECT_EQ(e.field(), "settings.mini_batch_size");
  EXPECT_TRUE(Contains(e.message(), "given twice")) << e.message();
}

TEST(ModelDeploymentGaTest, PipelineDeploymentsAreRefusedClearly) {
  json d = Yaml(kGaDeployment);
  d["type"] = "pipeline";
  Error e = ErrorOf(NormalizeDeployment(d));
  EXPECT_EQ(e.field(), "type");
  EXPECT_TRUE(Contains(e.message(), "pipeline component deployment")) << e.message();
  d["type"] = "Model";
  EXPECT_TRUE(NormalizeDeployment(d));
}

TEST(ModelDeploymentGaTest, TagsAreBounded) {
  json d = Yaml(kGaDeployment);
  d["tags"] = json::array({"a"});
  EXPECT_EQ(ErrorOf(NormalizeDeployment(d)).field(), "tags");
  d["tags"] = {{"k", {{"nested", 1}}}};
  EXPECT_EQ(ErrorOf(NormalizeDeployment(d)).field(), "tags.k");
  d["tags"] = {{"k", std::string(2000, 'x')}};
  EXPECT_EQ(ErrorOf(NormalizeDeployment(d)).field(), "tags.k");
  d["tags"] = json::object();
  for (int i = 0; i < 65; ++i) d["tags"]["t" + std::to_string(i)] = "v";
  EXPECT_EQ(ErrorOf(NormalizeDeployment(d)).field(), "tags");
}

TEST(ModelDeploymentGaTest, InlineModelAndEnvironmentAsAzureWritesThem) {
  json d = Yaml(R"(
name: custom
type: model
endpoint_name: ep
model:
  name: mnist-classifier-torch
  path: model
  type: custom_model
code_configuration:
  code: code
  scoring_script: batch_driver.py
environment:
  name: batch-torch-py38
  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest
  conda_file: environment/conda.yaml
compute: azureml:batch-cluster
)");
  auto n = NormalizeDeployment(d);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ((*n)["code_configuration"]["code"], "code");
  EXPECT_EQ((*n)["environment"]["image"], "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest");
  EXPECT_EQ((*n)["environment"]["conda_file"], "environment/conda.yaml");
}

}  // namespace
}  // namespace lote::model
