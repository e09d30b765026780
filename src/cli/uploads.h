// Moving local files to the server: into a staging upload (models, code) or
// into a datastore (data assets, --input-local-path). Works against a remote
// server, since everything travels over the REST API.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/api_client.h"

namespace lote::cli {

// Uploads a file (as its file name) or a folder tree; returns the upload id.
Result<std::string> UploadToStaging(ApiClient& client, const std::filesystem::path& local);

// Uploads a file or folder to `<rel_dir>/<its name>` in the datastore and
// returns that relative path.
Result<std::string> UploadToDatastore(ApiClient& client, const std::string& datastore,
                                      const std::string& rel_dir,
                                      const std::filesystem::path& local);

// Registers a model from local files. spec: {name, version?, type?, description?}.
// With reuse_identical, an existing name:version (or, without a version, the
// latest) holding the same files is returned instead of uploading again; an
// existing name:version with other files is an AlreadyExists error.
Result<nlohmann::json> RegisterLocalModel(ApiClient& client, const nlohmann::json& spec,
                                          const std::filesystem::path& local,
                                          bool reuse_identical);

}  // namespace lote::cli
