// The worker protocol's frame reader (runtime/frame.h) on any bytes: a worker
// runs user code, so whatever it writes to the protocol pipe reaches
// ReadFrame. Input: the bytes of the stream, read frame after frame until an
// error.
//
// Invariants: nothing crashes or throws; an accepted frame is an object with
// a string "type" and exactly payload_bytes of payload; written back with
// WriteFrame and read again, it is the same frame; an error is one of the
// documented kinds (closed, protocol error).
//
// LOTE_FUZZ_MAKE_SEEDS=<dir> writes the seed corpus with the real WriteFrame
// (the protocol's messages of docs/worker-protocol.md) and exits.
#include <fcntl.h>

#include <cstdlib>
#include <filesystem>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "runtime/frame.h"

using lote::fuzz::FuzzCheck;
using lote::fuzz::ScratchFile;
namespace rt = lote::runtime;

namespace {

// The frame's JSON as text, without payload_bytes (the writer sets or drops
// it from the payload itself). Text, because a number such as 1e400 is read
// as infinity and written as null: the same text, a different value.
std::string Canonical(nlohmann::json msg) {
  msg.erase("payload_bytes");
  return msg.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void MakeSeeds(const std::filesystem::path& dir) {
  using json = nlohmann::json;
  auto write = [&](const std::string& name, const std::vector<std::pair<json, std::string>>& frames) {
    int fd = open((dir / name).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FuzzCheck(fd >= 0, "cannot write " + name);
    for (const auto& [msg, payload] : frames) FuzzCheck(rt::WriteFrame(fd, msg, payload).has_value(), name);
    close(fd);
  };
  json hello = {{"type", "hello"}, {"protocol", 1}, {"runtime", "python"}, {"pid", 1234}};
  json init = {{"type", "init"}, {"protocol", 1}, {"model_dir", "/m"}, {"code_dir", nullptr},
               {"scoring_script", nullptr}, {"output_dir", "/o"}, {"job", "j"}, {"node", 0},
               {"process", 0}, {"options", json::object()}};
  json run = {{"type", "run"}, {"mini_batch", 17}, {"attempt", 1},
              {"items", {{{"path", "/d/a.csv"}, {"offset", 10}, {"length", 90}, {"header", "a,b"}}}}};
  json result = {{"type", "result"}, {"mini_batch", 17}, {"succeeded", 2}, {"failed", 1},
                 {"item_errors", {{{"item", "/d/b.csv"}, {"error", "bad"}, {"traceback", "T"}}}},
                 {"header", "file,row,prediction"}};
  json list_result = {{"type", "result"}, {"mini_batch", 3}, {"succeeded", 1}, {"failed", 0},
                      {"item_errors", json::array()}, {"header", nullptr}};
  json failed = {{"type", "run_failed"}, {"mini_batch", 17}, {"error", "ZeroDivisionError"},
                 {"traceback", "Traceback (most recent call last):\n  ..."}};
  write("hello", {{hello, ""}});
  write("init", {{init, ""}});
  write("ready", {{{{"type", "ready"}}, ""}});
  write("init_failed", {{{{"type", "init_failed"}, {"error", "no module"}, {"traceback", ""}}, ""}});
  write("run", {{run, ""}});
  write("result_rows", {{result, "a.csv,0,1.5\na.csv,1,\"x,y\"\n"}});
  write("result_binary_rows", {{list_result, std::string("\0\xff\n", 3)}});
  write("run_failed", {{failed, ""}});
  write("session", {{hello, ""}, {{{"type", "ready"}}, ""}, {result, "a.csv,0,1\n"}, {failed, ""}});
  std::exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("LOTE_FUZZ_MAKE_SEEDS")) MakeSeeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ScratchFile stream, echo;
  stream.Set({reinterpret_cast<const char*>(data), size});
  for (int i = 0; i < 1000; ++i) {
    auto frame = rt::ReadFrame(stream.fd(), 1000);
    if (!frame) {
      const lote::Error& e = frame.error();
      FuzzCheck(rt::IsClosed(e) || (e.code() == lote::ErrorCode::kInvalidArgument &&
                                    e.message().starts_with("protocol error: ")),
                "unexpected error kind: " + e.message());
      FuzzCheck(!rt::IsTimeout(e), "a memfd never times out");
      break;
    }
    FuzzCheck(frame->msg.is_object() && frame->msg.contains("type") && frame->msg["type"].is_string(),
              "accepted a frame without a string type");
    auto pb = frame->msg.find("payload_bytes");
    uint64_t want = pb == frame->msg.end() || pb->is_null() ? 0 : pb->get<uint64_t>();
    FuzzCheck(frame->payload.size() == want, "payload length differs from payload_bytes");

    echo.Set("");
    auto written = rt::WriteFrame(echo.fd(), frame->msg, frame->payload, 1000);
    FuzzCheck(written.has_value(), "WriteFrame refused a frame ReadFrame accepted: " +
                                       (written ? std::string() : written.error().message()));
    FuzzCheck(lseek(echo.fd(), 0, SEEK_SET) == 0, "lseek failed");
    auto again = rt::ReadFrame(echo.fd(), 1000);
    FuzzCheck(again.has_value(), "a written frame does not read back: " +
                                     (again ? std::string() : again.error().message()));
    FuzzCheck(Canonical(again->msg) == Canonical(frame->msg), "the frame's JSON changed on a round trip");
    FuzzCheck(again->payload == frame->payload, "the payload changed on a round trip");
  }
  return 0;
}
