// No-code scoring of TorchScript models through lote's libtorch module,
// compared with torch's own outputs. Skipped when lote was built without
// libtorch or /usr/bin/python3 has no torch.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "../native/native_fixture.h"
#include "../native/torch_fixture.h"
#include "native/tabular_scorer.h"
#include "native/torchscript_model.h"

namespace lote::native {
namespace {

namespace fs = std::filesystem;
using lote::testing::Close;
using lote::testing::ReadExpected;
using lote::testing::TempDir;
using lote::testing::TorchModels;
using lote::testing::ExpectRows;
using lote::testing::OutRow;
using lote::testing::ParseRows;
using nlohmann::json;

const std::vector<std::string> kFeatures = {"f0", "f1", "f2", "f3"};

Result<std::unique_ptr<TabularScorer>> Scorer(const std::string& model,
                                              std::vector<std::string> columns = kFeatures) {
  ScorerOptions o;
  o.model_dir = TorchModels() / model;
  o.kind = "torchscript";
  o.threads = 2;
  o.columns = std::move(columns);
  o.chunk_rows = 16;  // several predictions per file
  return TabularScorer::Create(o);
}

json Items(std::initializer_list<const char*> files) {
  json items = json::array();
  for (const char* f : files) items.push_back({{"path", (TorchModels() / f).string()}});
  return items;
}

// The rows of `file` are torch's outputs for the expected rows, in order.
void ExpectTorchOutputs(const std::vector<OutRow>& rows, const std::string& file,
                        const std::string& expected_name) {
  ExpectRows(rows, file, ReadExpected(TorchModels() / expected_name), "torch");
}

TEST(TorchScorerTest, MultiOutputMatchesTorchInInputOrder) {
  LOTE_NEED_TORCH();
  auto scorer = Scorer("mlp");
  ASSERT_TRUE(scorer) << scorer.error().message();
  // The width is known only once the model has predicted.
  EXPECT_EQ((*scorer)->header(), "");
  BatchResult r = (*scorer)->Run(Items({"data.csv"}));
  EXPECT_EQ(r.failed, 0) << r.item_errors.dump();
  EXPECT_EQ(r.succeeded, 40);
  EXPECT_EQ((*scorer)->header(), "file,row,prediction_0,prediction_1,prediction_2");
  ExpectTorchOutputs(ParseRows(r.payload), "data.csv", "expected_mlp_data.csv");
}

TEST(TorchScorerTest, OneDimensionalOutputIsOnePredictionColumn) {
  LOTE_NEED_TORCH();
  auto scorer = Scorer("reg");
  ASSERT_TRUE(scorer) << scorer.error().message();
  BatchResult r = (*scorer)->Run(Items({"data.csv"}));
  EXPECT_EQ(r.succeeded, 40);
  EXPECT_EQ((*scorer)->header(), "file,row,prediction");
  ExpectTorchOutputs(ParseRows(r.payload), "data.csv", "expected_reg_data.csv");
}

TEST(TorchScorerTest, AMalformedCellFailsItsRowOnly) {
  LOTE_NEED_TORCH();
  auto scorer = Scorer("mlp");
  ASSERT_TRUE(scorer) << scorer.error().message();
  BatchResult r = (*scorer)->Run(Items({"bad.csv", "data.csv"}));
  EXPECT_EQ(r.succeeded, 79);
  EXPECT_EQ(r.failed, 1);
  ASSERT_EQ(r.item_errors.size(), 1u);
  EXPECT_EQ(r.item_errors[0]["error"],
            "bad.csv: row 7 (line 9), column 'f1': 'abc' is not a number");
  EXPECT_EQ(r.item_errors[0]["row"], "7");
  EXPECT_EQ(r.item_errors[0]["column"], "f1");
  auto rows = ParseRows(r.payload);
  ExpectTorchOutputs(rows, "bad.csv", "expected_mlp_bad.csv");
  ExpectTorchOutputs(rows, "data.csv", "expected_mlp_data.csv");
}

TEST(TorchScorerTest, WithoutColumnsEveryColumnGoesInAndNaNPassesThrough) {
  LOTE_NEED_TORCH();
  TempDir dir;
  std::ofstream(dir.path() / "in.csv") << "a,b\n1.5,\n,NaN\n-2,3\n";
  auto scorer = Scorer("identity", {});
  ASSERT_TRUE(scorer) << scorer.error().message();
  BatchResult r = (*scorer)->Run(json::array({{{"path", (dir.path() / "in.csv").string()}}}));
  EXPECT_EQ(r.succeeded, 3) << r.item_errors.dump();
  EXPECT_EQ((*scorer)->header(), "file,row,prediction_0,prediction_1");
  EXPECT_EQ(r.payload, "in.csv,0,1.5,nan\nin.csv,1,nan,nan\nin.csv,2,-2,3\n");
}

TEST(TorchScorerTest, AnotherOutputWidthFailsThatItem) {
  LOTE_NEED_TORCH();
  TempDir dir;
  std::ofstream(dir.path() / "a.csv") << "x,y\n1,2\n";
  std::ofstream(dir.path() / "b.csv") << "x,y,z\n1,2,3\n";
  auto scorer = Scorer("identity", {});
  ASSERT_TRUE(scorer) << scorer.error().message();
  // The identity gives as many outputs as the file has columns.
  BatchResult r = (*scorer)->Run(json::array(
      {{{"path", (dir.path() / "a.csv").string()}}, {{"path", (dir.path() / "b.csv").string()}}}));
  EXPECT_EQ(r.succeeded, 1);
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.payload, "a.csv,0,1,2\n");
  EXPECT_EQ((*scorer)->header(), "file,row,prediction_0,prediction_1");
  ASSERT_EQ(r.item_errors.size(), 1u);
  EXPECT_EQ(r.item_errors[0]["item"], (dir.path() / "b.csv").string());
  EXPECT_EQ(r.item_errors[0]["error"],
            "b.csv: TorchScript model '" + (TorchModels() / "identity/model.pt").string() +
                "' gave 3 values per row, and 2 before; the output's columns are "
                "file,row,prediction_0,prediction_1");
}

TEST(TorchScorerTest, ModelFailuresFailTheItemNamingFileAndModel) {
  LOTE_NEED_TORCH();
  auto scorer = Scorer("mlp", {"f0", "f1", "f2"});  // the MLP takes 4
  ASSERT_TRUE(scorer) << scorer.error().message();
  BatchResult r = (*scorer)->Run(Items({"data.csv"}));
  EXPECT_EQ(r.succeeded, 0);
  EXPECT_EQ(r.failed, 1);
  ASSERT_EQ(r.item_errors.size(), 1u);
  EXPECT_EQ(r.item_errors[0]["error"],
            "data.csv: TorchScript model '" + (TorchModels() / "mlp/model.pt").string() +
                "': RuntimeError: mat1 and mat2 shapes cannot be multiplied (16x3 and 4x16)");
  EXPECT_EQ((*scorer)->header(), "");
}

TEST(TorchScorerTest, OutputsOtherThanOneTensorOfRowsAreErrors) {
  LOTE_NEED_TORCH();
  const std::string file = (TorchModels() / "data.csv").string();
  auto tuple = Scorer("tuple");
  ASSERT_TRUE(tuple) << tuple.error().message();
  BatchResult r = (*tuple)->Run(Items({"data.csv"}));
  ASSERT_EQ(r.item_errors.size(), 1u);
  EXPECT_EQ(r.item_errors[0]["error"],
            "data.csv: TorchScript model '" + (TorchModels() / "tuple/model.pt").string() +
                "': forward() returned a Tuple, not a tensor; lote needs one tensor of shape "
                "[rows] or [rows, k]");
  auto scalar = Scorer("scalar");
  ASSERT_TRUE(scalar) << scalar.error().message();
  r = (*scalar)->Run(Items({"data.csv"}));
  ASSERT_EQ(r.item_errors.size(), 1u);
  EXPECT_EQ(r.item_errors[0]["error"],
            "data.csv: TorchScript model '" + (TorchModels() / "scalar/model.pt").string() +
                "': forward() returned a tensor of shape [] for 16 input rows; lote needs [16] "
                "or [16, k]");
}

TEST(TorchScorerTest, AFileTorchCannotLoadFailsCreate) {
  LOTE_NEED_TORCH();
  for (const char* model : {"state", "fake"}) {
    auto scorer = Scorer(model);
    ASSERT_FALSE(scorer) << model;
    EXPECT_EQ(scorer.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(scorer.error().message().starts_with("TorchScript model '" +
                                                     (TorchModels() / model / "model.pt").string() +
                                                     "' cannot be loaded: "))
        << scorer.error().message();
  }
}

TEST(TorchScorerTest, AMissingModuleFailsCreate) {
  LOTE_NEED_TORCH();
  ScorerOptions o;
  o.model_dir = TorchModels() / "mlp";
  o.kind = "torchscript";
  o.torch_module = "/nonexistent/liblote_torch.so";
  auto scorer = TabularScorer::Create(o);
  ASSERT_FALSE(scorer);
  EXPECT_EQ(scorer.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(scorer.error().message().starts_with(
      "libtorch module '/nonexistent/liblote_torch.so' cannot be loaded: "))
      << scorer.error().message();
}

}  // namespace
}  // namespace lote::native
