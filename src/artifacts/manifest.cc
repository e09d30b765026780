#include "artifacts/manifest.h"

#include <algorithm>

#include "common/crypto.h"
#include "common/fs_name.h"
#include "common/util.h"

namespace lote::artifacts {

using nlohmann::json;

namespace {

std::string Shown(std::string_view path) {
  return Quote(EscapeName(path));
}

Result<uint64_t> Count(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_unsigned()) {
    return InvalidArgument("must be a non-negative integer", where + key);
  }
  return it->get<uint64_t>();
}

Result<std::string> Hash(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string() || !IsSha256Hex(it->get<std::string>())) {
    return InvalidArgument("must be 64 lowercase hex digits (a sha256)", where + key);
  }
  return it->get<std::string>();
}

}  // namespace

uint64_t Tree::bytes() const {
  uint64_t total = 0;
  for (const FileEntry& f : files) total += f.size;
  return total;
}

bool IsSha256Hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Status CheckRelativePath(std::string_view path) {
  if (path.empty()) return InvalidArgument("a file path is empty");
  if (path.size() > kMaxPathBytes) {
    return InvalidArgument("file path " + Shown(path.substr(0, 40)) + "… is over " +
                           std::to_string(kMaxPathBytes) + " bytes");
  }
  if (path.find('\0') != std::string_view::npos) {
    return InvalidArgument("file path " + Shown(path) + " holds a NUL byte");
  }
  if (path.front() == '/') return InvalidArgument("file path " + Shown(path) + " is absolute");
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view part =
        path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    if (part.empty() || part == "." || part == "..") {
      return InvalidArgument("file path " + Shown(path) +
                             " is not a normal relative path (an empty, '.' or '..' part)");
    }
    if (part.size() > kMaxNameBytes) {
      return InvalidArgument("file path " + Shown(path) + " has a name over " +
                             std::to_string(kMaxNameBytes) + " bytes");
    }
    if (slash == std::string_view::npos) return {};
    start = slash + 1;
  }
}

std::string TreeDigest(const std::vector<FileEntry>& files) {
  std::vector<const FileEntry*> sorted;
  sorted.reserve(files.size());
  for (const FileEntry& f : files) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(),
            [](const FileEntry* a, const FileEntry* b) { return a->path < b->path; });
  Sha256Hasher h;
  for (const FileEntry* f : sorted) {
    h.Update(f->path);
    h.Update(std::string_view("\0", 1));
    h.Update(std::to_string(f->size));
    h.Update(std::string_view("\0", 1));
    h.Update(f->sha256);
    h.Update(std::string_view("\0", 1));
    h.Update(f->executable ? "x\n" : "-\n");
  }
  return h.HexDigest();
}

