#include "jobs/output_assembly.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "common/util.h"
#include "storage/beneath.h"

namespace lote::jobs {

namespace fs = std::filesystem;

namespace {

constexpr int kTaskPage = 2000;

Status WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return IoError(std::string("cannot write the output: ") + std::strerror(errno));
    data += w;
    n -= static_cast<size_t>(w);
  }
  return {};
}

// Both names in the folder `dir` are the same file (not following links).
bool SameFile(int dir, const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  return ::fstatat(dir, a.c_str(), &sa, AT_SYMLINK_NOFOLLOW) == 0 &&
         ::fstatat(dir, b.c_str(), &sb, AT_SYMLINK_NOFOLLOW) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

bool Exists(int dir, const std::string& name) {
  struct stat st {};
  return ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

// The output folder, opened (and made) beneath the datastore when the job
// names its root.
Result<storage::UniqueFd> OpenOutputDir(const OutputPlace& place) {
  if (!place.root.empty()) {
    LOTE_ASSIGN_OR_RETURN(auto ds, storage::Beneath::Open(place.root, "the output datastore"));
    LOTE_TRY(ds.MakeDirs(place.rel_dir));
    return ds.OpenNormalized(place.rel_dir, O_RDONLY | O_DIRECTORY);
  }
  std::error_code ec;
  fs::create_directories(place.dest.parent_path(), ec);
  if (ec) return IoError("cannot create the output folder: " + ec.message());
  int fd = ::open(place.dest.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open the output folder: " + std::string(std::strerror(errno)));
  return storage::UniqueFd(fd);
}

// Copies the committed rows of done tasks, reading each results file through
// one open descriptor (batches interleave across a few files).
class RowsReader {
 public:
  explicit RowsReader(const JobDir& dir) : dir_(dir) {}
  ~RowsReader() {
    for (auto& [name, fd] : open_) ::close(fd);
  }
  // Appends the task's rows to out_fd, in the kernel where it can
  // (copy_file_range), else through a buffer. NotFound when the rows are
  // missing or shorter than committed (nothing of them is then kept: the
  // caller drops the whole output).
  // writeback: start writing the source range to disk too (early passes:
  // the results' fsync at the end then has little left).
  Result<int64_t> CopyTo(const store::Task& t, int out_fd, bool writeback) {
    const bool legacy = t.part.empty();
    const fs::path file = legacy ? dir_.part(t.id) : dir_.results() / t.part;
    auto it = open_.find(file.string());
    if (it == open_.end()) {
      if (open_.size() >= kMaxOpen) {
        for (auto& [name, fd] : open_) ::close(fd);
        open_.clear();
      }
      int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT) return NotFound("the rows of mini-batch " + std::to_string(t.id) + " are missing");
      if (fd < 0) {
        return IoError("cannot read the rows of mini-batch " + std::to_string(t.id) + " (" +
                       file.filename().string() + "): " + std::strerror(errno));
      }
      it = open_.emplace(file.string(), fd).first;
    }
    const loff_t start = legacy ? 0 : t.part_offset;
    loff_t offset = start;
    int64_t left = legacy ? -1 : t.part_length;  // -1: to the end of the file
    const std::string what = "the rows of mini-batch " + std::to_string(t.id);
    while (left != 0) {
      size_t want = left < 0 ? size_t{1} << 30 : static_cast<size_t>(left);
      ssize_t n = -1;
      if (kernel_copy_) {
        n = ::copy_file_range(it->second, &offset, out_fd, nullptr, want, 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
          kernel_copy_ = false;
          continue;
        }
      } else {
        n = ::pread(it->second, buf_.data(), std::min(want, buf_.size()), offset);
        if (n > 0) {
          LOTE_TRY(WriteAll(out_fd, buf_.data(), static_cast<size_t>(n)));
          offset += n;
        }
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return IoError("cannot copy " + what + ": " + std::strerror(errno));
      if (n == 0) {
        if (left < 0) break;
        return NotFound(what + " are cut short in " + file.filename().string());
      }
      if (left > 0) left -= n;
    }
    if (writeback && offset > start) {
      // Only a hint: a failure here costs time at the final fsync, nothing else.
      ::sync_file_range(it->second, start, offset - start, SYNC_FILE_RANGE_WRITE);
    }
    return static_cast<int64_t>(offset - start);
  }

 private:
  static constexpr size_t kMaxOpen = 64;
  const JobDir& dir_;
  std::map<std::string, int> open_;
  std::vector<char> buf_ = std::vector<char>(1 << 20);
  bool kernel_copy_ = true;
};

// The header of jobs that did not record one: the first done task's.
std::string LegacyHeader(const JobDir& dir, const store::Task& t) {
  if (!t.header.empty() || !t.part.empty()) return t.header;
  std::error_code ec;
  if (!fs::exists(dir.header(t.id), ec)) return "";
  auto h = ReadFile(dir.header(t.id));
  return h ? *h : "";
}

// Counts the rows of a destination written by an earlier attempt.
Result<int64_t> CommittedRows(store::JobStore& store, const std::string& job) {
  int64_t rows = 0, after = 0;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(auto tasks, store.ListTasks(job, after, kTaskPage));
    if (tasks.empty()) return rows;
    for (const auto& t : tasks) {
      after = t.id;
      if (t.status == store::TaskStatus::kDone) rows += t.succeeded;
    }
  }
}

std::string RowsTempName(const std::string& tmp) { return tmp + ".rows"; }

// The assembled CSV rows (rows_fd) converted into `format` in the job's
// temporary file `tmp`, synced to disk.
Status ConvertRows(int out_dir, int rows_fd, const std::string& tmp, OutputFormat format, bool has_header) {
  int fd = ::openat(out_dir, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return IoError("cannot write '" + tmp + "' in the output folder: " + std::strerror(errno));
  storage::UniqueFd closer(fd);
  auto rows = ConvertCsvOutput(rows_fd, fd, format, {.has_header = has_header});
  if (!rows) {
    return rows.error().WithContext("converting the rows to " + std::string(OutputFormatName(format)));
  }
  if (::fsync(fd) != 0) return IoError(std::string("cannot sync the output to disk: ") + std::strerror(errno));
  if (::close(closer.Release()) != 0) return IoError(std::string("cannot write the output: ") + std::strerror(errno));
  return {};
}

}  // namespace

std::string AssemblyTempName(const fs::path& dest, const std::string& job) {
  return "." + dest.filename().string() + ".lote-" + job + ".tmp";
}

namespace {

// kEarly: while the job runs (stops at the first unsettled mini-batch and at
// the first missing rows). kFinal: every mini-batch is settled; missing rows
// are collected (after the first, nothing more is written, the rest are only
// checked).
enum class Pass { kEarly, kFinal };

Status WriteHeader(AssemblyCursor& c, const std::string& header) {
  if (header.empty()) return {};
  std::string h = header + "\n";
  LOTE_TRY(WriteAll(c.fd.get(), h.data(), h.size()));
  c.bytes += static_cast<int64_t>(h.size());
  c.has_header = true;
  return {};
}

// Whether a done task's rows are all in its results file (a task passed
// after an earlier one was found missing).
bool RowsPresent(const JobDir& dir, const store::Task& t) {
  if (!t.part.empty() && t.part_length == 0) return true;
  const fs::path file = t.part.empty() ? dir.part(t.id) : dir.results() / t.part;
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  return !ec && (t.part_length < 0 || size >= static_cast<uintmax_t>(t.part_offset + t.part_length));
}

// False (kEarly): stopped at missing rows; in kFinal they are in *missing.
Result<bool> Advance(AssemblyCursor& c, const JobDir& dir, store::JobStore& store, const std::string& job,
                     Pass pass, const std::atomic<bool>* stop, std::vector<int64_t>* missing) {
  RowsReader reader(dir);
  while (stop == nullptr || !stop->load(std::memory_order_relaxed)) {
    // While the job runs the first unsettled mini-batch is near: a short page.
    LOTE_ASSIGN_OR_RETURN(auto tasks, store.ListTasks(job, c.after, pass == Pass::kEarly ? 256 : kTaskPage));
    if (tasks.empty()) break;
    for (const auto& t : tasks) {
      if (stop != nullptr && stop->load(std::memory_order_relaxed)) break;
      const bool settled = t.status != store::TaskStatus::kPending && t.status != store::TaskStatus::kLeased;
      if (pass == Pass::kEarly && !settled) return true;
      c.after = t.id;
      if (t.status != store::TaskStatus::kDone) continue;
      if (!c.header) c.header = LegacyHeader(dir, t);
      if (missing != nullptr && !missing->empty()) {
        if (!RowsPresent(dir, t)) missing->push_back(t.id);
        continue;
      }
      if (!c.header_passed) {
        LOTE_TRY(WriteHeader(c, *c.header));
        c.header_passed = true;
      }
      auto copied = reader.CopyTo(t, c.fd.get(), pass == Pass::kEarly);
      if (!copied && copied.error().code() == ErrorCode::kNotFound) {
        if (missing == nullptr) return false;
        missing->push_back(t.id);
        continue;
      }
      if (!copied) return copied.error();
      c.bytes += *copied;
      c.rows += t.succeeded;
    }
  }
  if (pass == Pass::kEarly && c.bytes > c.flushed) {
    ::sync_file_range(c.fd.get(), c.flushed, c.bytes - c.flushed, SYNC_FILE_RANGE_WRITE);  // a hint, as above
    c.flushed = c.bytes;
  }
  return true;
}

// The early cursor, if its rows file is still the one named in out_dir and
// holds exactly what it says.
bool Resumable(const AssemblyCursor& c, int out_dir, const std::string& rows_name) {
  struct stat held {}, named {};
  return c.fd && c.name == rows_name && ::fstat(c.fd.get(), &held) == 0 &&
         held.st_size == static_cast<off_t>(c.bytes) &&
         ::fstatat(out_dir, rows_name.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(named.st_mode) &&
         named.st_dev == held.st_dev && named.st_ino == held.st_ino;
}

Result<AssemblyCursor> OpenRows(storage::UniqueFd out_dir, const std::string& rows_name,
                                const std::optional<std::string>& header) {
  int fd = ::openat(out_dir.get(), rows_name.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return IoError("cannot write '" + rows_name + "' in the output folder: " + std::strerror(errno));
  AssemblyCursor c;
  c.dir = std::move(out_dir);
  c.fd = storage::UniqueFd(fd);
  c.name = rows_name;
  c.header = header;
  return c;
}

std::string RowsName(const OutputPlace& place, const std::string& job) {
  const std::string tmp = AssemblyTempName(place.dest, job);
  return place.format != OutputFormat::kCsv ? RowsTempName(tmp) : tmp;
}

}  // namespace

Result<AssemblyCursor> BeginAssembly(const OutputPlace& place, const std::string& job,
                                     const std::optional<std::string>& header) {
  LOTE_ASSIGN_OR_RETURN(storage::UniqueFd out_dir, OpenOutputDir(place));
  return OpenRows(std::move(out_dir), RowsName(place, job), header);
}

Result<bool> AdvanceAssembly(AssemblyCursor& cursor, const JobDir& dir, store::JobStore& store,
                             const std::string& job, const std::atomic<bool>* stop) {
  return Advance(cursor, dir, store, job, Pass::kEarly, stop, nullptr);
}

Result<Assembled> AssembleOutput(const JobDir& dir, const std::string& job, store::JobStore& store,
                                 const OutputPlace& place, const std::optional<std::string>& header,
                                 std::optional<AssemblyCursor> early) {
  const std::string name = place.dest.filename().string();
  const std::string tmp = AssemblyTempName(place.dest, job);
  LOTE_ASSIGN_OR_RETURN(storage::UniqueFd out_dir, OpenOutputDir(place));
  auto sync_dir = [&]() -> Status {
    if (::fsync(out_dir.get()) != 0) {
      return IoError("cannot sync the output folder to disk: " + std::string(std::strerror(errno)));
    }
    return {};
  };
  if (Exists(out_dir.get(), name) && SameFile(out_dir.get(), name, tmp)) {
    // Linked by an attempt that crashed before recording Completed.
    LOTE_TRY(sync_dir());
    LOTE_ASSIGN_OR_RETURN(int64_t rows, CommittedRows(store, job));
    return Assembled{.rows = rows, .missing = {}};
  }
  // The CSV rows go straight to tmp, or for another format to rows_tmp first.
  const bool convert = place.format != OutputFormat::kCsv;
  const std::string rows_tmp = RowsName(place, job);
  auto afresh = [&]() -> Result<AssemblyCursor> {
    storage::UniqueFd again(::dup(out_dir.get()));
    if (!again) return IoError(std::string("cannot open the output folder: ") + std::strerror(errno));
    return OpenRows(std::move(again), rows_tmp, header);
  };
  const bool resumed = early && Resumable(*early, out_dir.get(), rows_tmp);
  AssemblyCursor c;
  if (resumed) {
    c = std::move(*early);
  } else {
    LOTE_ASSIGN_OR_RETURN(c, afresh());
  }
  Assembled out;
  Result<bool> advanced = Advance(c, dir, store, job, Pass::kFinal, nullptr, &out.missing);
  if (advanced && resumed && !out.missing.empty()) {
    // Rows the head start copied may be lost too: every missing mini-batch
    // is named at once, so they all run again in one round.
    out.missing.clear();
    LOTE_ASSIGN_OR_RETURN(c, afresh());
    advanced = Advance(c, dir, store, job, Pass::kFinal, nullptr, &out.missing);
  }
  Status copied;
  if (!advanced) copied = advanced.error();
  out.rows = c.rows;
  if (copied && out.missing.empty() && convert) {
    copied = ConvertRows(out_dir.get(), c.fd.get(), tmp, place.format, c.has_header);
  } else if (copied && out.missing.empty() && ::fsync(c.fd.get()) != 0) {
    copied = IoError(std::string("cannot sync the output to disk: ") + std::strerror(errno));
  }
  if (::close(c.fd.Release()) != 0 && copied) {
    copied = IoError(std::string("cannot write the output: ") + std::strerror(errno));
  }
  if (convert) ::unlinkat(out_dir.get(), rows_tmp.c_str(), 0);
  if (!copied || !out.missing.empty()) {
    ::unlinkat(out_dir.get(), tmp.c_str(), 0);
    if (!copied) return copied.error().WithContext("writing '" + name + "'");
    return out;
  }
  // linkat() never replaces: whatever appeared there meanwhile is kept.
  if (::linkat(out_dir.get(), tmp.c_str(), out_dir.get(), name.c_str(), 0) != 0) {
    int err = errno;
    ::unlinkat(out_dir.get(), tmp.c_str(), 0);
    if (err == EEXIST) {
      return AlreadyExists("'" + name + "' appeared in the output location while the job ran; it was not "
                           "overwritten");
    }
    return IoError("cannot create '" + place.dest.string() + "': " + std::strerror(err));
  }
  LOTE_TRY(sync_dir());
  return out;
}

Status RemoveAssemblyTemp(const OutputPlace& place, const std::string& job) {
  LOTE_ASSIGN_OR_RETURN(storage::UniqueFd out_dir, OpenOutputDir(place));
  const std::string tmp = AssemblyTempName(place.dest, job);
  for (const std::string& t : {tmp, RowsTempName(tmp)}) {
    if (::unlinkat(out_dir.get(), t.c_str(), 0) != 0 && errno != ENOENT) {
      return IoError("cannot remove '" + t + "': " + std::strerror(errno));
    }
  }
  return {};
}

}  // namespace lote::jobs
