// Helpers shared by the fuzz targets (fuzz/README.md).
//
// A target checks more than "does not crash": each states the invariants of
// the code it drives (a frame read back is the frame written, byte ranges
// cover the body exactly, ...) and fails them with FuzzCheck, which prints
// what broke and aborts, so that libFuzzer keeps the input as a crash.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace lote::fuzz {

// Aborts with `what` when `ok` is false. Not an assert: kept in every build.
inline void FuzzCheck(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "\nfuzz invariant broken: %s\n", what.c_str());
  std::abort();
}

// LOTE_FUZZ_STRICT=1 also fails the invariants that known, open defects
// break in files another change owns (KnownIssue). fuzz/run.sh runs
// fuzz/pending/ so, to tell when they are fixed and the check can be made
// unconditional.
inline bool Strict() {
  static const bool strict = [] {
    const char* v = std::getenv("LOTE_FUZZ_STRICT");
    return v != nullptr && std::string_view(v) == "1";
  }();
  return strict;
}

// FuzzCheck under LOTE_FUZZ_STRICT=1; otherwise a broken invariant that is a
// known defect (named in `what`) is let pass, so the fuzzer looks further.
inline void KnownIssue(bool ok, const std::string& what) {
  if (Strict()) FuzzCheck(ok, "known issue: " + what);
}

// An in-memory file (memfd) that code taking a path or a descriptor can read:
// path() is /proc/self/fd/N. One per process, rewritten for every input, and
// gone with the process, so a crash leaves nothing behind in /tmp.
class ScratchFile {
 public:
  ScratchFile() : fd_(memfd_create("lote-fuzz", MFD_CLOEXEC)) {
    FuzzCheck(fd_ >= 0, "memfd_create failed");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~ScratchFile() { close(fd_); }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  // Replaces the contents and rewinds the descriptor.
  void Set(std::string_view data) {
    FuzzCheck(ftruncate(fd_, 0) == 0, "ftruncate failed");
    size_t done = 0;
    while (done < data.size()) {
      ssize_t w = pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(done));
      FuzzCheck(w > 0, "pwrite failed");
      done += static_cast<size_t>(w);
    }
    FuzzCheck(lseek(fd_, 0, SEEK_SET) == 0, "lseek failed");
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

// Splits a fuzz input into fields: the first bytes are parameters, the rest
// is the body. Reading past the end gives zeros, so every input is usable.
class InputReader {
 public:
  InputReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(Byte() << 8 | Byte()); }
  // Up to the next '\n' (not included) or the end.
  std::string_view Line() {
    std::string_view rest = Rest();
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      pos_ = size_;
      return rest;
    }
    pos_ += nl + 1;
    return rest.substr(0, nl);
  }
  std::string_view Rest() const {
    return pos_ < size_ ? std::string_view(reinterpret_cast<const char*>(data_) + pos_, size_ - pos_)
                        : std::string_view();
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace lote::fuzz
