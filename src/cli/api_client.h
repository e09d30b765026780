// The CLI's HTTP client of the control plane. Finds the server through
// LOTE_ENDPOINT/LOTE_TOKEN, or through what a local `lote serve` recorded in
// LOTE_HOME (server.json and admin_token). Server errors come back as the
// same lote::Error the server raised (code, message, field).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::cli {

struct ClientOptions {
  std::string base_url;  // "http://127.0.0.1:8070"
  std::string token;
};

Result<ClientOptions> ResolveClientOptions();

class ApiClient {
 public:
  explicit ApiClient(ClientOptions options);
  ~ApiClient();

  // Each returns the JSON body (null for 204 No Content).
  Result<nlohmann::json> Get(const std::string& path);
  Result<nlohmann::json> Post(const std::string& path, const nlohmann::json& body);
  Result<nlohmann::json> Put(const std::string& path, const nlohmann::json& body);
  Result<nlohmann::json> Patch(const std::string& path, const nlohmann::json& body);
  Result<nlohmann::json> Delete(const std::string& path);
  // Streams a local file as the body of PUT path.
  Status PutFile(const std::string& path, const std::filesystem::path& local);
  // Streams GET path into a local file.
  Status GetFile(const std::string& path, const std::filesystem::path& local);

  const ClientOptions& options() const { return options_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ClientOptions options_;
};

// Percent-encodes each segment of a relative path for use in a URL.
std::string EncodePath(std::string_view rel);

}  // namespace lote::cli
