#include "agent/results_file.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "common/results_file_name.h"
#include "common/unique_fd.h"

namespace lote::agent {

Result<WrittenResults> WriteResultsFile(const std::filesystem::path& dir, const std::vector<std::string_view>& pieces) {
  WrittenResults out;
  out.name = NewResultsFileName();
  out.path = dir / out.name;
  UniqueFd fd(open(out.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) {
    return IoError("cannot create the results file '" + out.path.string() + "': " + std::strerror(errno));
  }
  std::vector<iovec> iov;
  iov.reserve(pieces.size());
  for (std::string_view p : pieces) {
    if (!p.empty()) iov.push_back({const_cast<char*>(p.data()), p.size()});
    out.bytes += p.size();
  }
  // writev writes at most IOV_MAX pieces and may stop short: go on from
  // where it stopped.
  size_t at = 0;
  while (at < iov.size()) {
    // At most kChunk bytes a call: the kernel copies a chunk into the page
    // cache while the next one is still in the CPU's cache.
    constexpr size_t kChunk = 256u << 10;
    int n = 0;
    size_t chunk = 0;
    iovec saved{};
    while (at + n < iov.size() && n < IOV_MAX && chunk < kChunk) {
      chunk += iov[at + n].iov_len;
      ++n;
    }
    size_t last = at + n - 1;
    if (chunk > kChunk) {  // cut the last piece down to the chunk
      saved = iov[last];
      iov[last].iov_len -= chunk - kChunk;
    }
    ssize_t w = writev(fd.get(), iov.data() + at, n);
    if (saved.iov_base != nullptr) iov[last].iov_len = saved.iov_len;
    if (w < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      unlink(out.path.c_str());
      return IoError("cannot write the results file '" + out.path.string() + "': " + std::strerror(e));
    }
    auto left = static_cast<size_t>(w);
    while (at < iov.size() && left >= iov[at].iov_len) left -= iov[at++].iov_len;
    if (left > 0) {
      iov[at].iov_base = static_cast<char*>(iov[at].iov_base) + left;
      iov[at].iov_len -= left;
    }
  }
  // Closed before it is posted: the server sees its whole size.
  if (close(fd.Release()) != 0) {
    int e = errno;
    unlink(out.path.c_str());
    return IoError("cannot write the results file '" + out.path.string() + "': " + std::strerror(e));
  }
  return out;
}

}  // namespace lote::agent
