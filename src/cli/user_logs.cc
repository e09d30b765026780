#include "cli/user_logs.h"

namespace lote::cli {

std::string UserLogTail::PrefixOf(const std::string& path) {
  std::string p = path;
  if (p.starts_with("user/stdout/")) p = p.substr(12);
  std::string stream;
  for (const char* suffix : {".stdout.txt", ".stderr.txt", ".txt"}) {
    if (p.ends_with(suffix)) {
      p.resize(p.size() - std::string(suffix).size());
      if (std::string(suffix) == ".stderr.txt") stream = " stderr";
      break;
    }
  }
  return "[" + p + stream + "] ";
}

Result<std::string> UserLogTail::Poll(ApiClient& client, const std::string& job) {
  const std::string base = "/api/v1/jobs/" + EncodePath(job) + "/user-logs";
  LOTE_ASSIGN_OR_RETURN(nlohmann::json listing, client.Get(base));
  std::string out;
  for (const auto& f : listing.value("files", nlohmann::json::array())) {
    const std::string path = f.value("path", std::string());
    const int64_t size = f.value("size", int64_t{0});
    int64_t& offset = offsets_[path];
    while (offset < size) {
      LOTE_ASSIGN_OR_RETURN(nlohmann::json chunk,
                            client.Get(base + "/" + EncodePath(path) + "?offset=" + std::to_string(offset)));
      const std::string text = chunk.value("text", std::string());
      const int64_t next = chunk.value("next_offset", offset);
      if (next <= offset) break;  // only part of a line so far
      offset = next;
      const std::string prefix = PrefixOf(path);
      size_t start = 0;
      while (start < text.size()) {
        size_t nl = text.find('\n', start);
        const size_t end = nl == std::string::npos ? text.size() : nl;
        out += prefix + text.substr(start, end - start) + "\n";
        start = end + 1;
      }
    }
  }
  return out;
}

}  // namespace lote::cli
