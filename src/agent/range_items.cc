#include "agent/range_items.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/fs_name.h"
#include "common/util.h"

namespace lote::agent {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kCopyBlock = size_t{1} << 20;

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return IoError(std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(w));
  }
  return {};
}

Result<uint64_t> U64(const json& item, const char* key) {
  auto it = item.find(key);
  if (it == item.end() || !it->is_number_integer() ||
      (!it->is_number_unsigned() && it->get<int64_t>() < 0)) {
    return InvalidArgument(std::string("\"") + key + "\" must be a non-negative integer");
  }
  return it->get<uint64_t>();
}

// Writes the chunk of one range item to `chunk` (listed in *created once
// this call made it).
Status WriteChunk(const std::string& src, uint64_t offset, uint64_t length,
                  const std::optional<std::string>& header, const fs::path& chunk,
                  std::vector<fs::path>* created) {
  Fd in{::open(src.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) return IoError(std::string("cannot open it: ") + std::strerror(errno));
  // A fresh file of our own: never through a link or into a stranger's file.
  if (::unlink(chunk.c_str()) != 0 && errno != ENOENT) {
    return IoError("cannot replace " + Quote(EscapeName(chunk.string())) + ": " +
                   std::strerror(errno));
  }
  Fd out{::open(chunk.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
  if (out.fd < 0) {
    return IoError("cannot create " + Quote(EscapeName(chunk.string())) + ": " +
                   std::strerror(errno));
  }
  created->push_back(chunk);
  auto write_error = [&](const Error& e) {
    return IoError("cannot write " + Quote(EscapeName(chunk.string())) + ": " + e.message());
  };
  if (header) {
    if (auto st = WriteAll(out.fd, *header + "\n"); !st) return write_error(st.error());
  }
  std::string buf(static_cast<size_t>(std::min<uint64_t>(length, kCopyBlock)), '\0');
  uint64_t done = 0;
  while (done < length) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(length - done, buf.size()));
    ssize_t got = ::pread(in.fd, buf.data(), want, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return IoError(std::string("cannot read it: ") + std::strerror(errno));
    if (got == 0) {
      return IoError("the file ends at byte " + std::to_string(offset + done) +
                     ", inside the range (it changed after the job was planned)");
    }
    if (auto st = WriteAll(out.fd, std::string_view(buf.data(), static_cast<size_t>(got))); !st) {
      return write_error(st.error());
    }
    done += static_cast<uint64_t>(got);
  }
  if (::close(out.fd) != 0) {
    out.fd = -1;
    return IoError("cannot write " + Quote(EscapeName(chunk.string())) + ": " +
                   std::strerror(errno));
  }
  out.fd = -1;
  return {};
}

}  // namespace

Result<json> MaterializeRanges(const json& items, const fs::path& dir,
                               std::vector<fs::path>* created) {
  json out = json::array();
  if (!items.is_array()) return InvalidArgument("the mini-batch's items are not a list");
  for (const auto& item : items) {
    // Row groups of a Parquet file (jobs/planner_parquet.h) are planned only
    // for the native no-code scorer; a whole-file worker given one would
    // score the whole file once per item.
    if (item.is_object() && (item.contains("row_group") || item.contains("row_groups"))) {
      return InvalidArgument("row groups of " + Quote(ItemDisplayPath(item)) +
                             ": a worker that takes whole files cannot score part of a Parquet "
                             "file; give the deployment an integer mini_batch_size");
    }
    if (!item.is_object() || (!item.contains("offset") && !item.contains("length"))) {
      out.push_back(item);
      continue;
    }
    const std::string shown = Quote(ItemDisplayPath(item));
    auto offset = U64(item, "offset");
    auto length = U64(item, "length");
    std::string where = "bytes " + (offset ? std::to_string(*offset) : std::string("?")) + "+" +
                        (length ? std::to_string(*length) : std::string("?")) + " of " + shown;
    auto fail = [&](const Error& e) {
      return Error(e.code(), "cannot prepare " + where + " for the worker: " + e.message());
    };
    if (!offset) return fail(offset.error());
    if (!length) return fail(length.error());
    auto src = ItemPath(item);
    if (!src) return fail(src.error());
    auto header = ItemHeader(item);
    if (!header) return fail(header.error());

    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      return fail(IoError("cannot create " + Quote(EscapeName(dir.string())) + ": " +
                          ec.message()));
    }
    const fs::path src_path = *src;
    const fs::path chunk = dir / (src_path.stem().string() + "@" + std::to_string(*offset) +
                                  src_path.extension().string());
    if (auto st = WriteChunk(*src, *offset, *length, *header, chunk, created); !st) {
      return fail(st.error());
    }
    out.push_back(PathItem(chunk.string()));
  }
  return out;
}

}  // namespace lote::agent
