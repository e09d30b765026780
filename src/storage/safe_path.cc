#include "storage/safe_path.h"

#include <climits>
#include <vector>

#include "common/util.h"
#include "storage/beneath.h"

namespace lote::storage {

Result<std::string> NormalizeRelativePath(std::string_view rel) {
  if (rel.find('\0') != std::string_view::npos) {
    return InvalidArgument("path contains a NUL character");
  }
  if (rel.size() >= PATH_MAX) {
    return InvalidArgument("path of " + std::to_string(rel.size()) + " bytes is over the " +
                           std::to_string(PATH_MAX - 1) + "-byte limit");
  }
  if (!rel.empty() && (rel.front() == '/' || rel.front() == '\\')) {
    return InvalidArgument("path " + Quote(rel) + " is absolute; give a path relative to the datastore");
  }
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    std::string_view seg = rel.substr(start, end - start);
    if (seg == "..") {
      return InvalidArgument("path " + Quote(rel) + " contains '..'; paths cannot leave their datastore");
    }
    if (seg.size() > NAME_MAX) {
      return InvalidArgument("path " + Quote(rel.substr(0, 64)) + "… has a name of " +
                             std::to_string(seg.size()) + " bytes, over the " + std::to_string(NAME_MAX) +
                             "-byte limit for one name");
    }
    if (!seg.empty() && seg != ".") parts.push_back(seg);
    start = end + 1;
  }
  // Checked on the normal form too: "./\\x" would otherwise normalize to
  // "\\x", which this function refuses (a name that cannot be given back).
  if (!parts.empty() && parts.front().front() == '\\') {
    return InvalidArgument("path " + Quote(rel) + " is absolute; give a path relative to the datastore");
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
  auto beneath = Beneath::Open(root, Quote(root.string()));
  if (!beneath) {
    // No root folder: nothing inside it can lead anywhere yet.
    if (beneath.error().code() == ErrorCode::kNotFound) return full;
    return beneath.error();
  }
  // The longest existing prefix decides where the rest would be created.
  std::string prefix = norm;
  while (true) {
    auto info = beneath->Stat(prefix);
    if (info) return full;
    if (info.error().code() != ErrorCode::kNotFound || prefix.empty()) return info.error();
    size_t slash = prefix.rfind('/');
    prefix = slash == std::string::npos ? "" : prefix.substr(0, slash);
  }
}

}  // namespace lote::storage
