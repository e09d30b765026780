// Streams request bodies into files and files into responses, so uploads and
// downloads never hold a whole file in memory. Paths are resolved beneath
// their root (a datastore, an upload) by storage::Beneath: a link that leads
// out is refused (400 naming it), never followed.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include "common/status.h"
#include "common/util.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "storage/beneath.h"

namespace lote::server {

// Refuses a relative path whose components are over NAME_MAX bytes or whose
// whole is over PATH_MAX, with InvalidArgument naming the limit, before the
// filesystem answers ENAMETOOLONG.
Status CheckPathLimits(std::string_view rel);

// What a stored upload answers; the default is 201 with an empty body.
using OnStored = std::function<void(const std::filesystem::path& stored, const http::Request& req,
                                    http::Response& res)>;
// Told when the body cannot be stored (a full or failing disk); the request
// is answered with the error either way.
using OnStoreFailed = std::function<void(const Error& error)>;

// A sink that writes the request body to `rel` beneath `root` (parent
// folders made) through a temporary name in the same folder, and links it
// into place when the body is complete (link() never replaces, so of two
// racing uploads exactly one wins). An unfinished sink removes its temporary
// file. AlreadyExists when rel exists: uploads never overwrite what is stored.
Result<std::unique_ptr<http::BodySink>> OpenFileSink(const storage::Beneath& root, std::string_view rel,
                                                     OnStored on_stored = nullptr,
                                                     OnStoreFailed on_failed = nullptr,
                                                     Durability durability = Durability::kSynced);

// Answers with the file at `rel` beneath `root` as application/octet-stream,
// read from the descriptor that was checked (NotFound unless it is a regular
// file).
Status SendFile(http::Response& res, const storage::Beneath& root, std::string_view rel);

// The same for a path in a folder lote made itself (a job's staging and log
// folders): its parent folder is the root, so the last component is never a
// link that leads out of it. OpenFileSink makes the parent folder first.
// kUnsynced stores without an fsync (the job engine syncs results itself).
Result<std::unique_ptr<http::BodySink>> OpenFileSink(const std::filesystem::path& path,
                                                     OnStored on_stored = nullptr,
                                                     OnStoreFailed on_failed = nullptr,
                                                     Durability durability = Durability::kSynced);
Status SendFile(http::Response& res, const std::filesystem::path& path);

}  // namespace lote::server
