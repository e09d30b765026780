#include "cli/api_client.h"

#include <httplib.h>

#include <cstdlib>
#include <fstream>

#include "common/home.h"
#include "common/util.h"
#include "http/file_body.h"

namespace lote::cli {

namespace fs = std::filesystem;

Result<ClientOptions> ResolveClientOptions() {
  ClientOptions o;
  const char* ep = std::getenv("LOTE_ENDPOINT");
  const char* tok = std::getenv("LOTE_TOKEN");
  HomeLayout home{DefaultHomeDir()};
  if (ep && *ep) {
    o.base_url = ep;
  } else {
    auto info = ReadFile(home.server_info());
    if (!info) {
      return Error(ErrorCode::kUnavailable,
                   "no lote server found: start one with `lote serve` (it records its URL in '" +
                       home.server_info().string() + "'), or set LOTE_ENDPOINT");
    }
    try {
      o.base_url = nlohmann::json::parse(*info).at("url").get<std::string>();
    } catch (const nlohmann::json::exception& e) {
      return Internal("cannot read '" + home.server_info().string() + "': " + e.what());
    }
  }
  while (!o.base_url.empty() && o.base_url.back() == '/') o.base_url.pop_back();
  if (tok && *tok) {
    o.token = tok;
  } else {
    auto t = ReadFile(home.admin_token());
    if (!t) {
      return Error(ErrorCode::kUnauthenticated,
                   "no token: set LOTE_TOKEN, or run on the server's machine where '" +
                       home.admin_token().string() + "' is readable");
    }
    o.token = *t;
    while (!o.token.empty() && (o.token.back() == '\n' || o.token.back() == '\r')) o.token.pop_back();
  }
  return o;
}

struct ApiClient::Impl {
  explicit Impl(const ClientOptions& o) : http(o.base_url) {
    http.set_bearer_token_auth(o.token);
    http.set_connection_timeout(5, 0);
    http.set_read_timeout(300, 0);
    http.set_write_timeout(300, 0);
    http.set_tcp_nodelay(true);  // no delayed-ACK stall between headers and body
  }
  httplib::Client http;
};

ApiClient::ApiClient(ClientOptions options)
    : impl_(std::make_unique<Impl>(options)), options_(std::move(options)) {}
ApiClient::~ApiClient() = default;

namespace {

Result<nlohmann::json> Decode(const httplib::Result& r, const std::string& what,
                              const std::string& base_url) {
  if (!r) {
    return Error(ErrorCode::kUnavailable, "cannot reach the lote server at " + base_url + " (" +
                                              httplib::to_string(r.error()) +
                                              "); is `lote serve` running?");
  }
  nlohmann::json body;
  if (!r->body.empty()) {
    try {
      body = nlohmann::json::parse(r->body);
    } catch (const nlohmann::json::exception&) {
      if (r->status < 300) return InvalidArgument(what + ": server answered with non-JSON");
    }
  }
  if (r->status >= 200 && r->status < 300) return body;
  if (body.is_object() && body.contains("error")) {
    const auto& e = body["error"];
    return Error(ErrorCodeFromName(e.value("code", "")), e.value("message", "unknown error"),
                 e.value("field", ""));
  }
  return Internal(what + ": HTTP " + std::to_string(r->status));
}

const char* kJson = "application/json";

}  // namespace

Result<nlohmann::json> ApiClient::Get(const std::string& path) {
  return Decode(impl_->http.Get(path), "GET " + path, options_.base_url);
}
Result<nlohmann::json> ApiClient::Post(const std::string& path, const nlohmann::json& body) {
  return Decode(impl_->http.Post(path, body.dump(), kJson), "POST " + path, options_.base_url);
}
Result<nlohmann::json> ApiClient::Put(const std::string& path, const nlohmann::json& body) {
  return Decode(impl_->http.Put(path, body.dump(), kJson), "PUT " + path, options_.base_url);
}
Result<nlohmann::json> ApiClient::Patch(const std::string& path, const nlohmann::json& body) {
  return Decode(impl_->http.Patch(path, body.dump(), kJson), "PATCH " + path, options_.base_url);
}
Result<nlohmann::json> ApiClient::Delete(const std::string& path) {
  return Decode(impl_->http.Delete(path), "DELETE " + path, options_.base_url);
}

Status ApiClient::PutFile(const std::string& path, const fs::path& local) {
  LOTE_ASSIGN_OR_RETURN(http::FileBody body, http::StreamFile(local));
  auto r = impl_->http.Put(path, body.size, body.provider, "application/octet-stream");
  auto decoded = Decode(r, "upload " + local.string(), options_.base_url);
  if (!decoded) return decoded.error().WithContext("uploading '" + local.string() + "'");
  return {};
}

Status ApiClient::GetFile(const std::string& path, const fs::path& local) {
  std::ofstream out(local, std::ios::binary | std::ios::trunc);
  if (!out) return IoError("cannot write '" + local.string() + "'");
  std::string error_body;
  int status = 0;
  auto r = impl_->http.Get(
      path,
      [&](const httplib::Response& res) {
        status = res.status;
        return true;
      },
      [&](const char* data, size_t len) {
        if (status >= 300) {
          error_body.append(data, len);
        } else {
          out.write(data, static_cast<std::streamsize>(len));
        }
        return true;
      });
  out.close();
  if (!r || status >= 300) {
    std::error_code ec;
    fs::remove(local, ec);
    if (r) r->body = error_body;
    auto d = Decode(r, "GET " + path, options_.base_url);
    return d ? Internal("download failed") : d.error();
  }
  return {};
}

std::string EncodePath(std::string_view rel) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : rel) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace lote::cli
