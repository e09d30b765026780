#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "../native/native_fixture.h"
#include "native/csv_reader.h"
#include "native/xgboost_model.h"

namespace lote::native {
namespace {

namespace fs = std::filesystem;
using lote::testing::Close;
using lote::testing::kFeatures;
using lote::testing::NativeModels;
using lote::testing::ReadExpected;

// Scores `csv` with the model file and compares with Python's Booster.predict.
void ExpectPythonPredictions(const fs::path& model_file, const std::string& csv,
                             const std::string& expected_name) {
  SCOPED_TRACE(model_file.string() + " on " + csv);
  auto model = XgboostModel::Load({.model_file = model_file, .threads = 2});
  ASSERT_TRUE(model) << model.error().message();
  EXPECT_EQ((*model)->num_features(), 4u);
  auto reader = CsvReader::Open(CsvSource::WholeFile(NativeModels() / csv), kFeatures);
  ASSERT_TRUE(reader) << reader.error().message();
  auto expected = ReadExpected(NativeModels() / expected_name);
  size_t compared = 0;
  CsvChunk chunk;
  while (true) {
    auto more = (*reader)->Next(64, &chunk);  // several chunks per file
    ASSERT_TRUE(more);
    if (!*more) break;
    auto p = (*model)->Predict(chunk.values.data(), chunk.rows(), chunk.num_columns);
    ASSERT_TRUE(p) << p.error().message();
    ASSERT_EQ(p->rows, chunk.rows());
    for (size_t r = 0; r < chunk.rows(); ++r) {
      auto it = expected.find(chunk.keys[r].row);
      ASSERT_NE(it, expected.end()) << "row " << chunk.keys[r].row;
      ASSERT_EQ(p->outputs, it->second.size());
      for (size_t k = 0; k < p->outputs; ++k) {
        ASSERT_TRUE(Close(p->values[r * p->outputs + k], it->second[k]))
            << "row " << chunk.keys[r].row << " output " << k << ": lote "
            << p->values[r * p->outputs + k] << ", python " << it->second[k];
      }
      ++compared;
    }
  }
  EXPECT_EQ(compared, expected.size());
}

TEST(NativeXgboostTest, RegressorMatchesPythonInEveryFormat) {
  LOTE_NEED_NATIVE_MODELS();
  for (const char* file : {"model.json", "model.ubj", "model.xgb"}) {
    ExpectPythonPredictions(NativeModels() / "reg" / file, "data.csv", "expected_reg_data.csv");
  }
  ExpectPythonPredictions(NativeModels() / "reg/model.ubj", "plain.csv", "expected_reg_plain.csv");
  ExpectPythonPredictions(NativeModels() / "reg/model.json", "data_crlf.csv",
                          "expected_reg_data_crlf.csv");
}

TEST(NativeXgboostTest, ClassifierMatchesPythonInEveryFormat) {
  LOTE_NEED_NATIVE_MODELS();
  for (const char* file : {"model.json", "model.ubj", "model.xgb"}) {
    ExpectPythonPredictions(NativeModels() / "clf" / file, "data.csv", "expected_clf_data.csv");
  }
}

TEST(NativeXgboostTest, ReadsFeatureNamesSavedWithTheModel) {
  LOTE_NEED_NATIVE_MODELS();
  auto json_model =
      XgboostModel::Load({.model_file = NativeModels() / "reg/model.json", .threads = 1});
  ASSERT_TRUE(json_model);
  EXPECT_EQ((*json_model)->feature_names(), kFeatures);
}

TEST(NativeXgboostTest, ErrorsNameTheModelFile) {
  LOTE_NEED_NATIVE_MODELS();
  lote::testing::TempDir dir;
  auto missing = XgboostModel::Load({.model_file = dir.path() / "none.json", .threads = 1});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message(),
            "XGBoost model '" + (dir.path() / "none.json").string() + "' does not exist");

  const fs::path corrupt = dir.path() / "corrupt.json";
  std::ofstream(corrupt) << "{\"learner\": [1, 2";
  auto bad = XgboostModel::Load({.model_file = corrupt, .threads = 1});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(
      bad.error().message().starts_with("XGBoost model '" + corrupt.string() + "': cannot load: "))
      << bad.error().message();
  EXPECT_EQ(bad.error().message().find("Stack trace"), std::string::npos) << bad.error().message();
  EXPECT_EQ(bad.error().message().find("json.cc"), std::string::npos) << bad.error().message();

  auto model = XgboostModel::Load({.model_file = NativeModels() / "reg/model.json", .threads = 1});
  ASSERT_TRUE(model);
  float row[3] = {1, 2, 3};
  auto wrong = (*model)->Predict(row, 1, 3);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message().find("takes 4 features, got 3"), std::string::npos);
  auto none = (*model)->Predict(nullptr, 0, 4);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->rows, 0u);
}

}  // namespace
}  // namespace lote::native
