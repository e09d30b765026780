// YAML (and JSON) documents read into nlohmann::json, with the line of every node.
//
// lote reads every resource file (endpoint, deployment, compute, model, data,
// datastore) through ParseYaml / LoadYamlFile, then hands `value` to the
// Normalize* functions of model/specs.h. Those report errors against field
// paths of the input; YamlDocument::Describe turns such an error into
// "file:LINE: field: message" for the CLI.
//
// Scalar typing (a deliberately small subset of YAML 1.2's core schema):
//   plain  ~ / null / Null / NULL / empty       -> null
//   plain  true/false/True/False/TRUE/FALSE     -> bool   (yes/no/on/off stay strings)
//   plain  [-+]?[0-9]+ that fits in int64       -> integer
//   plain  decimal float ("1.5", "-2e3", ".5")  -> double (".inf", ".nan", "1e" stay strings)
//   anything else, and every quoted or block scalar -> string
// Mapping keys are always strings. A duplicate key, a non-scalar key, more
// than one document, or a document too large or too deeply nested is an
// InvalidArgument error whose message starts with "file:LINE".
//
// Field paths: mapping keys joined by '.', sequence elements as "[i]":
//   "deployments[0].retry_settings.timeout", "deployments.blue.model.local_path".
// Functions here are pure and thread-compatible.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::model {

struct YamlDocument {
  nlohmann::json value;
  std::string file;                  // as given, for messages
  std::map<std::string, int> lines;  // field path -> 1-based line; "" is the root

  // The line of `field`, or of its nearest ancestor present; 0 when unknown.
  int LineOf(std::string_view field) const;

  // "file:LINE: field: message"; the line part is omitted when unknown, the
  // field part when the error names no field, the file part when file is empty.
  std::string Describe(const Error& e) const;
};

// Parses one YAML (or JSON) document. A syntax error is InvalidArgument with
// the message "file:LINE:COL: <yaml-cpp message>".
Result<YamlDocument> ParseYaml(std::string_view text, std::string file);

// Reads and parses a file. A missing file is kNotFound, an unreadable one kIo,
// both naming the path.
Result<YamlDocument> LoadYamlFile(const std::filesystem::path& path);

// The parent of a field path: "a.b[2]" -> "a.b", "a.b" -> "a", "a" -> "".
std::string_view ParentField(std::string_view field);

// Appends a key or "[i]" to a field path: ("a", "b") -> "a.b", ("a", "[0]") -> "a[0]",
// ("", "b") -> "b".
std::string JoinField(std::string_view parent, std::string_view child);

}  // namespace lote::model
