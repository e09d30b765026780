#include "exe/parquet_command.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "parquet/csv_export.h"

namespace lote {

namespace {

struct DecodeArgs {
  std::string file;
  std::string row_groups;  // "FIRST:COUNT"
  std::string columns;     // "a,b" (names may not hold ',')
  std::string name;        // how messages name the file
  std::string row_number_column;
};

Status WriteOut(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError(std::string("cannot write to stdout: ") + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

bool ParseCount(std::string_view s, size_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

Status Decode(const DecodeArgs& a) {
  parquet::CsvExportOptions o;
  if (!a.row_groups.empty()) {
    size_t colon = a.row_groups.find(':');
    size_t first = 0, count = 0;
    if (colon == std::string::npos || !ParseCount(std::string_view(a.row_groups).substr(0, colon), &first) ||
        !ParseCount(std::string_view(a.row_groups).substr(colon + 1), &count) || count == 0) {
      return InvalidArgument("--row-groups must be FIRST:COUNT (0-based first, a positive count), got '" +
                             a.row_groups + "'");
    }
    o.first_row_group = first;
    o.row_groups = count;
  }
  for (size_t start = 0; !a.columns.empty() && start <= a.columns.size();) {
    size_t comma = a.columns.find(',', start);
    if (comma == std::string::npos) comma = a.columns.size();
    o.columns.push_back(a.columns.substr(start, comma - start));
    start = comma + 1;
  }
  o.row_number_column = a.row_number_column;
  const std::string name = a.name.empty() ? std::filesystem::path(a.file).filename().string() : a.name;
  LOTE_ASSIGN_OR_RETURN(auto file, parquet::ParquetFile::Open(a.file, name));
  LOTE_TRY(parquet::ExportCsv(*file, o, WriteOut));
  return {};
}

}  // namespace

void AddParquetCommand(CLI::App& app, cli::CommandContext& ctx) {
  auto* data = app.add_subcommand("parquet", "Parquet tools for lote's own processes");
  data->group("");  // hidden
  data->require_subcommand(1);
  auto a = std::make_shared<DecodeArgs>();
  auto* decode = data->add_subcommand("decode", "Print a Parquet file's rows as CSV");
  decode->add_option("file", a->file, "The .parquet file")->required();
  decode->add_option("--row-groups", a->row_groups, "FIRST:COUNT: only these row groups");
  decode->add_option("--columns", a->columns, "a,b,...: only these columns, in this order");
  decode->add_option("--name", a->name, "How messages name the file (default: its base name)");
  decode->add_option("--row-number-column", a->row_number_column,
                     "NAME: a first column holding each row's 0-based number in the file");
  decode->footer("Exit codes: 0 done, 1 an error (on stderr, naming the file).");
  decode->callback([a, &ctx] {
    Status st = Decode(*a);
    if (!st) {
      std::cerr << "lote parquet decode: error: " << st.error().message() << "\n";
      ctx.exit_code = 1;
      return;
    }
    ctx.exit_code = 0;
  });
}

}  // namespace lote
