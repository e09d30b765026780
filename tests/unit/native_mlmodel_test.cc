#include <gtest/gtest.h>

#include <fstream>

#include "native/mlmodel.h"
#include "runtime_stub_worker.h"

namespace lote::native {
namespace {

namespace fs = std::filesystem;
using lote::testing::TempDir;

// The MLmodel of the seed's autolog taxi model (mlflow.sklearn.autolog).
constexpr char kAutologMlmodel[] = R"(artifact_path: model
flavors:
  python_function:
    env: conda.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    python_version: 3.7.10
  sklearn:
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 0.24.2
run_id: 3c5bbb25d0f14f3c9e9e3d3a2b5e4f1a
signature:
  inputs: '[{"name": "passengerCount", "type": "integer"}, {"name": "tripDistance",
    "type": "double"}, {"name": "hour_of_day", "type": "integer"}, {"name": "day_of_week",
    "type": "integer"}, {"name": "day_of_month", "type": "integer"}, {"name": "month_num",
    "type": "integer"}]'
  outputs: '[{"type": "double"}]'
utc_time_created: '2021-07-14 23:10:15.163285'
)";

constexpr char kOnnxMlmodel[] = R"(flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.13.1
  python_function:
    data: model.onnx
    loader_module: mlflow.onnx
)";

void Write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

TEST(NativeMlModelTest, ParsesTheSeedsAutologModel) {
  auto ml = ParseMlModel(kAutologMlmodel, "autolog/MLmodel");
  ASSERT_TRUE(ml) << ml.error().message();
  ASSERT_EQ(ml->flavors.size(), 2u);
  EXPECT_TRUE(ml->HasFlavor("python_function"));
  EXPECT_TRUE(ml->HasFlavor("sklearn"));
  EXPECT_EQ(ml->LoaderModule(), "mlflow.sklearn");
  EXPECT_EQ(ml->FlavorKey("sklearn", "serialization_format"), "cloudpickle");
  EXPECT_EQ(ml->FlavorKey("sklearn", "pickled_model"), "model.pkl");
  EXPECT_FALSE(ml->XgboostData());
  ASSERT_TRUE(ml->signature);
  const auto& in = ml->signature->inputs;
  ASSERT_EQ(in.size(), 6u);
  EXPECT_EQ(in[0].name, "passengerCount");
  EXPECT_EQ(in[0].type, "integer");
  EXPECT_EQ(in[1].name, "tripDistance");
  EXPECT_EQ(in[1].type, "double");
  EXPECT_EQ(in[5].name, "month_num");
  EXPECT_TRUE(ml->signature->HasNamedInputs());
  ASSERT_EQ(ml->signature->outputs.size(), 1u);
  EXPECT_EQ(ml->signature->outputs[0].name, "");
  EXPECT_EQ(ml->signature->outputs[0].type, "double");
}

TEST(NativeMlModelTest, DetectsTheAutologFolderAsSklearn) {
  TempDir dir;
  Write(dir.path() / "MLmodel", kAutologMlmodel);
  Write(dir.path() / "model.pkl", "pickle");
  auto kind = DetectModel(dir.path(), "");
  ASSERT_TRUE(kind) << kind.error().message();
  EXPECT_EQ(kind->kind, "mlflow_sklearn");
  EXPECT_EQ(kind->model_file, dir.path() / "model.pkl");
  ASSERT_TRUE(kind->signature);
  EXPECT_EQ(kind->signature->inputs.size(), 6u);
  // The declared type gives the same answer.
  auto declared = DetectModel(dir.path(), "mlflow_model");
  ASSERT_TRUE(declared);
  EXPECT_EQ(declared->kind, "mlflow_sklearn");
}

