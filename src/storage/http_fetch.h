// Fetching http(s) inputs with libcurl: a file, or a folder whose index page
// (an HTML listing such as nginx's autoindex or `python3 -m http.server`)
// links to its files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace lote::storage {

// "a%20b.txt" -> "a b.txt" (a file name from a URL, for saving it locally).
std::string PercentDecode(std::string_view text);

// Checks that the URL answers 2xx (HEAD, falling back to GET).
// NotFound for 404/410, Unavailable when unreachable.
Status CheckUrl(const std::string& url);

// Downloads url to dest (through a temporary name).
Status DownloadUrl(const std::string& url, const std::filesystem::path& dest);

// For a URL ending in '/', the absolute URLs of the files its index page
// links to (one level, no parent or sub-folder links), sorted; for any other
// URL, just that URL.
Result<std::vector<std::string>> ListUrlFolder(const std::string& url);

}  // namespace lote::storage
