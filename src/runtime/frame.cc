#include "runtime/frame.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "runtime/deadline.h"

namespace lote::runtime {

namespace {

constexpr char kTimedOut[] = "timed out";
constexpr char kClosed[] = "worker closed the protocol pipe";

Error ProtocolError(const std::string& what) { return InvalidArgument("protocol error: " + what); }

// Waits until fd is ready for `events` or the deadline passes.
Status WaitReady(int fd, short events, const Deadline& deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, deadline.RemainingMs());
    if (n > 0) return {};  // readable, writable, or an error/hangup the next call reports
    if (n == 0) return Error(ErrorCode::kUnavailable, kTimedOut);
    if (errno != EINTR) return IoError(std::string("poll: ") + std::strerror(errno));
  }
}

Status ReadExact(int fd, char* buf, size_t n, const Deadline& deadline) {
  size_t got = 0;
  while (got < n) {
    LOTE_TRY(WaitReady(fd, POLLIN, deadline));
    ssize_t r = read(fd, buf + got, n - got);
    if (r > 0) {
      got += static_cast<size_t>(r);
    } else if (r == 0) {
      return IoError(kClosed);
    } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
      return IoError(std::string("reading the protocol pipe: ") + std::strerror(errno));
    }
  }
  return {};
}

// Reads n bytes into *out, growing it as they arrive rather than trusting n
// up front: a corrupt length costs no large allocation before the stream
// ends or the deadline passes.
Status ReadGrowing(int fd, uint64_t n, std::string* out, const Deadline& deadline) {
  constexpr size_t kChunk = size_t{1} << 20;
  out->clear();
  while (out->size() < n) {
    size_t take = static_cast<size_t>(std::min<uint64_t>(kChunk, n - out->size()));
    size_t at = out->size();
    out->resize(at + take);
    LOTE_TRY(ReadExact(fd, out->data() + at, take, deadline));
  }
  return {};
}

