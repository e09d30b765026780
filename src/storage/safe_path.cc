#include "storage/safe_path.h"

#include <vector>

namespace lote::storage {

Result<std::string> NormalizeRelativePath(std::string_view rel) {
  if (rel.find('\0') != std::string_view::npos) {
    return InvalidArgument("path contains a NUL character");
  }
  if (!rel.empty() && (rel.front() == '/' || rel.front() == '\\')) {
    return InvalidArgument("path '" + std::string(rel) + "' is absolute; give a path relative to the datastore");
  }
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    std::string_view seg = rel.substr(start, end - start);
    if (seg == "..") {
      return InvalidArgument("path '" + std::string(rel) + "' contains '..'; paths cannot leave their datastore");
    }
    if (!seg.empty() && seg != ".") parts.push_back(seg);
    start = end + 1;
  }
  std::string out;
  for (auto p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

Result<std::filesystem::path> SafeJoin(const std::filesystem::path& root, std::string_view rel) {
  LOTE_ASSIGN_OR_RETURN(std::string norm, NormalizeRelativePath(rel));
  std::filesystem::path full = norm.empty() ? root : root / norm;
  std::error_code ec;
  if (std::filesystem::exists(full, ec)) {
    auto real_root = std::filesystem::weakly_canonical(root, ec);
    auto real = std::filesystem::weakly_canonical(full, ec);
    if (ec) return IoError("cannot resolve '" + full.string() + "': " + ec.message());
    auto r = real_root.string();
    auto f = real.string();
    if (f != r && !(f.size() > r.size() && f.compare(0, r.size(), r) == 0 && f[r.size()] == '/')) {
      return InvalidArgument("path '" + std::string(rel) + "' leads outside its datastore");
    }
  }
  return full;
}

}  // namespace lote::storage
