// The output conversion (jobs/output_convert.h) and beneath it the Parquet
// writer (parquet/writer.h), on any assembled CSV.
//
// Input: byte 0 picks the options (bit 0: a header line or none; bits 1-3:
// row groups of 1..8 rows, so small inputs still make many row groups);
// the rest is the CSV.
//
// Invariants, whenever the conversion to Parquet succeeds:
//   - the JSON Lines conversion succeeds too, with as many rows;
//   - our reader opens the Parquet file, its row count is that count, and
//     every column of every row group reads;
//   - each JSON Lines line is an object of one key per column (nlohmann
//     parses it), and each Parquet value equals the JSON value of its cell:
//     a string the same string, a number the same double (null for a null;
//     a DOUBLE NaN or infinity is null in JSON), a boolean the same.
// A conversion error must be InvalidArgument (a bad row), never a crash.
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "jobs/output_convert.h"
#include "parquet/parquet_file.h"

using lote::fuzz::FuzzCheck;

namespace {

std::string Contents(int fd) {
  std::string out;
  char buf[4096];
  for (off_t off = 0;;) {
    ssize_t n = pread(fd, buf, sizeof buf, off);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static lote::fuzz::ScratchFile in, pq_out, js_out;
  const uint8_t opts = data[0];
  const std::string_view csv(reinterpret_cast<const char*>(data + 1), size - 1);
  const lote::jobs::ConvertOptions o{.has_header = (opts & 1) == 0, .row_group_rows = 1 + ((opts >> 1) & 7)};
  in.Set(csv);
  pq_out.Set("");
  auto rows = lote::jobs::ConvertCsvOutput(in.fd(), pq_out.fd(), lote::jobs::OutputFormat::kParquet, o);
  if (!rows) {
    FuzzCheck(rows.error().code() == lote::ErrorCode::kInvalidArgument, "conversion: " + rows.error().message());
    return 0;
  }
  js_out.Set("");
  auto js_rows = lote::jobs::ConvertCsvOutput(in.fd(), js_out.fd(), lote::jobs::OutputFormat::kJsonl, o);
  FuzzCheck(js_rows.has_value() && *js_rows == *rows, "JSON Lines conversion disagrees with Parquet's");

  const std::string bytes = Contents(pq_out.fd());
  auto file = lote::parquet::ParquetFile::FromBytes("out.parquet", bytes);
  FuzzCheck(file.has_value(), "our reader cannot read the writer's file: " +
                                  (file ? std::string() : file.error().message()));
  const auto& f = **file;
  FuzzCheck(f.num_rows() == *rows, "row count");

  std::vector<nlohmann::json> lines;
  const std::string text = Contents(js_out.fd());
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    FuzzCheck(end != std::string::npos, "a JSON line without its line end");
    auto j = nlohmann::json::parse(text.substr(pos, end - pos), nullptr, false);
    FuzzCheck(j.is_object() && j.size() <= f.columns().size(), "a JSON line that is not an object of the columns");
    lines.push_back(std::move(j));
    pos = end + 1;
  }
  FuzzCheck(lines.size() == static_cast<size_t>(*rows), "JSON line count");

  for (size_t g = 0; g < f.row_groups().size(); ++g) {
    const auto& rg = f.row_groups()[g];
    const auto first = static_cast<size_t>(rg.first_row);
    for (size_t c = 0; c < f.columns().size(); ++c) {
      const auto& col = f.columns()[c];
      // Duplicate names in the header: the JSON object keeps one of them; a
      // name that is not UTF-8 is another key in JSON (bytes replaced).
      bool unique = rg.rows == 0 || lines[first].contains(col.name);
      for (size_t k = 0; k < f.columns().size(); ++k) unique = unique && (k == c || f.columns()[k].name != col.name);
      if (col.kind == lote::parquet::ColumnKind::kString) {
        auto s = f.ReadStrings(g, c);
        FuzzCheck(s.has_value(), "string column read");
        if (!unique) continue;
        for (size_t r = 0; r < s->size(); ++r) {
          const auto& v = lines[first + r].at(col.name);
          if ((*s)[r]) {
            // JSON replaced bytes that are not UTF-8; compare only valid text.
            if (v.is_string() && v.get<std::string>().find("\xEF\xBF\xBD") == std::string::npos) {
              FuzzCheck(v.get<std::string>() == *(*s)[r], "a string differs from its JSON");
            }
          } else {
            FuzzCheck(v.is_null(), "a null string is not null in JSON");
          }
        }
        continue;
      }
      std::vector<double> m(static_cast<size_t>(rg.rows));
      const std::vector<size_t> one = {c};
      FuzzCheck(f.ReadDoubles(g, one, m.data(), 1).has_value(), "numeric column read");
      if (!unique) continue;
      for (size_t r = 0; r < m.size(); ++r) {
        const auto& v = lines[first + r].at(col.name);
        if (v.is_null()) {
          FuzzCheck(std::isnan(m[r]) || std::isinf(m[r]), "a null in JSON is a value in Parquet");
        } else if (v.is_boolean()) {
          FuzzCheck(m[r] == (v.get<bool>() ? 1.0 : 0.0), "a boolean differs");
        } else if (v.is_number_integer() && col.kind == lote::parquet::ColumnKind::kInteger) {
          FuzzCheck(m[r] == static_cast<double>(v.get<int64_t>()), "an integer differs");
        } else {
          FuzzCheck(v.is_number() && m[r] == v.get<double>(), "a number differs");
        }
      }
    }
  }
  return 0;
}
