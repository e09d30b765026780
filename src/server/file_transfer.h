// Streams request bodies into files and files into responses, so uploads and
// downloads never hold a whole file in memory.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include "common/status.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"

namespace lote::server {

// Refuses a relative path whose components are over NAME_MAX bytes or whose
// whole is over PATH_MAX, with InvalidArgument naming the limit, before the
// filesystem answers ENAMETOOLONG.
Status CheckPathLimits(std::string_view rel);

// What a stored upload answers; the default is 201 with an empty body.
using OnStored = std::function<void(const std::filesystem::path& stored, const http::Request& req,
                                    http::Response& res)>;

// A sink that writes the request body into `path` through a temporary name
// in the same folder, and links it into place when the body is complete
// (link() never replaces, so of two racing uploads exactly one wins). An
// unfinished sink removes its temporary file. AlreadyExists when `path`
// exists: uploads never overwrite what is stored.
Result<std::unique_ptr<http::BodySink>> OpenFileSink(const std::filesystem::path& path,
                                                     OnStored on_stored = nullptr);

// Answers with the file as application/octet-stream (NotFound unless it is a
// regular file).
Status SendFile(http::Response& res, const std::filesystem::path& path);

}  // namespace lote::server
