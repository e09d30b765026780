#include "agent/remote_items.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <string>

#include "common/fs_name.h"
#include "common/unique_fd.h"
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

// The spans of a Parquet row-group item: [offset, length] pairs in order,
// apart, within file_size (jobs/planner_parquet.h).
constexpr size_t kMaxSpans = 64;

struct Span {
  uint64_t offset = 0;
  uint64_t length = 0;
};

Result<std::vector<Span>> Spans(const json& item, uint64_t file_size) {
  const json& list = item["spans"];
  if (!list.is_array() || list.empty() || list.size() > kMaxSpans) {
    return InvalidArgument("\"spans\" must be a list of 1 to " + std::to_string(kMaxSpans) + " [offset, length]");
  }
  std::vector<Span> out;
  uint64_t end = 0;
  for (const json& s : list) {
    auto whole = [](const json& n) {
      return n.is_number_unsigned() || (n.is_number_integer() && n.get<int64_t>() >= 0);
    };
    if (!s.is_array() || s.size() != 2 || !whole(s[0]) || !whole(s[1])) {
      return InvalidArgument("a span must be [offset, length] of non-negative integers, not " + s.dump());
    }
    Span span{s[0].get<uint64_t>(), s[1].get<uint64_t>()};
    if ((!out.empty() && span.offset < end) || span.offset > file_size ||
        span.length > file_size - span.offset) {
      return InvalidArgument("span " + s.dump() + " is not in order within the file's " +
                             std::to_string(file_size) + " bytes");
    }
    end = span.offset + span.length;
    out.push_back(span);
  }
  return out;
}

// Writes one span's body at its offset of the sparse file; a retried
// download writes the same bytes again.
class SpanSink final : public DownloadSink {
 public:
  SpanSink(int fd, const fs::path& path, Span span) : fd_(fd), path_(path), span_(span) {}
  Status Restart() override {
    bytes_ = 0;
    return {};
  }
  Status Write(std::string_view data) override {
    if (data.size() > span_.length - bytes_) {
      return InvalidArgument("the control plane sent more than the span's " + std::to_string(span_.length) +
                             " bytes");
    }
    uint64_t at = span_.offset + bytes_;
    bytes_ += data.size();
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(at));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return IoError("cannot write " + Quote(EscapeName(path_.string())) + ": " + std::strerror(errno));
      data.remove_prefix(static_cast<size_t>(n));
      at += static_cast<uint64_t>(n);
    }
    return {};
  }
  uint64_t bytes() const { return bytes_; }

 private:
  int fd_;
  const fs::path& path_;
  Span span_;
  uint64_t bytes_ = 0;
};

// Item `index`'s spans into a new sparse file of file_size bytes at path.
Status FetchSpans(const json& item, size_t index, const fs::path& path, const ItemFetch& fetch,
                  std::vector<fs::path>* created) {
  LOTE_ASSIGN_OR_RETURN(uint64_t file_size, Count(item, "file_size"));
  LOTE_ASSIGN_OR_RETURN(std::vector<Span> spans, Spans(item, file_size));
  const std::string shown = Quote(EscapeName(path.string()));
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return IoError("cannot create " + shown + ": " + std::strerror(errno));
  created->push_back(path);
  if (::ftruncate(fd.get(), static_cast<off_t>(file_size)) != 0) {
    return IoError("cannot size " + shown + ": " + std::strerror(errno));
  }
  for (size_t k = 0; k < spans.size(); ++k) {
    SpanSink sink(fd.get(), path, spans[k]);
    LOTE_TRY(fetch(index, k, sink));
    if (sink.bytes() != spans[k].length) {
      return IoError("the control plane sent " + std::to_string(sink.bytes()) + " of span " + std::to_string(k) +
                     "'s " + std::to_string(spans[k].length) + " bytes");
    }
  }
  if (::close(fd.Release()) != 0) return IoError("cannot write " + shown + ": " + std::strerror(errno));
  return {};
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
    if (!range && item.contains("spans")) {
      if (Status got = FetchSpans(item, i, path, fetch, created); !got) return fail(got.error());
      json local = PathItem(path.string());
      for (const char* key : {"row_group", "row_groups"}) {
        if (auto it = item.find(key); it != item.end()) local[key] = *it;
      }
      out.push_back(std::move(local));
      continue;
    }
    FileDownloadOptions opts{.path = path,
                             .base = range && !chunk ? offset : 0,
                             .prefix = chunk && header ? *header + "\n" : std::string(),
                             .max_bytes = range ? length : UINT64_MAX,
                             .sha256 = false};
    auto dl = FileDownload::Create(std::move(opts));
    if (!dl) return fail(dl.error());
    created->push_back(path);
    Status got = fetch(i, std::nullopt, **dl);
    Status closed = (*dl)->Close();
    if (!got) return fail(got.error());
    if (!closed) return fail(closed.error());
    if (range && (*dl)->bytes() != length) {
      return fail(IoError("the control plane sent " + std::to_string((*dl)->bytes()) +
                          " of the range's " + std::to_string(length) + " bytes"));
    }
    json local = PathItem(path.string());
    // A Parquet row-group item planned without spans: the whole file was
    // fetched; the worker reads the row groups it names.
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
