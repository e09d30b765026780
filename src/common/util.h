// Small utilities shared by every subsystem: time, random ids, whole-file I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lote {

// Current UTC time as RFC 3339 with seconds: "2026-11-25T12:00:00Z".
std::string NowRfc3339();
std::string FormatRfc3339(std::chrono::system_clock::time_point t);
int64_t NowUnixSeconds();

// n random bytes from the OS (getrandom), hex-encoded (2n characters).
std::string RandomHex(size_t n_bytes);
// A random RFC 4122 version-4 UUID string.
std::string RandomUuid();

Result<std::string> ReadFile(const std::filesystem::path& path);
// Writes via a temporary file and rename, so readers never see half a file.
// kSynced also fsyncs the file first (it survives a power cut once this
// returns); kUnsynced is for reports that are rewritten anyway.
enum class Durability { kSynced, kUnsynced };
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data, int mode = 0644,
                       Durability durability = Durability::kSynced);

std::string ToLower(std::string_view s);

// 's' in single quotes, as error messages name files, columns and values.
std::string Quote(std::string_view s);
// A CSV field: as is, or in double quotes (a quote doubled) when it holds a
// comma, a quote or a line end.
std::string CsvField(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);

}  // namespace lote
