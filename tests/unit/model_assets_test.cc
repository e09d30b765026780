#include <gtest/gtest.h>

#include "model/specs.h"
#include "model_test_util.h"

namespace lote::model {
namespace {

using nlohmann::json;
using testing::Contains;
using testing::ErrorOf;
using testing::Yaml;

TEST(ModelComputeTest, SeedCommandAndDefaults) {
  // az ml compute create --name cpu-cluster --type amlcompute --min-instances 0 --max-instances 5
  auto c = NormalizeCompute(
      json{{"name", "cpu-cluster"}, {"type", "amlcompute"}, {"min_instances", 0}, {"max_instances", 5}});
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(*c, json({{"name", "cpu-cluster"}, {"type", "local"}, {"min_instances", 0},
                      {"max_instances", 5}, {"description", ""}, {"agent_access", "auto"}}));

  auto d = NormalizeCompute(json{{"name", "cpu-cluster"}});
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)["type"], "local");
  EXPECT_EQ((*d)["min_instances"], 0);
  EXPECT_EQ((*d)["max_instances"], 4);
  EXPECT_EQ((*NormalizeCompute(json{{"name", "c-1"}, {"min_instances", 6}}))["max_instances"], 6);
}

TEST(ModelComputeTest, YamlFileWithIgnoredAzureKeys) {
  auto c = NormalizeCompute(Yaml(R"($schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json
name: cpu-cluster
type: amlcompute
size: STANDARD_DS3_v2
location: westus
min_instances: 0
max_instances: 2
idle_time_before_scale_down: 120
)"));
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ((*c)["size"], "STANDARD_DS3_v2");  // recorded, as az shows it
  EXPECT_FALSE(c->contains("location"));
  EXPECT_EQ((*c)["max_instances"], 2);
}

TEST(ModelComputeTest, Errors) {
  EXPECT_EQ(ErrorOf(NormalizeCompute(json{{"name", "k8s"}, {"type", "kubernetes"}})).message(),
            "compute type 'kubernetes' is not supported yet (docs/compute.md)");
  EXPECT_EQ(ErrorOf(NormalizeCompute(json{{"name", "c-1"}, {"type", "gpu"}})).field(), "type");
  Error range = ErrorOf(
      NormalizeCompute(json{{"name", "c-1"}, {"min_instances", 3}, {"max_instances", 2}}));
  EXPECT_EQ(range.message(), "max_instances (2) must be >= min_instances (3)");
  EXPECT_EQ(range.field(), "max_instances");
  EXPECT_EQ(ErrorOf(NormalizeCompute(json{{"name", "c-1"}, {"max_instances", 0}})).message(),
            "max_instances must be >= 1, got 0");
  EXPECT_EQ(ErrorOf(NormalizeCompute(json{{"name", "c-1"}, {"min_instances", -1}})).field(),
            "min_instances");
  EXPECT_EQ(ErrorOf(NormalizeCompute(json{{"name", "c-1"}, {"max_instance", 3}})).message(),
            "unknown key 'max_instance' in compute (did you mean 'max_instances'?)");
  EXPECT_EQ(ErrorOf(NormalizeCompute(json{{"name", "c_1"}})).field(), "name");
  Error access = ErrorOf(NormalizeCompute(json{{"name", "c-1"}, {"agent_access", "sometimes"}}));
  EXPECT_EQ(access.field(), "agent_access");
  EXPECT_TRUE(Contains(access.message(), "expected auto, direct or remote")) << access.message();
}

TEST(ModelComputeTest, AgentAccessOverride) {
  auto c = NormalizeCompute(json{{"name", "c-1"}, {"agent_access", "Remote"}});
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ((*c)["agent_access"], "remote");
  EXPECT_EQ((*NormalizeCompute(json{{"name", "c-1"}}))["agent_access"], "auto");
}

TEST(ModelComputeTest, SlurmSettingsAreCheckedAndCanonical) {
  auto c = NormalizeCompute(Yaml(R"(name: hpc
type: slurm
max_instances: 8
partition: debug
account: ml-team
time_limit: "2:00:00"
sbatch_args: ["--gres=gpu:1", "--cpus-per-task=4"]
)"));
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ((*c)["type"], "slurm");
  EXPECT_EQ((*c)["partition"], "debug");
  EXPECT_EQ((*c)["account"], "ml-team");
  EXPECT_EQ((*c)["time_limit"], "2:00:00");
  EXPECT_EQ((*c)["sbatch_args"], json({"--gres=gpu:1", "--cpus-per-task=4"}));
  EXPECT_EQ((*c)["agent_binary"], "");
  // The stored form reads back as itself.
  EXPECT_EQ(*NormalizeCompute(*c), *c);
  auto bare = NormalizeCompute(json{{"name", "hpc"}, {"type", "slurm"}});
  ASSERT_TRUE(bare);
  EXPECT_EQ((*bare)["partition"], "");
  EXPECT_EQ((*bare)["sbatch_args"], json::array());
  for (const char* t : {"30", "30:00", "1:00:00", "2-0", "2-12:30", "1-00:00:00", "UNLIMITED"}) {
    EXPECT_TRUE(NormalizeCompute(json{{"name", "hpc"}, {"type", "slurm"}, {"time_limit", t}})) << t;
  }

  auto field_of = [](json body) {
    body["name"] = "hpc";
    body["type"] = "slurm";
    return ErrorOf(NormalizeCompute(body));
  };
  EXPECT_EQ(field_of({{"time_limit", "2 hours"}}).field(), "time_limit");
  EXPECT_EQ(field_of({{"time_limit", "1:2:3:4"}}).field(), "time_limit");
  EXPECT_EQ(field_of({{"partition", "a b"}}).field(), "partition");
  EXPECT_EQ(field_of({{"account", "x;rm -rf"}}).field(), "account");
  EXPECT_EQ(field_of({{"sbatch_args", json::array({"--gres=gpu:1", 3})}}).field(), "sbatch_args[1]");
  Error owned = field_of({{"sbatch_args", json::array({"--job-name=x"})}});
  EXPECT_EQ(owned.field(), "sbatch_args[0]");
  EXPECT_EQ(owned.message(), "sbatch argument '--job-name=x' is set by lote itself");
  EXPECT_EQ(field_of({{"sbatch_args", json::array({"-Jx"})}}).field(), "sbatch_args[0]");
  EXPECT_EQ(field_of({{"sbatch_args", json::array({"--wrap=rm"})}}).field(), "sbatch_args[0]");
  EXPECT_EQ(field_of({{"sbatch_args", json::array({"gres"})}}).field(), "sbatch_args[0]");
  EXPECT_EQ(field_of({{"sbatch_args", json::array({std::string("--x\ny")})}}).field(), "sbatch_args[0]");
  EXPECT_EQ(field_of({{"agent_binary", "lote"}}).field(), "agent_binary");
  // Slurm keys on a local compute are a mistake, not ignored.
  Error local = ErrorOf(NormalizeCompute(json{{"name", "cpu"}, {"partition", "debug"}}));
  EXPECT_EQ(local.field(), "partition");
  EXPECT_EQ(local.message(), "partition is only for a compute of type slurm");
}

TEST(ModelComputeTest, StoredFormIsAccepted) {
  json stored = {{"name", "cpu-cluster"}, {"type", "local"}, {"min_instances", 0},
                 {"max_instances", 5}, {"description", ""}, {"created_at", "2026-11-25T12:00:00Z"}};
  auto c = NormalizeCompute(stored);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->contains("created_at"));
}

TEST(ModelDatastoreTest, Forms) {
  auto d = NormalizeDatastore(json{{"name", "mystore"}, {"path", "/data/store"}});
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(*d, json({{"name", "mystore"}, {"type", "local"}, {"path", "/data/store"},
                      {"is_default", false}, {"mounted_on_nodes", false}, {"description", ""}}));
  auto nopath = NormalizeDatastore(json{{"name", "mystore"}});
  ASSERT_TRUE(nopath);
  EXPECT_FALSE(nopath->contains("path"));
  Error blob = ErrorOf(NormalizeDatastore(
      json{{"name", "blob"}, {"type", "azure_blob"}, {"account_name", "x"}}));
  EXPECT_EQ(blob.field(), "type");
  EXPECT_TRUE(Contains(blob.message(), "'azure_blob' is not supported")) << blob.message();
  EXPECT_EQ(ErrorOf(NormalizeDatastore(json{{"name", "s_1"}})).field(), "name");
  EXPECT_EQ(ErrorOf(NormalizeDatastore(json{{"name", "st1"}, {"is_default", "maybe"}})).field(),
            "is_default");
  auto mounted = NormalizeDatastore(json{{"name", "nfs"}, {"path", "/mnt/nfs"}, {"mounted_on_nodes", true}});
  ASSERT_TRUE(mounted) << mounted.error().message();
  EXPECT_EQ((*mounted)["mounted_on_nodes"], true);
  EXPECT_EQ(ErrorOf(NormalizeDatastore(json{{"name", "st1"}, {"mounted_on_nodes", "yes please"}})).field(),
            "mounted_on_nodes");
}

TEST(ModelAssetTest, Model) {
  auto m = NormalizeModel(Yaml("name: autolog\nversion: 1\nlocal_path: ./autolog\n"));
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(*m, json({{"name", "autolog"}, {"version", "1"}, {"description", ""},
                      {"local_path", "./autolog"}}));
  auto typed = NormalizeModel(json{{"name", "m"}, {"type", "MLflow_Model"}, {"version", 1.5}});
  ASSERT_TRUE(typed);
  EXPECT_EQ((*typed)["type"], "mlflow_model");
  EXPECT_EQ((*typed)["version"], "1.5");
  EXPECT_EQ(ErrorOf(NormalizeModel(json{{"name", "m"}, {"type", "onnx_model"}})).field(), "type");
  EXPECT_EQ((*NormalizeModel(json{{"name", "m"}, {"type", "triton_model"}}))["type"], "triton_model");
  EXPECT_EQ(ErrorOf(NormalizeModel(json{{"name", "m"}, {"version", "1:2"}})).field(), "version");

  // The canonical form read back from the server is valid input.
  json stored = {{"name", "autolog"}, {"version", "1"}, {"id", "azureml:autolog:1"},
                 {"type", "mlflow_model"}, {"description", ""},
                 {"path", "/home/.lote/models/autolog/1"}, {"files", 3}, {"bytes", 1234},
                 {"sha256", "ab"}, {"created_at", "x"}};
  auto back = NormalizeModel(stored);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, json({{"name", "autolog"}, {"version", "1"}, {"type", "mlflow_model"},
                         {"description", ""}}));
}