TEST(NativeMlModelTest, RefusesAnOnnxOnlyModel) {
  TempDir dir;
  Write(dir.path() / "MLmodel", kOnnxMlmodel);
  Write(dir.path() / "model.onnx", "onnx");
  auto kind = DetectModel(dir.path(), "mlflow_model");
  ASSERT_FALSE(kind);
  EXPECT_EQ(kind.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(kind.error().message(),
            "model folder '" + dir.path().string() +
                "': MLmodel flavor(s) 'onnx' are not served by lote; served: xgboost, sklearn "
                "(python_function with loader_module mlflow.sklearn); a model saved with "
                "torch.jit.save is served as model type torchscript");
}

TEST(NativeMlModelTest, RefusesPyfuncWithAnUnknownLoader) {
  TempDir dir;
  Write(dir.path() / "MLmodel", "flavors:\n  python_function:\n    loader_module: my.loader\n");
  auto kind = DetectModel(dir.path(), "");
  ASSERT_FALSE(kind);
  EXPECT_NE(kind.error().message().find(
                "MLmodel flavor(s) 'python_function with loader_module my.loader' are not served"),
            std::string::npos)
      << kind.error().message();
}

TEST(NativeMlModelTest, DetectsTheXgboostFlavor) {
  TempDir dir;
  Write(dir.path() / "MLmodel",
        "flavors:\n  xgboost:\n    data: model.xgb\n    model_class: xgboost.sklearn.XGBRegressor\n"
        "    model_format: xgb\n  python_function:\n    loader_module: mlflow.xgboost\n"
        "    data: model.xgb\n");
  Write(dir.path() / "model.xgb", "x");
  auto kind = DetectModel(dir.path(), "");
  ASSERT_TRUE(kind) << kind.error().message();
  EXPECT_EQ(kind->kind, "mlflow_xgboost");
  EXPECT_EQ(kind->model_file, dir.path() / "model.xgb");
  EXPECT_FALSE(kind->signature);
  auto ml = LoadMlModel(dir.path() / "MLmodel");
  ASSERT_TRUE(ml);
  EXPECT_EQ(ml->XgboostData(), "model.xgb");
  EXPECT_EQ(ml->XgboostModelFormat(), "xgb");
  EXPECT_EQ(ml->FlavorKey("xgboost", "model_class"), "xgboost.sklearn.XGBRegressor");
}

TEST(NativeMlModelTest, NamesAMissingModelFile) {
  TempDir dir;
  Write(dir.path() / "MLmodel", "flavors:\n  xgboost:\n    data: model.xgb\n");
  auto kind = DetectModel(dir.path(), "");
  ASSERT_FALSE(kind);
  EXPECT_EQ(kind.error().message(), (dir.path() / "MLmodel").string() +
                                        ": flavors.xgboost.data: 'model.xgb' does not exist in '" +
                                        dir.path().string() + "'");
}

TEST(NativeMlModelTest, SignatureThatIsNotJsonNamesFileAndKey) {
  auto ml = ParseMlModel(
      "flavors:\n  xgboost: {data: m.xgb}\nsignature:\n  inputs: '[{\"name\": '\n", "m/MLmodel");
  ASSERT_FALSE(ml);
  EXPECT_EQ(ml.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(
      ml.error().message().starts_with("m/MLmodel: line 4: signature.inputs: not valid JSON: "))
      << ml.error().message();
}

TEST(NativeMlModelTest, SignatureColumnsNeedATypeAndAnArray) {
  auto a = ParseSignatureColumns(R"({"name": "x"})");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().message(), "must be a JSON array of columns");
  auto b = ParseSignatureColumns(R"([{"name": "x"}])");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().message(), "[0]: needs a string \"type\"");
  auto t = ParseSignatureColumns(
      R"([{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}])");
  ASSERT_TRUE(t);
  Signature s{.inputs = *t, .outputs = {}};
  EXPECT_FALSE(s.HasNamedInputs());
}