Status Seal(Tree& tree, const Limits& limits) {
  const std::string what = "tree '" + tree.name + "'";
  if (tree.files.size() > limits.max_files) {
    return InvalidArgument(what + " has " + std::to_string(tree.files.size()) +
                           " files, over the limit of " + std::to_string(limits.max_files));
  }
  std::sort(tree.files.begin(), tree.files.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  uint64_t total = 0;
  for (size_t i = 0; i < tree.files.size(); ++i) {
    const FileEntry& f = tree.files[i];
    if (auto st = CheckRelativePath(f.path); !st) return st.error().WithContext(what);
    if (!IsSha256Hex(f.sha256))
      return InvalidArgument(what + ": file " + Shown(f.path) + " has no valid sha256");
    if (i > 0 && tree.files[i - 1].path == f.path) {
      return InvalidArgument(what + ": file " + Shown(f.path) + " is listed twice");
    }
    // A file that is also a folder of another ("a" and "a/b") cannot be laid out.
    if (i > 0 && f.path.size() > tree.files[i - 1].path.size() &&
        f.path.starts_with(tree.files[i - 1].path) &&
        f.path[tree.files[i - 1].path.size()] == '/') {
      return InvalidArgument(what + ": " + Shown(tree.files[i - 1].path) +
                             " is both a file and a folder");
    }
    if (f.size > limits.max_bytes || total + f.size > limits.max_bytes) {
      return InvalidArgument(what + " holds over " + std::to_string(limits.max_bytes) +
                             " bytes, the limit");
    }
    total += f.size;
  }
  if (!tree.entry.empty()) {
    bool found = std::any_of(tree.files.begin(), tree.files.end(),
                             [&](const FileEntry& f) { return f.path == tree.entry; });
    if (!found)
      return InvalidArgument(what + ": its entry " + Shown(tree.entry) +
                             " is not one of its files");
  }
  tree.sha256 = TreeDigest(tree.files);
  return {};
}

json TreeToJson(const Tree& tree) {
  json files = json::array();
  for (const FileEntry& f : tree.files) {
    json e = json::object();
    SetBytesField(e, "path", f.path);
    e["size"] = f.size;
    e["sha256"] = f.sha256;
    e["executable"] = f.executable;
    files.push_back(std::move(e));
  }
  json out = {{"name", tree.name}, {"sha256", tree.sha256}, {"files", std::move(files)}};
  if (!tree.entry.empty()) out["entry"] = tree.entry;
  return out;
}

Result<Tree> TreeFromJson(const json& j, const Limits& limits) {
  if (!j.is_object()) return InvalidArgument("a tree must be an object");
  Tree tree;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get<std::string>().empty()) {
    return InvalidArgument("must be a non-empty string", "name");
  }
  tree.name = *name;
  const std::string where = "tree '" + tree.name + "'.";
  if (auto entry = j.find("entry"); entry != j.end() && !entry->is_null()) {
    if (!entry->is_string()) return InvalidArgument("must be a string", where + "entry");
    tree.entry = *entry;
  }
  auto files = j.find("files");
  if (files == j.end() || !files->is_array())
    return InvalidArgument("must be a list", where + "files");
  if (files->size() > limits.max_files) {
    return InvalidArgument("lists " + std::to_string(files->size()) + " files, over the limit of " +
                               std::to_string(limits.max_files),
                           where + "files");
  }
  tree.files.reserve(files->size());
  for (size_t i = 0; i < files->size(); ++i) {
    const json& e = (*files)[i];
    const std::string at = where + "files[" + std::to_string(i) + "].";
    if (!e.is_object()) return InvalidArgument("must be an object", at.substr(0, at.size() - 1));
    FileEntry f;
    auto path = GetBytesField(e, "path");
    if (!path) return Error(path.error().code(), path.error().message(), at + "path");
    if (!*path) return InvalidArgument("missing", at + "path");
    f.path = std::move(**path);
    LOTE_ASSIGN_OR_RETURN(f.size, Count(e, "size", at));
    LOTE_ASSIGN_OR_RETURN(f.sha256, Hash(e, "sha256", at));
    if (auto x = e.find("executable"); x != e.end() && !x->is_null()) {
      if (!x->is_boolean()) return InvalidArgument("must be true or false", at + "executable");
      f.executable = x->get<bool>();
    }
    tree.files.push_back(std::move(f));
  }
  LOTE_TRY(Seal(tree, limits));
  if (auto sha = j.find("sha256"); sha != j.end() && !sha->is_null()) {
    if (!sha->is_string() || *sha != tree.sha256) {
      return InvalidArgument("the tree's sha256 " + sha->dump() +
                                 " is not the digest of its files (" + tree.sha256 + ")",
                             where + "sha256");
    }
  }
  return tree;
}

json TreeRef(const Tree& tree) {
  json ref = {{"sha256", tree.sha256}, {"files", tree.files.size()}, {"bytes", tree.bytes()}};
  if (!tree.entry.empty()) ref["entry"] = tree.entry;
  return ref;
}

json ManifestToJson(const std::vector<Tree>& trees) {
  json list = json::array();
  for (const Tree& t : trees) list.push_back(TreeToJson(t));
  return json{{"trees", std::move(list)}};
}

Result<std::vector<Tree>> ManifestFromJson(const json& j, const Limits& limits) {
  if (!j.is_object()) return InvalidArgument("the manifest is not a JSON object");
  auto trees = j.find("trees");
  if (trees == j.end() || !trees->is_array()) return InvalidArgument("must be a list", "trees");
  std::vector<Tree> out;
  for (size_t i = 0; i < trees->size(); ++i) {
    auto tree = TreeFromJson((*trees)[i], limits);
    if (!tree) return tree.error().UnderField("trees[" + std::to_string(i) + "]");
    out.push_back(std::move(*tree));
  }
  return out;
}

}  // namespace lote::artifacts
