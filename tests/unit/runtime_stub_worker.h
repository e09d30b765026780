// A tiny worker for tests: speaks the worker protocol (docs/worker-protocol.md)
// in plain python3, and misbehaves on request. What it does with a run
// depends on the base name of the first item's path:
//   *raise*        answers run_failed
//   *partial*      answers a result with one failed item and an item error
//   *manybad*      a result with 250 bad rows (item errors with integer rows)
//   *sleep*        never answers (with *grandchild*: first starts
//                  `sleep 1000 &` and writes its pid to <path>.pid)
//   *exit3*        os._exit(3)
//   *segv*         dies of SIGSEGV
//   *orphan*       starts `sleep 1000 &` (holding the protocol pipes open),
//                  writes its pid to <path>.pid, then os._exit(3)
//   anything else  a result: header "file,pid", one row "<path>,<pid>" per item
// init options: {"fail_init": true} answers init_failed; {"crash_init": true}
// exits 5 during init; {"pid_dir": D} creates the file D/<pid>. STUB_HELLO_PROTOCOL overrides the hello's protocol.
// The hello also reports what the worker saw: its open fds above 4, its
// process group, cwd, and the environment variables named in STUB_REPORT_ENV
// (which it also prints to stdout as "stub env {…}").
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace lote::testing {

inline constexpr char kStubWorkerPy[] = R"PY(
import json, os, signal, struct, sys, time

IN = int(os.environ["LOTE_PROTOCOL_IN_FD"])
OUT = int(os.environ["LOTE_PROTOCOL_OUT_FD"])

def read_exact(n):
    buf = b""
    while len(buf) < n:
        chunk = os.read(IN, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf

def recv():
    head = read_exact(4)
    if head is None:
        sys.exit(0)
    (n,) = struct.unpack(">I", head)
    return json.loads(read_exact(n))

def send(msg, payload=b""):
    if payload:
        msg["payload_bytes"] = len(payload)
    data = json.dumps(msg).encode()
    buf = struct.pack(">I", len(data)) + data + payload
    while buf:
        buf = buf[os.write(OUT, buf):]

def open_fds():
    fds = []
    for fd in range(5, 1024):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            pass
    return fds

report = {name: os.environ.get(name) for name in os.environ.get("STUB_REPORT_ENV", "").split(",") if name}
send({"type": "hello", "protocol": int(os.environ.get("STUB_HELLO_PROTOCOL", "1")),
      "runtime": "stub", "pid": os.getpid(), "pgid": os.getpgid(0), "cwd": os.getcwd(),
      "fds": open_fds(), "env": report})
init = recv()
print("stub init process", init.get("process"), flush=True)
print("stub env", json.dumps(report, sort_keys=True), flush=True)
options = init.get("options") or {}
if options.get("pid_dir"):
    open(os.path.join(options["pid_dir"], str(os.getpid())), "w").close()
if options.get("fail_init"):
    send({"type": "init_failed", "error": "init() raised RuntimeError: no model",
          "traceback": "Traceback (most recent call last):\nRuntimeError: no model\n"})
    sys.exit(1)
if options.get("crash_init"):
    os._exit(5)
send({"type": "ready"})

while True:
    msg = recv()
    if msg["type"] == "shutdown":
        print("stub shutdown", flush=True)
        sys.exit(0)
    items = [i["path"] for i in msg["items"]]
    mb = msg["mini_batch"]
    first = os.path.basename(items[0]) if items else ""
    print("stub run", mb, "attempt", msg.get("attempt"), flush=True)
    if "raise" in first:
        print("about to raise", file=sys.stderr, flush=True)
        send({"type": "run_failed", "mini_batch": mb, "error": "run() raised ValueError: bad row",
              "traceback": "Traceback (most recent call last):\nValueError: bad row\n"})
    elif "sleep" in first:
        if "grandchild" in first:
            os.system("sleep 1000 & echo $! > '%s.pid'" % items[0])
        time.sleep(1000)
    elif "exit3" in first:
        print("exiting with 3", file=sys.stderr, flush=True)
        os._exit(3)
    elif "segv" in first:
        os.kill(os.getpid(), signal.SIGSEGV)
    elif "orphan" in first:
        os.system("sleep 1000 & echo $! > '%s.pid'" % items[0])
        os._exit(3)
    elif "manybad" in first:
        send({"type": "result", "mini_batch": mb, "succeeded": 0, "failed": 250,
              "item_errors": [{"item": items[0], "error": "row %d is bad" % i, "row": i, "column": "x"}
                              for i in range(250)], "header": "file,pid"}, b"")
    elif "partial" in first:
        rows = "".join("%s,%d\n" % (p, os.getpid()) for p in items[1:]).encode()
        send({"type": "result", "mini_batch": mb, "succeeded": len(items) - 1, "failed": 1,
              "item_errors": [{"item": items[0], "error": "cannot parse", "traceback": "tb"}],
              "header": "file,pid"}, rows)
    else:
        rows = "".join("%s,%d\n" % (p, os.getpid()) for p in items).encode()
        send({"type": "result", "mini_batch": mb, "succeeded": len(items), "failed": 0,
              "item_errors": [], "header": "file,pid"}, rows)
)PY";

// A fresh directory under the system's temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lote-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::filesystem::path WriteStubWorker(const std::filesystem::path& dir) {
  auto path = dir / "stub_worker.py";
  std::ofstream(path) << kStubWorkerPy;
  return path;
}

inline std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace lote::testing
