#include "registry/registry.h"

#include <charconv>

#include "common/util.h"
#include "storage/safe_path.h"

namespace lote::registry {

namespace fs = std::filesystem;

Result<std::unique_ptr<Registry>> Registry::Create(const RegistryOptions& options) {
  LOTE_CHECK(options.store != nullptr);
  std::unique_ptr<Registry> r(new Registry(options));
  std::error_code ec;
  for (const fs::path& dir : {options.home.models(), options.home.code(), options.home.staging(),
                              options.home.datastores()}) {
    fs::create_directories(dir, ec);
    if (ec) return IoError("cannot create '" + dir.string() + "': " + ec.message());
  }
  LOTE_TRY(r->EnsureDefaultDatastore());
  LOTE_TRY(r->EnsureEndpointUids());
  return r;
}

Result<std::string> Registry::CreateUpload() {
  std::string id = RandomHex(16);
  std::error_code ec;
  fs::create_directories(home_.staging() / id, ec);
  if (ec) return IoError("cannot create upload folder: " + ec.message());
  return id;
}

namespace {
// Upload ids are RandomHex(16): 32 lower-case hex digits.
Status CheckUploadId(const std::string& id) {
  if (id.size() != 32 || id.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return InvalidArgument("malformed upload id " + Quote(id.substr(0, 64)));
  }
  return {};
}
}  // namespace

Result<storage::Beneath> Registry::OpenUpload(const std::string& upload_id) {
  LOTE_TRY(CheckUploadId(upload_id));
  auto dir = storage::Beneath::Open(home_.staging() / upload_id, "upload '" + upload_id + "'");
  if (!dir && dir.error().code() == ErrorCode::kNotFound) return NotFound("upload '" + upload_id + "' not found");
  return dir;
}

Result<fs::path> Registry::UploadFilePath(const std::string& upload_id, const std::string& rel) {
  LOTE_TRY(CheckUploadId(upload_id));
  fs::path dir = home_.staging() / upload_id;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound("upload '" + upload_id + "' not found");
  LOTE_ASSIGN_OR_RETURN(std::string norm, storage::NormalizeRelativePath(rel));
  if (norm.empty()) return InvalidArgument("upload needs a file path");
  return dir / norm;
}

namespace {
bool AllDigits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 18;
}
}  // namespace

Result<std::string> Registry::NextVersion(store::Kind kind, const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(auto all, store_.List(kind, name + "/"));
  long long max = 0;
  for (const json& doc : all) {
    std::string v = doc.value("version", "");
    if (AllDigits(v)) max = std::max(max, std::stoll(v));
  }
  return std::to_string(max + 1);
}

Result<json> Registry::GetVersioned(store::Kind kind, const std::string& name,
                                    const std::string& version) {
  if (!version.empty() && version != "latest") return store_.Get(kind, name + "/" + version);
  LOTE_ASSIGN_OR_RETURN(auto all, store_.List(kind, name + "/"));
  if (all.empty()) {
    return NotFound(std::string(store::KindName(kind)) + " '" + name + "' not found");
  }
  // Highest numeric version wins; otherwise the newest registered.
  const json* best = &all.back();
  long long best_n = -1;
  for (const json& doc : all) {
    std::string v = doc.value("version", "");
    if (AllDigits(v) && std::stoll(v) > best_n) {
      best_n = std::stoll(v);
      best = &doc;
    }
  }
  return *best;
}

Result<std::vector<std::pair<std::string, std::string>>> Registry::DeploymentsUsing(
    const std::function<bool(const json& dep)>& uses) {
  LOTE_ASSIGN_OR_RETURN(auto endpoints, store_.List(store::Kind::kEndpoint));
  std::vector<std::pair<std::string, std::string>> out;
  for (const json& ep : endpoints) {
    for (const json& dep : ep.value("deployments", json::array())) {
      if (uses(dep)) out.emplace_back(ep["name"], dep["name"]);
    }
  }
  return out;
}

}  // namespace lote::registry