// Blocks SIGPIPE in the calling thread while it lives, and swallows a SIGPIPE
// that this thread's writes raised, so a dead reader is an EPIPE error and not
// the end of the agent. (SIGPIPE from a pipe write goes to the writing thread.)
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~ScopedSigpipeBlock() {
    if (raised_ && !was_pending_) {
      timespec zero{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  void NoteEpipe() { raised_ = true; }

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
  bool raised_ = false;
};

Status WriteAll(int fd, std::string_view data, const Deadline& deadline,
                ScopedSigpipeBlock& sigpipe) {
  while (!data.empty()) {
    ssize_t w = write(fd, data.data(), data.size());
    if (w >= 0) {
      data.remove_prefix(static_cast<size_t>(w));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      LOTE_TRY(WaitReady(fd, POLLOUT, deadline));
      continue;
    }
    if (errno == EPIPE) {
      sigpipe.NoteEpipe();
      return IoError(kClosed);
    }
    return IoError(std::string("writing the protocol pipe: ") + std::strerror(errno));
  }
  return {};
}

}  // namespace

bool IsTimeout(const Error& error) {
  return error.code() == ErrorCode::kUnavailable && error.message() == kTimedOut;
}

bool IsClosed(const Error& error) {
  return error.code() == ErrorCode::kIo && error.message() == kClosed;
}

bool IsRefusedMessage(const Error& error) { return error.code() == ErrorCode::kInvalidArgument; }

std::string TruncateText(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + " … (" + std::to_string(s.size() - cut) +
         " more bytes)";
}

namespace {

void BoundField(nlohmann::json& obj, const char* key, size_t max) {
  auto it = obj.find(key);
  if (it != obj.end() && it->is_string() && it->get_ref<const std::string&>().size() > max) {
    *it = TruncateText(it->get_ref<const std::string&>(), max);
  }
}

}  // namespace

void BoundMessageTexts(nlohmann::json& msg) {
  if (!msg.is_object()) return;
  BoundField(msg, "error", kMaxErrorTextBytes);
  BoundField(msg, "traceback", kMaxTracebackBytes);
  auto errs = msg.find("item_errors");
  if (errs == msg.end() || !errs->is_array()) return;
  const size_t total = errs->size();
  if (total > kMaxItemErrors) {
    errs->erase(errs->begin() + static_cast<std::ptrdiff_t>(kMaxItemErrors), errs->end());
  }
  for (auto& e : *errs) {
    if (!e.is_object()) continue;
    BoundField(e, "item", kMaxErrorTextBytes);
    BoundField(e, "error", kMaxErrorTextBytes);
    BoundField(e, "traceback", kMaxTracebackBytes);
    BoundField(e, "row", 64);
    BoundField(e, "column", 1024);
  }
  if (total > kMaxItemErrors) {
    errs->push_back({{"item", "?"},
                     {"error", std::to_string(total - kMaxItemErrors) +
                                   " more item errors in this result (not listed)"}});
  }
}

Status WriteFrame(int fd, const nlohmann::json& msg, std::string_view payload, int timeout_ms) {
  if (!msg.is_object()) return InvalidArgument("a protocol message must be a JSON object");
  nlohmann::json m = msg;
  if (payload.empty()) {
    m.erase("payload_bytes");
  } else {
    m["payload_bytes"] = payload.size();
  }
  // Invalid UTF-8 (a file name from a foreign file system) is replaced rather
  // than failing the whole message.
  std::string text = m.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kMaxFrameJsonBytes) {
    return InvalidArgument("protocol message of " + std::to_string(text.size()) +
                           " bytes exceeds the 64 MiB frame limit");
  }
  auto n = static_cast<uint32_t>(text.size());
  std::string buf;
  buf.reserve(4 + text.size());
  buf.push_back(static_cast<char>((n >> 24) & 0xff));
  buf.push_back(static_cast<char>((n >> 16) & 0xff));
  buf.push_back(static_cast<char>((n >> 8) & 0xff));
  buf.push_back(static_cast<char>(n & 0xff));
  buf += text;

  Deadline deadline = Deadline::AfterMs(timeout_ms);
  ScopedSigpipeBlock sigpipe;
  LOTE_TRY(WriteAll(fd, buf, deadline, sigpipe));
  return WriteAll(fd, payload, deadline, sigpipe);
}

Result<Frame> ReadFrame(int fd, int timeout_ms) {
  Deadline deadline = Deadline::AfterMs(timeout_ms);
  unsigned char header[4];
  LOTE_TRY(ReadExact(fd, reinterpret_cast<char*>(header), sizeof header, deadline));
  uint32_t n = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
               (uint32_t{header[2]} << 8) | uint32_t{header[3]};
  if (n > kMaxFrameJsonBytes) {
    return ProtocolError("frame of " + std::to_string(n) + " bytes exceeds the 64 MiB limit");
  }
  std::string text;
  LOTE_TRY(ReadGrowing(fd, n, &text, deadline));

  Frame frame;
  try {
    frame.msg = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return ProtocolError(std::string("frame is not JSON: ") + e.what());
  }
  if (!frame.msg.is_object()) return ProtocolError("frame is not a JSON object");
  auto type = frame.msg.find("type");
  if (type == frame.msg.end() || !type->is_string()) {
    return ProtocolError("frame has no string \"type\"");
  }

  auto pb = frame.msg.find("payload_bytes");
  if (pb == frame.msg.end() || pb->is_null()) return frame;
  if (!pb->is_number_unsigned() && !(pb->is_number_integer() && pb->get<int64_t>() >= 0)) {
    return ProtocolError("payload_bytes must be a non-negative integer");
  }
  uint64_t k = pb->get<uint64_t>();
  if (k > kMaxFramePayloadBytes) {
    return ProtocolError("payload of " + std::to_string(k) + " bytes is over the limit");
  }
  LOTE_TRY(ReadGrowing(fd, k, &frame.payload, deadline));
  return frame;
}

}  // namespace lote::runtime
