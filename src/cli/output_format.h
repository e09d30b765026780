// Rendering a command's JSON result for `--output/-o`, as the az CLI does.
//
//   json   pretty-printed, 2-space indent ("jsonc" is accepted as json)
//   yaml   block YAML; strings that would read back as another type ("123",
//          "true", "null", "") are quoted ("yamlc" is accepted as yaml)
//   tsv    bare values for scripts: one line per array element; the scalar
//          values of an object (or array) tab-separated on one line, nested
//          objects and arrays skipped; strings unquoted, null empty
//   table  a header of the scalar keys (first letter capitalized, as az does;
//          union over rows in first-seen order), a dashed line and aligned
//          columns, numbers right-aligned; an array row gives Column1..N and
//          a scalar a "Result" column; null and nested values are left out
//
// A null result prints nothing in any format (as az prints nothing for a
// command that returns None); otherwise the text ends with '\n'.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lote::cli {

enum class OutputFormat { kJson, kYaml, kTsv, kTable };

// "json", "jsonc", "yaml", "yamlc", "tsv" or "table"; anything else is
// InvalidArgument naming the valid choices.
Result<OutputFormat> ParseOutputFormat(std::string_view name);

std::string FormatOutput(const nlohmann::ordered_json& value, OutputFormat format);

}  // namespace lote::cli
