#include "agent/remote_items.h"

#include <set>
#include <string>

#include "common/fs_name.h"
#include "common/util.h"

namespace lote::agent {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The item's file name as the control plane gave it, when it is one name
// (no '/', not "." or ".."); else a name of our own.
std::string LocalName(const json& item, size_t index) {
  auto name = GetBytesField(item, "name");
  if (name && *name) {
    const std::string& n = **name;
    if (!n.empty() && n != "." && n != ".." && n.size() <= 255 &&
        n.find('/') == std::string::npos && n.find('\0') == std::string::npos) {
      return n;
    }
  }
  return "item-" + std::to_string(index);
}

Result<uint64_t> Count(const json& item, const char* key) {
  auto it = item.find(key);
  if (it == item.end() || !it->is_number_integer() ||
      (!it->is_number_unsigned() && it->get<int64_t>() < 0)) {
    return InvalidArgument(std::string("\"") + key + "\" must be a non-negative integer");
  }
  return it->get<uint64_t>();
}

}  // namespace

std::string DescribeRemoteItem(const json& item) {
  if (!item.is_object()) return item.dump();
  std::string s = Quote(
      item.contains("name") && item["name"].is_string() ? item["name"].get<std::string>() : "?");
  if (item.contains("offset") && item.contains("length")) {
    s += " (bytes " + item["offset"].dump() + "+" + item["length"].dump() + ")";
  }
  return s;
}

Result<json> FetchItems(const json& items, const fs::path& dir, bool whole_files,
                        const ItemFetch& fetch, std::vector<fs::path>* created) {
  if (!items.is_array()) return InvalidArgument("the mini-batch's items are not a list");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return IoError("cannot create the scratch folder " + Quote(EscapeName(dir.string())) + ": " +
                   ec.message());
  json out = json::array();
  std::set<std::string> used;
  for (size_t i = 0; i < items.size(); ++i) {
    const json& item = items[i];
    const std::string what = "item " + std::to_string(i) + " " + DescribeRemoteItem(item);
    auto fail = [&](const Error& e) {
      return Error(e.code(), "cannot fetch " + what + " from the control plane: " + e.message());
    };
    if (!item.is_object()) return fail(InvalidArgument("it is not an object"));
    const bool range = item.contains("offset") || item.contains("length");
    uint64_t offset = 0, length = 0;
    std::optional<std::string> header;
    if (range) {
      auto o = Count(item, "offset");
      if (!o) return fail(o.error());
      auto l = Count(item, "length");
      if (!l) return fail(l.error());
      auto h = ItemHeader(item);
      if (!h) return fail(h.error());
      offset = *o;
      length = *l;
      header = std::move(*h);
    }
    std::string name = LocalName(item, i);
    const bool chunk = range && whole_files;
    if (chunk) {
      const fs::path p(name);
      name = p.stem().string() + "@" + std::to_string(offset) + p.extension().string();
    }
    fs::path folder = dir;
    if (!used.insert(name).second) {
      folder = dir / std::to_string(i);
      fs::create_directories(folder, ec);
      if (ec)
        return fail(
            IoError("cannot create " + Quote(EscapeName(folder.string())) + ": " + ec.message()));
    }
    const fs::path path = folder / name;
    FileDownloadOptions opts{.path = path,
                             .base = range && !chunk ? offset : 0,
                             .prefix = chunk && header ? *header + "\n" : std::string(),
                             .max_bytes = range ? length : UINT64_MAX,
                             .sha256 = false};
    auto dl = FileDownload::Create(std::move(opts));
    if (!dl) return fail(dl.error());
    created->push_back(path);
    Status got = fetch(i, **dl);
    Status closed = (*dl)->Close();
    if (!got) return fail(got.error());
    if (!closed) return fail(closed.error());
    if (range && (*dl)->bytes() != length) {
      return fail(IoError("the control plane sent " + std::to_string((*dl)->bytes()) +
                          " of the range's " + std::to_string(length) + " bytes"));
    }
    json local = PathItem(path.string());
    // A Parquet row-group item: the whole file was fetched; the worker reads
    // the row groups it names.
    for (const char* key : {"row_group", "row_groups"}) {
      if (auto it = item.find(key); it != item.end()) local[key] = *it;
    }
    if (range && !chunk) {
      local["offset"] = offset;
      local["length"] = length;
      if (header) SetBytesField(local, kItemHeaderKey, *header);
      for (const char* key : {kItemFirstRowKey, kItemFirstLineKey}) {
        if (auto it = item.find(key); it != item.end()) local[key] = *it;
      }
    }
    out.push_back(std::move(local));
  }
  return out;
}

}  // namespace lote::agent