TEST(NativeMlModelTest, ReportsBadYamlAndMissingFlavors) {
  auto bad = ParseMlModel("flavors: [unclosed\n", "x/MLmodel");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().message().starts_with("x/MLmodel: line ")) << bad.error().message();
  auto none = ParseMlModel("artifact_path: model\n", "x/MLmodel");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "x/MLmodel: flavors: missing");
  auto missing = LoadMlModel("/nonexistent/MLmodel");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kIo);
}

TEST(NativeMlModelTest, MlflowTypeWithoutMlmodel) {
  TempDir dir;
  auto kind = DetectModel(dir.path(), "mlflow_model");
  ASSERT_FALSE(kind);
  EXPECT_EQ(kind.error().message(), "model folder '" + dir.path().string() +
                                        "' has type mlflow_model but holds no MLmodel file");
  auto custom = DetectModel(dir.path(), "");
  ASSERT_TRUE(custom);
  EXPECT_EQ(custom->kind, "custom");
}

TEST(NativeMlModelTest, FindsTheOneXgboostFile) {
  TempDir dir;
  auto none = DetectModel(dir.path(), "xgboost");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("holds no XGBoost model file"), std::string::npos);
  Write(dir.path() / "model.ubj", "x");
  Write(dir.path() / "notes.txt", "x");
  auto one = DetectModel(dir.path(), "xgboost");
  ASSERT_TRUE(one) << one.error().message();
  EXPECT_EQ(one->kind, "xgboost");
  EXPECT_EQ(one->model_file, dir.path() / "model.ubj");
  auto file = DetectModel(dir.path() / "notes.txt", "xgboost");  // a file is taken as is
  ASSERT_TRUE(file);
  EXPECT_EQ(file->model_file, dir.path() / "notes.txt");
  Write(dir.path() / "other.json", "{}");
  auto two = DetectModel(dir.path(), "xgboost");
  ASSERT_FALSE(two);
  EXPECT_NE(two.error().message().find("several XGBoost model files (model.ubj, other.json)"),
            std::string::npos)
      << two.error().message();
  Write(dir.path() / "net.pt", "x");
  auto ts = DetectModel(dir.path(), "torchscript");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->kind, "torchscript");
  EXPECT_EQ(ts->model_file, dir.path() / "net.pt");
  EXPECT_FALSE(DetectModel(dir.path(), "onnx"));
}

// Azure's layout: a model registered from a folder `model/` is the one
// sub-folder of AZUREML_MODEL_DIR; models stored before have files at the root.
TEST(NativeMlModelTest, FindsTheModelInTheOneSubFolder) {
  TempDir dir;
  fs::create_directories(dir.path() / "model");
  Write(dir.path() / "model" / "MLmodel", "flavors:\n  xgboost:\n    data: model.xgb\n");
  Write(dir.path() / "model" / "model.xgb", "x");
  Write(dir.path() / ".hidden", "x");
  EXPECT_EQ(ModelContentDir(dir.path()), dir.path() / "model");
  auto kind = DetectModel(dir.path(), "");
  ASSERT_TRUE(kind) << kind.error().message();
  EXPECT_EQ(kind->kind, "mlflow_xgboost");
  EXPECT_EQ(kind->model_file, dir.path() / "model" / "model.xgb");

  TempDir flat;  // the old layout, and a file model: the root itself
  Write(flat.path() / "model.pkl", "x");
  fs::create_directories(flat.path() / "extra");
  EXPECT_EQ(ModelContentDir(flat.path()), flat.path());
  TempDir two;  // two folders: no guess
  fs::create_directories(two.path() / "a");
  fs::create_directories(two.path() / "b");
  EXPECT_EQ(ModelContentDir(two.path()), two.path());
  TempDir linked;  // a link is not the model's folder
  fs::create_directory_symlink(dir.path() / "model", linked.path() / "model");
  EXPECT_EQ(ModelContentDir(linked.path()), linked.path());
  EXPECT_EQ(ModelContentDir(dir.path() / "model" / "MLmodel"), dir.path() / "model" / "MLmodel");
}

}  // namespace
}  // namespace lote::native