TEST(ModelAssetTest, DataAsset) {
  auto uri = NormalizeDataAsset(json{
      {"name", "taxi"}, {"version", 1},
      {"path", "azureml://datastores/workspaceblobstore/paths/LocalUpload/u1/data"}});
  ASSERT_TRUE(uri) << uri.error().message();
  // Without a type, none is stored: the server infers it from the path.
  EXPECT_EQ(*uri, json({{"name", "taxi"}, {"version", "1"}, {"description", ""},
                        {"path", "azureml://datastores/workspaceblobstore/paths/LocalUpload/u1/data"},
                        {"datastore", "workspaceblobstore"},
                        {"relative_path", "LocalUpload/u1/data"}}));

  auto ds = NormalizeDataAsset(json{{"name", "taxi"},
                                    {"datastore", "azureml:workspaceblobstore"},
                                    {"relative_path", "taxi/data"},
                                    {"type", "uri_file"}});
  ASSERT_TRUE(ds) << ds.error().message();
  EXPECT_EQ((*ds)["path"], "azureml://datastores/workspaceblobstore/paths/taxi/data");
  EXPECT_EQ((*ds)["type"], "uri_file");

  auto url = NormalizeDataAsset(json{{"name", "taxi"}, {"path", "https://example.com/t.csv"}});
  ASSERT_TRUE(url);
  EXPECT_EQ((*url)["path"], "https://example.com/t.csv");
  EXPECT_FALSE(url->contains("datastore"));

  auto local = NormalizeDataAsset(json{{"name", "taxi"}, {"path", "./data"}});
  ASSERT_TRUE(local);
  EXPECT_EQ((*local)["local_path"], "./data");
  EXPECT_FALSE(local->contains("path"));

  EXPECT_EQ(ErrorOf(NormalizeDataAsset(json{{"name", "taxi"}, {"datastore", "workspaceblobstore"},
                                            {"relative_path", "../etc"}}))
                .field(),
            "relative_path");
  EXPECT_FALSE(NormalizeDataAsset(json{{"name", "taxi"}}));
  EXPECT_EQ(ErrorOf(NormalizeDataAsset(json{{"name", "taxi"}, {"type", "mltable"},
                                            {"local_path", "x"}}))
                .field(),
            "type");
}

}  // namespace
}  // namespace lote::model
