#include "storage/beneath.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>

#include "common/util.h"
#include "storage/safe_path.h"

namespace lote::storage {

namespace fs = std::filesystem;

namespace {

// Symbolic links followed in one resolution, as the kernel's MAXSYMLINKS.
constexpr int kMaxLinks = 40;
// openat2 answers EAGAIN when a rename or mount raced the lookup; retried.
constexpr int kOpenat2Tries = 8;

std::string Errno(int err) { return std::strerror(err); }

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

Result<std::string> ReadLinkAt(int dir, const char* name, const std::string& shown) {
  std::string buf(PATH_MAX, '\0');
  ssize_t n = ::readlinkat(dir, name, buf.data(), buf.size());
  if (n < 0) return IoError("cannot read symbolic link " + Quote(shown) + ": " + Errno(errno));
  buf.resize(static_cast<size_t>(n));
  return buf;
}

EntryType TypeOf(mode_t mode) {
  if (S_ISREG(mode)) return EntryType::kFile;
  if (S_ISDIR(mode)) return EntryType::kDir;
  return EntryType::kOther;
}

long Openat2(int dir, const char* path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = -1;
  for (int i = 0; i < kOpenat2Tries; ++i) {
    fd = ::syscall(SYS_openat2, dir, path, &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN) break;
  }
  return fd;
}

}  // namespace

// --- NewFile ---------------------------------------------------------------

NewFile::NewFile(UniqueFd dir, UniqueFd file, std::string tmp_name, std::string name,
                 fs::path resolved, std::string display)
    : dir_(std::move(dir)),
      file_(std::move(file)),
      tmp_name_(std::move(tmp_name)),
      name_(std::move(name)),
      resolved_(std::move(resolved)),
      display_(std::move(display)) {}

NewFile::NewFile(NewFile&& o) noexcept
    : dir_(std::move(o.dir_)),
      file_(std::move(o.file_)),
      tmp_name_(std::move(o.tmp_name_)),
      name_(std::move(o.name_)),
      resolved_(std::move(o.resolved_)),
      display_(std::move(o.display_)),
      done_(std::exchange(o.done_, true)) {}

NewFile::~NewFile() { Discard(); }

void NewFile::Discard() {
  if (done_) return;
  done_ = true;
  file_.Reset();
  // Best effort: a temporary name left behind is visible, not harmful.
  if (dir_.valid()) ::unlinkat(dir_.get(), tmp_name_.c_str(), 0);
}

Status NewFile::Write(std::string_view data) {
  if (done_) return Internal("write to " + Quote(display_) + " after it was committed or discarded");
  while (!data.empty()) {
    ssize_t n = ::write(file_.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot write " + Quote(display_) + ": " + Errno(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status NewFile::Commit(Durability durability) {
  if (done_) return Internal(Quote(display_) + " was already committed or discarded");
  if (durability == Durability::kSynced && ::fsync(file_.get()) != 0) {
    int err = errno;
    Discard();
    return IoError("cannot write " + Quote(display_) + ": " + Errno(err));
  }
  int fd = file_.Release();
  if (::close(fd) != 0) {
    int err = errno;
    Discard();
    return IoError("cannot write " + Quote(display_) + ": " + Errno(err));
  }
  // linkat never replaces: of two racing creators, one wins.
  int rc = ::linkat(dir_.get(), tmp_name_.c_str(), dir_.get(), name_.c_str(), 0);
  int err = errno;
  Discard();
  if (rc != 0 && err == EEXIST) {
    return AlreadyExists(Quote(display_) + " already exists; uploads never overwrite");
  }
  if (rc != 0) return IoError("cannot store " + Quote(display_) + ": " + Errno(err));
  return {};
}

// --- Beneath ----------------------------------------------------------------

bool Beneath::KernelHasOpenat2() {
  static const bool has = [] {
    long fd = Openat2(AT_FDCWD, ".", O_PATH | O_CLOEXEC, 0);
    if (fd >= 0) {
      ::close(static_cast<int>(fd));
      return true;
    }
    return errno != ENOSYS && errno != EPERM;  // EPERM: a seccomp filter refuses it
  }();
  return has;
}

Result<Beneath> Beneath::Open(const fs::path& root, std::string what, BeneathOptions options) {
  int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return NotFound("the folder of " + what + " (" + Quote(root.string()) + ") does not exist");
    }
    return IoError("cannot open the folder of " + what + " (" + Quote(root.string()) + "): " + Errno(err));
  }
  UniqueFd owned(fd);
  std::error_code ec;
  fs::path real = fs::canonical(root, ec);
  if (ec) real = root;
  if (options.use_openat2 && !KernelHasOpenat2()) options.use_openat2 = false;
  return Beneath(std::move(owned), std::move(real), std::move(what), options);
}

Error Beneath::ErrnoError(int err, const std::string& rel) const {
  const std::string shown = Quote(rel.empty() ? "." : rel);
  switch (err) {
    case ENOENT: return NotFound(shown + " does not exist in " + what_);
    case ENOTDIR: return InvalidArgument(shown + " in " + what_ + " goes through something that is not a folder");
    case ENAMETOOLONG: return InvalidArgument(shown + " is too long a path");
    case EEXIST: return AlreadyExists(shown + " already exists in " + what_);
    case ELOOP: return InvalidArgument(shown + " in " + what_ + " has too many levels of symbolic links");
    case EISDIR: return InvalidArgument(shown + " in " + what_ + " is a folder");
    default: return IoError("cannot open " + shown + " in " + what_ + ": " + Errno(err));
  }
}

Result<UniqueFd> Beneath::OpenNormalized(const std::string& rel, int flags, mode_t mode) const {
  // openat2 refuses any flag but these beside O_PATH.
  flags |= (flags & O_PATH) ? O_CLOEXEC : O_CLOEXEC | O_NOCTTY;
  if (rel.empty()) {
    if (flags & O_CREAT) return AlreadyExists("the root of " + what_ + " already exists");
    int fd = ::openat(fd_.get(), ".", flags & ~O_NOFOLLOW);
    if (fd < 0) return ErrnoError(errno, rel);
    return UniqueFd(fd);
  }
  if (options_.use_openat2) {
    long fd = Openat2(fd_.get(), rel.c_str(), flags, mode);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    // EXDEV: the path would leave the root, or holds an absolute link (the
    // walk below accepts one that points back inside, and names the link
    // otherwise); ELOOP: a magic link or a loop, named by the walk too.
    if (errno != EXDEV && errno != ELOOP) return ErrnoError(errno, rel);
  }
  return Walk(rel, flags, mode);
}

// The fallback resolution: every component opened with O_NOFOLLOW from the
// descriptor of its parent; links read and resolved here, with `..` taken
// from our own stack of parents (never the kernel's), so nothing escapes.
Result<UniqueFd> Beneath::Walk(const std::string& rel, int flags, mode_t mode) const {
  std::vector<UniqueFd> stack;  // open parents; empty = the root
  std::vector<std::string> names;  // the resolved components, for messages
  auto top = [&] { return stack.empty() ? fd_.get() : stack.back().get(); };
  std::deque<std::string> todo;
  for (auto& p : Split(rel)) todo.push_back(std::move(p));
  int links = 0;
  std::string link_chain, link_target;  // the last link followed, for messages

  auto escape = [&](const std::string& link, const std::string& target) {
    return InvalidArgument("path " + Quote(rel) + " leads outside " + what_ + ": " + Quote(link) +
                           " is a symbolic link to " + Quote(target));
  };
  auto follow = [&](const std::string& link, const std::string& target) -> Status {
    if (++links > kMaxLinks) return ErrnoError(ELOOP, rel);
    link_chain = link;
    link_target = target;
    if (target.empty()) return InvalidArgument("symbolic link " + Quote(link) + " in " + what_ + " is empty");
    std::string rest = target;
    if (target.front() == '/') {
      // An absolute target is followed only into the root's own tree.
      const std::string root = root_.string();
      if (target == root || target.starts_with(root + "/")) {
        rest = target.substr(std::min(target.size(), root.size() + 1));
        stack.clear();
        names.clear();
      } else {
        return escape(link, target);
      }
    }
    auto parts = Split(rest);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_front(*it);
    // A link that resolves to exactly the parent chain's top ("a -> .") is
    // handled by the "." and ".." cases below.
    if (parts.empty()) todo.push_front(".");
    return {};
  };

  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    const std::string here = names.empty() ? c : Join(names) + "/" + c;
    if (c == ".") {
      if (todo.empty()) break;
      continue;
    }
    if (c == "..") {
      if (names.empty()) return escape(link_chain.empty() ? rel : link_chain, link_target);
      stack.pop_back();
      names.pop_back();
      if (todo.empty()) break;
      continue;
    }
    if (c.find('\0') != std::string::npos) return InvalidArgument("path " + Quote(rel) + " holds a NUL");
    const bool last = todo.empty();
    if (!last) {
      int fd = ::openat(top(), c.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return ErrnoError(errno, here);
      UniqueFd owned(fd);
      struct stat st {};
      if (::fstat(fd, &st) != 0) return ErrnoError(errno, here);
      if (S_ISLNK(st.st_mode)) {
        LOTE_ASSIGN_OR_RETURN(std::string target, ReadLinkAt(fd, "", here));
        LOTE_TRY(follow(here, target));
        continue;
      }
      if (!S_ISDIR(st.st_mode)) return ErrnoError(ENOTDIR, here);
      stack.push_back(std::move(owned));
      names.push_back(c);
      continue;
    }
    int fd = ::openat(top(), c.c_str(), flags | O_NOFOLLOW, mode);
    if (fd >= 0) {
      UniqueFd owned(fd);
      if (flags & O_PATH) {
        // O_PATH | O_NOFOLLOW opens a link itself: follow it ourselves.
        struct stat st {};
        if (::fstat(fd, &st) != 0) return ErrnoError(errno, here);
        if (S_ISLNK(st.st_mode)) {
          LOTE_ASSIGN_OR_RETURN(std::string target, ReadLinkAt(fd, "", here));
            LOTE_TRY(follow(here, target));
          continue;
        }
      }
      return owned;
    }
    int err = errno;
    if (err == EEXIST || !(err == ELOOP || err == ENOTDIR || err == EMLINK)) return ErrnoError(err, here);
    // O_NOFOLLOW met a link (ELOOP; ENOTDIR with O_DIRECTORY): follow it here.
    struct stat st {};
    if (::fstatat(top(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode)) {
      return ErrnoError(err, here);
    }
    LOTE_ASSIGN_OR_RETURN(std::string target, ReadLinkAt(top(), c.c_str(), here));
    LOTE_TRY(follow(here, target));
  }
  // The path ended on "." or "..": open the folder at the top of the stack.
  if (flags & O_CREAT) return ErrnoError(EEXIST, rel);
  int fd = ::openat(top(), ".", flags & ~O_NOFOLLOW);
  if (fd < 0) return ErrnoError(errno, rel);
  return UniqueFd(fd);
}

Result<std::string> Beneath::Normalize(std::string_view rel) const {
  auto norm = NormalizeRelativePath(rel);
  if (!norm) return norm.error().WithContext(what_);
  return norm;
}

fs::path Beneath::ResolvedPath(int fd, const std::string& rel) const {
  // The kernel's name for what fd refers to: links inside the root resolved.
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  std::error_code ec;
  fs::path real = fs::read_symlink(proc, ec);
  if (!ec && real.is_absolute()) return real;
  return rel.empty() ? root_ : root_ / rel;  // no /proc: the lexical path
}

Result<PathInfo> Beneath::Stat(std::string_view rel) const {
  LOTE_ASSIGN_OR_RETURN(std::string norm, Normalize(rel));
  LOTE_ASSIGN_OR_RETURN(UniqueFd fd, OpenNormalized(norm, O_PATH));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError(errno, norm);
  return PathInfo{TypeOf(st.st_mode), static_cast<uint64_t>(st.st_size), ResolvedPath(fd.get(), norm)};
}

Result<OpenedFile> Beneath::OpenRead(std::string_view rel) const {
  LOTE_ASSIGN_OR_RETURN(std::string norm, Normalize(rel));
  // O_NONBLOCK: opening a FIFO planted in the folder must not hang the caller.
  LOTE_ASSIGN_OR_RETURN(UniqueFd fd, OpenNormalized(norm, O_RDONLY | O_NONBLOCK));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError(errno, norm);
  if (S_ISDIR(st.st_mode)) return InvalidArgument(Quote(norm.empty() ? "." : norm) + " in " + what_ + " is a folder, not a file");
  if (!S_ISREG(st.st_mode)) return InvalidArgument(Quote(norm) + " in " + what_ + " is not a regular file");
  int fl = ::fcntl(fd.get(), F_GETFL);
  if (fl >= 0) ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK);
  fs::path resolved = ResolvedPath(fd.get(), norm);
  return OpenedFile{std::move(fd), static_cast<uint64_t>(st.st_size), std::move(resolved)};
}

Status Beneath::ForEach(std::string_view rel, const std::function<bool(DirEntry&&)>& visit) const {
  LOTE_ASSIGN_OR_RETURN(std::string norm, Normalize(rel));
  LOTE_ASSIGN_OR_RETURN(UniqueFd dir, OpenNormalized(norm, O_RDONLY | O_DIRECTORY));
  const fs::path dir_real = ResolvedPath(dir.get(), norm);
  int dup = ::fcntl(dir.get(), F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return ErrnoError(errno, norm);
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    int err = errno;
    ::close(dup);
    return ErrnoError(err, norm);
  }
  const std::string dir_prefix = dir_real.string() + "/";
  for (;;) {
    errno = 0;
    dirent* e = ::readdir(d);
    if (e == nullptr) break;
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    DirEntry entry;
    unsigned char type = e->d_type;
    if (type == DT_UNKNOWN) {
      // Some filesystems do not say: ask, without following a link.
      struct stat st {};
      if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // removed while listing
        entry.name = name;
        entry.error = ErrnoError(errno, norm.empty() ? name : norm + "/" + name);
        if (!visit(std::move(entry))) break;
        continue;
      }
      type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_FIFO;
    }
    if (type == DT_LNK) {
      entry.is_link = true;
      // Resolved from the root, so a link is judged exactly as a path to it would be.
      const std::string child = norm.empty() ? name : norm + "/" + name;
      auto fd = OpenNormalized(child, O_PATH);
      struct stat target {};
      if (!fd) {
        entry.error = fd.error().code() == ErrorCode::kNotFound
                          ? NotFound("symbolic link " + Quote(child) + " in " + what_ + " leads nowhere")
                          : fd.error();
      } else if (::fstat(fd->get(), &target) != 0) {
        entry.error = ErrnoError(errno, child);
      } else {
        entry.type = TypeOf(target.st_mode);
        entry.resolved = ResolvedPath(fd->get(), child).string();
      }
    } else {
      entry.type = type == DT_REG ? EntryType::kFile : type == DT_DIR ? EntryType::kDir : EntryType::kOther;
      entry.resolved = dir_prefix + name;
    }
    entry.name = std::move(name);
    if (!visit(std::move(entry))) {
      errno = 0;
      break;
    }
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return IoError("cannot list " + Quote(norm.empty() ? "." : norm) + " in " + what_ + ": " + Errno(err));
  return {};
}

Result<std::vector<DirEntry>> Beneath::List(std::string_view rel) const {
  std::vector<DirEntry> out;
  LOTE_TRY(ForEach(rel, [&](DirEntry&& e) {
    out.push_back(std::move(e));
    return true;
  }));
  std::sort(out.begin(), out.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return out;
}

Result<fs::path> Beneath::MakeDirs(std::string_view rel) const {
  LOTE_ASSIGN_OR_RETURN(std::string norm, Normalize(rel));
  auto parts = Split(norm);
  UniqueFd parent;
  std::string prefix;
  for (size_t i = 0; i <= parts.size(); ++i) {
    if (i > 0) prefix += (i > 1 ? "/" : "") + parts[i - 1];
    auto fd = OpenNormalized(prefix, O_PATH | O_DIRECTORY);
    if (!fd && fd.error().code() == ErrorCode::kNotFound && i > 0 && parent.valid()) {
      // mkdirat never follows a link in its last component: a dangling link
      // there answers EEXIST, and the open below refuses where it leads.
      if (::mkdirat(parent.get(), parts[i - 1].c_str(), 0755) != 0 && errno != EEXIST) {
        return IoError("cannot create folder " + Quote(prefix) + " in " + what_ + ": " + Errno(errno));
      }
      fd = OpenNormalized(prefix, O_PATH | O_DIRECTORY);
    }
    if (!fd) return fd.error();
    parent = std::move(*fd);
  }
  return ResolvedPath(parent.get(), norm);
}

Result<NewFile> Beneath::CreateNew(std::string_view rel) const {
  LOTE_ASSIGN_OR_RETURN(std::string norm, Normalize(rel));
  if (norm.empty()) return InvalidArgument("a file path is needed in " + what_);
  size_t slash = norm.rfind('/');
  std::string dir = slash == std::string::npos ? "" : norm.substr(0, slash);
  std::string name = slash == std::string::npos ? norm : norm.substr(slash + 1);
  if (!dir.empty()) LOTE_TRY(MakeDirs(dir));
  LOTE_ASSIGN_OR_RETURN(UniqueFd dir_fd, OpenNormalized(dir, O_PATH | O_DIRECTORY));
  // Refused early when taken, so a client does not send a large body for nothing.
  struct stat st {};
  if (::fstatat(dir_fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    return AlreadyExists(Quote(name) + " already exists; uploads never overwrite");
  }
  // The temporary name stays under NAME_MAX whatever the final name's length.
  std::string tmp = ".upload-" + RandomHex(8);
  int fd = ::openat(dir_fd.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot write " + Quote(norm) + " in " + what_ + ": " + Errno(errno));
  fs::path resolved = ResolvedPath(dir_fd.get(), dir) / name;
  std::string shown = name;
  return NewFile(std::move(dir_fd), UniqueFd(fd), std::move(tmp), std::move(name), std::move(resolved),
                 std::move(shown));
}

}  // namespace lote::storage
