#include "cli/uploads.h"

#include <vector>

#include "common/crypto.h"
#include "common/util.h"

namespace lote::cli {

namespace fs = std::filesystem;

namespace {

// (absolute path, relative name) of every regular file under local.
Result<std::vector<std::pair<fs::path, std::string>>> ListLocal(const fs::path& local) {
  std::error_code ec;
  std::vector<std::pair<fs::path, std::string>> files;
  if (fs::is_regular_file(local, ec)) {
    files.emplace_back(local, local.filename().string());
  } else if (fs::is_directory(local, ec)) {
    for (auto it = fs::recursive_directory_iterator(local, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->is_regular_file()) {
        files.emplace_back(it->path(), fs::relative(it->path(), local).generic_string());
      }
    }
    if (ec) return IoError("cannot list '" + local.string() + "': " + ec.message());
  } else {
    return NotFound("local path '" + local.string() + "' does not exist");
  }
  return files;
}

std::string FolderName(const fs::path& local) {
  fs::path p = local;
  if (!p.has_filename()) p = p.parent_path();  // "dir/" -> "dir"
  std::string name = fs::absolute(p).lexically_normal().filename().string();
  return name.empty() ? "data" : name;
}

}  // namespace

Result<std::string> UploadToStaging(ApiClient& client, const fs::path& local) {
  LOTE_ASSIGN_OR_RETURN(auto files, ListLocal(local));
  if (files.empty()) return InvalidArgument("folder '" + local.string() + "' holds no files");
  LOTE_ASSIGN_OR_RETURN(nlohmann::json up, client.Post("/api/v1/uploads", nlohmann::json::object()));
  std::string id = up.at("upload_id");
  for (const auto& [abs, rel] : files) {
    LOTE_TRY(client.PutFile("/api/v1/uploads/" + id + "/files/" + EncodePath(rel), abs));
  }
  return id;
}

Result<std::string> UploadToDatastore(ApiClient& client, const std::string& datastore,
                                      const std::string& rel_dir, const fs::path& local) {
  LOTE_ASSIGN_OR_RETURN(auto files, ListLocal(local));
  std::error_code ec;
  bool is_file = fs::is_regular_file(local, ec);
  std::string target = rel_dir + "/" + (is_file ? local.filename().string() : FolderName(local));
  for (const auto& [abs, rel] : files) {
    std::string dest = is_file ? target : target + "/" + rel;
    LOTE_TRY(client.PutFile("/api/v1/datastores/" + EncodePath(datastore) + "/files/" + EncodePath(dest), abs));
  }
  if (files.empty()) {
    return InvalidArgument("folder '" + local.string() + "' holds no files");
  }
  return target;
}

Result<nlohmann::json> RegisterLocalModel(ApiClient& client, const nlohmann::json& spec,
                                          const fs::path& local, bool reuse_identical) {
  std::string name = spec.at("name");
  std::string version = spec.contains("version") && spec["version"].is_string() ? spec["version"].get<std::string>() : "";
  std::error_code ec;
  if (!fs::exists(local, ec)) {
    return NotFound("model '" + name + "': local path '" + local.string() + "' does not exist");
  }
  if (reuse_identical) {
    LOTE_ASSIGN_OR_RETURN(std::string sha, TreeSha256(local));
    auto existing = client.Get("/api/v1/models/" + EncodePath(name) + "/versions/" +
                               (version.empty() ? "latest" : EncodePath(version)));
    if (existing) {
      if ((*existing).value("sha256", "") == sha) return *existing;
      if (!version.empty()) {
        return AlreadyExists("model '" + name + ":" + version +
                             "' is already registered with different files; model versions are "
                             "immutable: change `version`, or refer to it as 'azureml:" + name +
                             ":" + version + "'");
      }
    } else if (existing.error().code() != ErrorCode::kNotFound) {
      return existing.error();
    }
  }
  LOTE_ASSIGN_OR_RETURN(std::string upload, UploadToStaging(client, local));
  nlohmann::json body = {{"name", name}, {"upload_id", upload}};
  // Azure keeps a folder model's folder: AZUREML_MODEL_DIR/<folder>/….
  if (fs::is_directory(local, ec)) body["folder"] = FolderName(local);
  if (!version.empty()) body["version"] = version;
  if (spec.contains("type") && spec["type"].is_string()) body["type"] = spec["type"];
  if (spec.contains("description") && spec["description"].is_string()) body["description"] = spec["description"];
  return client.Post("/api/v1/models", body);
}

}  // namespace lote::cli
