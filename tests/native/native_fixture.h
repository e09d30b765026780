// Shared by tests/unit/native_*_test.cc: the models, MLflow folders, CSV
// inputs and expected predictions that tests/native/make_models.py generates
// with python3-xgboost, once per test process, into a temporary folder.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../unit/runtime_stub_worker.h"

namespace lote::testing {

// The generated folder, or an empty path when /usr/bin/python3 lacks
// xgboost or pandas (the tests that need it then skip).
inline const std::filesystem::path& NativeModels() {
  static TempDir dir;
  static const std::filesystem::path result = []() -> std::filesystem::path {
    if (std::system("/usr/bin/python3 -c 'import xgboost, pandas, numpy' >/dev/null 2>&1") != 0) {
      return {};
    }
    const auto script = std::filesystem::path(__FILE__).parent_path() / "make_models.py";
    const std::string cmd =
        "/usr/bin/python3 '" + script.string() + "' '" + dir.path().string() + "' >/dev/null";
    if (std::system(cmd.c_str()) != 0) {
      ADD_FAILURE() << "make_models.py failed: " << cmd;
      return {};
    }
    return dir.path();
  }();
  return result;
}

#define LOTE_NEED_NATIVE_MODELS()                                                 \
  do {                                                                            \
    if (::lote::testing::NativeModels().empty()) {                                \
      GTEST_SKIP() << "/usr/bin/python3 has no xgboost/pandas (python3-xgboost)"; \
    }                                                                             \
  } while (0)

// expected_<model>_<csv>.csv: data row → its predictions.
inline std::map<int64_t, std::vector<double>> ReadExpected(const std::filesystem::path& path) {
  std::map<int64_t, std::vector<double>> out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    std::getline(ss, cell, ',');
    auto& values = out[std::stoll(cell)];
    while (std::getline(ss, cell, ',')) values.push_back(std::stod(cell));
  }
  return out;
}

// |a - b| within 1e-6, relative to the magnitude for values above 1.
inline bool Close(double a, double b) {
  return std::abs(a - b) <= 1e-6 * std::max(1.0, std::abs(b));
}

// One output row of a scorer: file, row, values.
struct OutRow {
  std::string file, row;
  std::vector<double> values;
};

inline std::vector<OutRow> ParseRows(const std::string& payload) {
  std::vector<OutRow> rows;
  std::istringstream in(payload);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream cells(line);
    OutRow r;
    std::getline(cells, r.file, ',');
    std::getline(cells, r.row, ',');
    std::string v;
    while (std::getline(cells, v, ',')) r.values.push_back(std::stod(v));
    rows.push_back(std::move(r));
  }
  return rows;
}

// The rows of `file` are the library's outputs (`expected`, from
// ReadExpected), in input order, each value Close() to the library's.
// `library` names it in messages ("python", "torch").
inline void ExpectRows(const std::vector<OutRow>& rows, const std::string& file,
                       const std::map<int64_t, std::vector<double>>& expected,
                       const std::string& library) {
  std::vector<const OutRow*> mine;
  for (const OutRow& r : rows) {
    if (r.file == file) mine.push_back(&r);
  }
  ASSERT_EQ(mine.size(), expected.size()) << file;
  size_t i = 0;
  for (const auto& [row, values] : expected) {
    const OutRow& r = *mine[i++];
    ASSERT_EQ(r.row, std::to_string(row)) << file;
    ASSERT_EQ(r.values.size(), values.size()) << file << " row " << row;
    for (size_t k = 0; k < values.size(); ++k) {
      EXPECT_TRUE(Close(r.values[k], values[k]))
          << file << " row " << row << " output " << k << ": lote " << r.values[k] << ", "
          << library << " " << values[k];
    }
  }
}

inline const std::vector<std::string> kFeatures = {"fareAmount", "tripDistance", "passengerCount",
                                                   "hour"};

}  // namespace lote::testing
