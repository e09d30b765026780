// Shared by the parquet_*_test.cc files: where the DuckDB-written fixtures
// are, and the comparison of a file's values with DuckDB's reading of them.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "parquet/parquet_file.h"

namespace lote::parquet::testing {

inline std::filesystem::path FixtureDir() {
  return std::filesystem::path(LOTE_SOURCE_DIR) / "tests/data/parquet";
}

inline const std::vector<std::string>& FixtureNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const char* codec : {"uncompressed", "snappy", "zstd", "gzip"}) {
      for (const char* version : {"v1", "v2"})
        v.push_back(std::string("types_") + codec + "_" + version);
    }
    return v;
  }();
  return names;
}

inline std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Reads every column of `file` and compares each value with `expected`
// (types.json, written by tests/parquet_tool/write_fixtures.mjs).
inline void ExpectSameValues(const ParquetFile& file, const nlohmann::json& expected) {
  ASSERT_EQ(file.num_rows(), expected["rows"].get<int64_t>()) << file.name();
  ASSERT_EQ(file.row_groups().size(), expected["row_groups"].get<size_t>()) << file.name();
  const auto& cols = expected["columns"];
  ASSERT_EQ(file.columns().size(), cols.size()) << file.name();
  for (size_t c = 0; c < cols.size(); ++c) {
    const std::string name = cols[c]["name"];
    const std::string type = cols[c]["type"];
    SCOPED_TRACE(file.name() + ": column " + name + " (" + type + ")");
    ASSERT_EQ(file.columns()[c].name, name);
    const auto& values = expected["values"][name];
    for (size_t g = 0; g < file.row_groups().size(); ++g) {
      const RowGroupInfo& rg = file.row_groups()[g];
      const auto rows = static_cast<size_t>(rg.rows);
      const auto first = static_cast<size_t>(rg.first_row);
      if (type == "VARCHAR") {
        auto got = file.ReadStrings(g, c);
        ASSERT_TRUE(got.has_value()) << got.error().message();
        ASSERT_EQ(got->size(), rows);
        for (size_t r = 0; r < rows; ++r) {
          const auto& v = values[first + r];
          if (v.is_null()) {
            EXPECT_FALSE((*got)[r].has_value()) << "row " << first + r;
          } else {
            ASSERT_TRUE((*got)[r].has_value()) << "row " << first + r;
            EXPECT_EQ(*(*got)[r], v.get<std::string>()) << "row " << first + r;
          }
        }
        continue;
      }
      std::vector<double> doubles(rows);
      std::vector<float> floats(rows * 2);  // a stride of 2: the reader keeps to its column
      const size_t idx[] = {c};
      Status s = file.ReadDoubles(g, idx, doubles.data(), 1);
      ASSERT_TRUE(s.has_value()) << s.error().message();
      s = file.ReadFloats(g, idx, floats.data(), 2);
      ASSERT_TRUE(s.has_value()) << s.error().message();
      for (size_t r = 0; r < rows; ++r) {
        const auto& v = values[first + r];
        const double d = doubles[r];
        const float f = floats[r * 2];
        if (v.is_null()) {
          EXPECT_TRUE(std::isnan(d) && std::isnan(f)) << "row " << first + r;
          continue;
        }
        if (type == "BOOLEAN") {
          EXPECT_EQ(d, v.get<bool>() ? 1.0 : 0.0) << "row " << first + r;
        } else if (type == "BIGINT") {
          long long want = std::strtoll(v.get<std::string>().c_str(), nullptr, 10);
          EXPECT_EQ(d, static_cast<double>(want)) << "row " << first + r;
          EXPECT_EQ(f, static_cast<float>(want))
              << "row " << first + r;  // one rounding, as numpy's astype
        } else if (type.starts_with("DECIMAL")) {
          double want = std::strtod(v.get<std::string>().c_str(), nullptr);
          EXPECT_NEAR(d, want, std::abs(want) * 1e-15) << "row " << first + r;
          EXPECT_NEAR(f, want, std::abs(want) * 1e-7) << "row " << first + r;
        } else {  // INTEGER, FLOAT, DOUBLE: JSON holds the exact value
          double want = v.get<double>();
          EXPECT_EQ(d, want) << "row " << first + r;
          EXPECT_EQ(f, static_cast<float>(want)) << "row " << first + r;
        }
        if (::testing::Test::HasFailure()) return;  // one failure says enough
      }
    }
  }
}

}  // namespace lote::parquet::testing
