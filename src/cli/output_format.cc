#include "cli/output_format.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lote::cli {
namespace {

using json = nlohmann::ordered_json;

// Invalid UTF-8 in a string is replaced rather than thrown on: output must not fail.
std::string Dump(const json& value, int indent = -1) {
  return value.dump(indent, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

// A scalar as tsv and table print it: strings bare, null empty.
std::string ScalarText(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return Dump(value);
}

bool IsScalar(const json& value) {
  return !value.is_object() && !value.is_array();
}

// ---------------------------------------------------------------- yaml

// Whether a plain YAML scalar `s` would read back as something other than
// this string (a YAML 1.1 or 1.2 null, bool or number), so it must be quoted.
// Over-quoting is harmless; under-quoting changes the data.
bool LooksLikeNonString(const std::string& s) {
  if (s.empty()) return true;
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (digit(s[0])) return true;
  if ((s[0] == '-' || s[0] == '+' || s[0] == '.') && s.size() > 1 && (digit(s[1]) || s[1] == '.')) {
    return true;
  }
  std::string lower = s;
  std::ranges::transform(lower, lower.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static constexpr std::array<std::string_view, 14> kSpecial = {
      "null", "~", "true", "false", "yes",   "no",    "on",
      "off",  "y", "n",    ".inf",  "-.inf", "+.inf", ".nan"};
  return std::ranges::find(kSpecial, lower) != kSpecial.end();
}

void EmitYamlString(YAML::Emitter& out, const std::string& s) {
  if (LooksLikeNonString(s)) out << YAML::DoubleQuoted;
  out << s;
}

void EmitYaml(YAML::Emitter& out, const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      if (value.empty()) out << YAML::Flow;  // `key: {}` rather than `{}` on a line of its own
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key;
        EmitYamlString(out, key);
        out << YAML::Value;
        EmitYaml(out, item);
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array:
      if (value.empty()) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const json& item : value) EmitYaml(out, item);
      out << YAML::EndSeq;
      break;
    case json::value_t::string: EmitYamlString(out, value.get_ref<const std::string&>()); break;
    case json::value_t::boolean: out << value.get<bool>(); break;
    case json::value_t::number_integer: out << value.get<int64_t>(); break;
    case json::value_t::number_unsigned: out << value.get<uint64_t>(); break;
    case json::value_t::number_float: {
      // JSON's shortest round-trip form ("0.1", not yaml-cpp's "0.10000000000000001").
      const double d = value.get<double>();
      if (std::isnan(d)) {
        out << ".nan";
      } else if (std::isinf(d)) {
        out << (d > 0 ? ".inf" : "-.inf");
      } else {
        out << Dump(value);
      }
      break;
    }
    default: out << YAML::Null; break;
  }
}

std::string ToYaml(const json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetNullFormat(YAML::LowerNull);
  EmitYaml(out, value);
  // JSON is valid YAML: the fallback if the emitter ever refuses a value.
  if (!out.good()) return Dump(value, 2) + "\n";
  return std::string(out.c_str()) + "\n";
}

// ---------------------------------------------------------------- tsv

// The scalar values of an object or array tab-separated, or a scalar alone.
void AppendTsvRow(const json& row, std::string& out) {
  if (IsScalar(row)) {
    out += ScalarText(row);
  } else {
    bool first = true;
    for (const json& field : row) {
      if (!IsScalar(field)) continue;  // az leaves nested values out of tsv
      if (!first) out += '\t';
      out += ScalarText(field);
      first = false;
    }
  }
  out += '\n';
}

std::string ToTsv(const json& value) {
  std::string out;
  if (value.is_array()) {
    for (const json& row : value) AppendTsvRow(row, out);
  } else {
    AppendTsvRow(value, out);
  }
  return out;
}

// ---------------------------------------------------------------- table

// Characters, not bytes, so UTF-8 text lines up (wide glyphs count as one).
size_t DisplayWidth(const std::string& s) {
  return std::ranges::count_if(
      s, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

struct Column {
  std::string header;
  bool numeric = true;  // every cell a number: right-aligned, as tabulate does
  size_t width = 0;
};

class TableBuilder {
 public:
  void AddRow(const json& item) {
    std::map<size_t, const json*> cells;
    if (item.is_object()) {
      for (const auto& [key, cell] : item.items()) AddCell("." + key, Capitalize(key), cell, cells);
    } else if (item.is_array()) {
      for (size_t i = 0; i < item.size(); ++i) {
        AddCell("#" + std::to_string(i), "Column" + std::to_string(i + 1), item[i], cells);
      }
    } else {
      AddCell("=", "Result", item, cells);
    }
    std::vector<std::string> row;
    for (const auto& [column, cell] : cells) {
      row.resize(column + 1);
      row[column] = ScalarText(*cell);
      std::ranges::replace_if(
          row[column], [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
      columns_[column].numeric = columns_[column].numeric && cell->is_number();
      columns_[column].width = std::max(columns_[column].width, DisplayWidth(row[column]));
    }
    rows_.push_back(std::move(row));
  }

  std::string Render() const {
    if (columns_.empty()) return "";
    std::string out;
    std::vector<std::string> headers, dashes;
    for (const Column& column : columns_) {
      headers.push_back(column.header);
      dashes.push_back(std::string(column.width, '-'));
    }
    AppendLine(headers, out);
    AppendLine(dashes, out);
    for (const std::vector<std::string>& row : rows_) AppendLine(row, out);
    return out;
  }

 private:
  static std::string Capitalize(std::string s) {
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
  }

  // Null and nested values get no cell; a new key gets a new column. Keys are
  // ".name" for an object's keys, "#i" for an array's and "=" for a scalar, so
  // that a key named "Result" stays apart from a scalar row's column.
  void AddCell(const std::string& key, const std::string& header, const json& cell,
               std::map<size_t, const json*>& cells) {
    if (cell.is_null() || !IsScalar(cell)) return;
    auto [it, added] = column_of_key_.try_emplace(key, columns_.size());
    if (added) columns_.push_back({header, true, DisplayWidth(header)});
    cells[it->second] = &cell;
  }

  // Cells two spaces apart, each padded to its column, trailing spaces trimmed.
  void AppendLine(const std::vector<std::string>& cells, std::string& out) const {
    std::string line;
    for (size_t i = 0; i < columns_.size(); ++i) {
      const std::string cell = i < cells.size() ? cells[i] : "";
      const std::string pad(columns_[i].width - DisplayWidth(cell), ' ');
      if (i > 0) line += "  ";
      line += columns_[i].numeric ? pad + cell : cell + pad;
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }

  std::vector<Column> columns_;
  std::map<std::string, size_t> column_of_key_;
  std::vector<std::vector<std::string>> rows_;
};

std::string ToTable(const json& value) {
  TableBuilder table;
  if (value.is_array()) {
    for (const json& item : value) table.AddRow(item);
  } else {
    table.AddRow(value);
  }
  return table.Render();
}

}  // namespace

Result<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "json" || name == "jsonc") return OutputFormat::kJson;
  if (name == "yaml" || name == "yamlc") return OutputFormat::kYaml;
  if (name == "tsv") return OutputFormat::kTsv;
  if (name == "table") return OutputFormat::kTable;
  return InvalidArgument("unknown output format '" + std::string(name) +
                         "'; valid formats: json, jsonc, yaml, yamlc, table, tsv");
}

std::string FormatOutput(const nlohmann::ordered_json& value, OutputFormat format) {
  if (value.is_null()) return "";
  switch (format) {
    case OutputFormat::kJson: return Dump(value, 2) + "\n";
    case OutputFormat::kYaml: return ToYaml(value);
    case OutputFormat::kTsv: return ToTsv(value);
    case OutputFormat::kTable: return ToTable(value);
  }
  return "";
}

}  // namespace lote::cli
