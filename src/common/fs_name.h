// File names are bytes. Linux allows any byte but '/' and NUL in a name, so a
// file listed from a datastore (or downloaded from a URL whose %E9 decodes to
// one byte) may have a name that is not UTF-8, while JSON text — the job
// store, the agent API, the worker protocol — must be. This module is the one
// place that bridges the two.
//
// A value that is bytes travels in two fields of a JSON object ("byte
// fields"):
//   "<key>"      the value itself when it is UTF-8; otherwise its readable
//                escaped form (EscapeName), for messages, logs and reports
//   "<key>_b64"  only when the value is not UTF-8: its exact bytes in
//                base64url without padding (RFC 4648 §5)
// A mini-batch item names its file this way ("path", "path_b64"), and a
// byte-range item carries its CSV header this way too ("header",
// "header_b64": a Latin-1 header is bytes as well). Whoever opens the file
// uses ItemPath() (path_b64 when present); whoever shows it uses
// ItemDisplayPath(). A consumer that knows nothing of path_b64
// (an older plugin) opens "path", which names no such file, and so fails that
// file with an error that names it readably: never another file's bytes
// (unless a file literally named like the escaped form exists beside it).
//
// The escaped form is Python's raw.decode("utf-8", "backslashreplace"), so
// the Python runner shows a name exactly as lote does: "caf\xe9.csv".
//
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote {

inline constexpr char kItemPathKey[] = "path";
inline constexpr char kItemHeaderKey[] = "header";
// A byte-range item's first data row and first line in its file
// (jobs/byte_ranges.h); absent in items planned by an older lote.
inline constexpr char kItemFirstRowKey[] = "first_row";
inline constexpr char kItemFirstLineKey[] = "first_line";

// True when s is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF): what nlohmann::json dumps without
// throwing and what Python decodes strictly.
bool IsUtf8(std::string_view s);

// s with every byte that is not part of a well-formed UTF-8 sequence written
// as "\xhh" (two lowercase hex digits); UTF-8 text comes back unchanged.
// Always valid UTF-8.
std::string EscapeName(std::string_view s);

// Sets obj[key] (and obj[key + "_b64"] when raw is not UTF-8, else removes
// a stale one).
void SetBytesField(nlohmann::json& obj, std::string_view key, std::string_view raw);
// The bytes of a byte field; nullopt when obj has neither key nor key_b64
// (or key is null). InvalidArgument naming the key when key is not a string
// or key_b64 is not canonical base64url.
Result<std::optional<std::string>> GetBytesField(const nlohmann::json& obj, std::string_view key);

// {"path": …} for a path, with "path_b64" when the path is not UTF-8.
nlohmann::json PathItem(std::string_view raw_path);
// Sets an item's "path" (and "path_b64", or removes a stale one).
void SetItemPath(nlohmann::json& item, std::string_view raw_path);

// The bytes of an item's path, to open the file: "path_b64" decoded when
// present, else "path". InvalidArgument naming the item (readably) when it
// has no string path, or its path_b64 is not canonical base64url or decodes
// to a name holding a NUL byte.
Result<std::string> ItemPath(const nlohmann::json& item);

// An item's path as people read it ("path"; "?" when there is none).
std::string ItemDisplayPath(const nlohmann::json& item);

// A byte-range item's CSV header (without its line end); nullopt when it has
// none. Errors as GetBytesField, naming the item.
Result<std::optional<std::string>> ItemHeader(const nlohmann::json& item);

}  // namespace lote
