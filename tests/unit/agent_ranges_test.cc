// Byte-range items in the agent: a score.py worker gets each range as a chunk
// file (header record + the range), a driver or native worker gets it raw,
// and a range that cannot be prepared fails its attempt (RUN_INPUT_ERROR)
// instead of reaching the worker as the whole file.
#include <gtest/gtest.h>

#include <fstream>

#include "agent/agent.h"
#include "agent/range_items.h"
#include "agent_fake_control_plane.h"
#include "common/crypto.h"
#include "common/fs_name.h"
#include "runtime_stub_worker.h"

namespace lote::agent {
namespace {

using lote::testing::FakeControlPlane;
using lote::testing::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

constexpr char kJob[] = "rangeep-20261128-120000-abcdef";

// A worker that answers each item with one row: "<kind>,<hex of the base
// name>,<hex of the file's bytes>,<pid>", opening the path the way workers
// must (path_b64 when present). kind: "range" for an item with an offset.
constexpr char kCatWorkerPy[] = R"PY(
import base64, json, os, struct, sys
IN = int(os.environ["LOTE_PROTOCOL_IN_FD"])
OUT = int(os.environ["LOTE_PROTOCOL_OUT_FD"])
def read_exact(n):
    buf = b""
    while len(buf) < n:
        chunk = os.read(IN, n - len(buf))
        if not chunk:
            sys.exit(0)
        buf += chunk
    return buf
def recv():
    (n,) = struct.unpack(">I", read_exact(4))
    return json.loads(read_exact(n))
def send(msg, payload=b""):
    if payload:
        msg["payload_bytes"] = len(payload)
    data = json.dumps(msg).encode()
    buf = struct.pack(">I", len(data)) + data + payload
    while buf:
        buf = buf[os.write(OUT, buf):]
send({"type": "hello", "protocol": 1, "runtime": "cat", "pid": os.getpid()})
recv()
send({"type": "ready"})
while True:
    msg = recv()
    if msg["type"] == "shutdown":
        sys.exit(0)
    rows = b""
    for item in msg["items"]:
        b64 = item.get("path_b64")
        path = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)) if b64 else item["path"].encode()
        kind = b"range" if "offset" in item else b"file"
        with open(path, "rb") as f:
            data = f.read()
        rows += b"%s,%s,%s,%d\n" % (kind, os.path.basename(path).hex().encode(),
                                   data.hex().encode(), os.getpid())
    send({"type": "result", "mini_batch": msg["mini_batch"], "succeeded": len(msg["items"]),
          "failed": 0, "item_errors": [], "header": None}, rows)
)PY";

std::string Hex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    out += kHex[static_cast<unsigned char>(c) >> 4];
    out += kHex[static_cast<unsigned char>(c) & 0xF];
  }
  return out;
}

std::vector<std::string> Fields(const std::string& row) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = row.find(',', start);
    out.push_back(row.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (!out.empty() && out.back().ends_with('\n')) out.back().pop_back();
  return out;
}

class AgentRangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    worker_ = dir_.path() / "cat_worker.py";
    std::ofstream(worker_) << kCatWorkerPy;
    fs::create_directories(dir_.path() / "data");
  }

  fs::path Data(const std::string& name, std::string_view text) {
    fs::path p = dir_.path() / "data" / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  json Config(bool scoring_script) const {
    return {{"job", kJob},
            {"status", "Running"},
            {"runtime",
             {{"kind", "python"},
              {"python", "python3"},
              {"runner", worker_.string()},
              {"code_dir", nullptr},
              {"scoring_script", scoring_script ? json("score.py") : json(nullptr)},
              {"model_dir", (dir_.path() / "model").string()},
              {"options", json::object()}}},
            {"settings",
             {{"max_concurrency_per_instance", 1},
              {"timeout_s", 10},
              {"max_retries", 3},
              {"logging_level", "debug"},
              {"environment_variables", json::object()}}},
            {"output_dir", (dir_.path() / "out").string()},
            {"log_dir", (dir_.path() / "logs").string()}};
  }

  AgentOptions Options(const FakeControlPlane& cp) const {
    AgentOptions o;
    o.server_url = cp.url();
    o.token = FakeControlPlane::kToken;
    o.job = kJob;
    o.server_timeout_s = 2;
    o.tuning.idle_poll = std::chrono::milliseconds(10);
    o.tuning.restart_backoff = std::chrono::milliseconds(10);
    o.tuning.min_init_timeout_s = 10;
    return o;
  }

  static json Range(const fs::path& path, uint64_t offset, uint64_t length,
                    std::optional<std::string> header) {
    json item = PathItem(path.string());
    item["offset"] = offset;
    item["length"] = length;
    if (header) SetBytesField(item, "header", *header);
    return item;
  }

  TempDir dir_;
  fs::path worker_;
};

TEST_F(AgentRangesTest, ScriptWorkersGetEachRangeAsAChunkFile) {
  const std::string text = "id,t\n1,\"a\nb\"\n2,c\n";
  fs::path big = Data("big.csv", text);
  fs::path latin = Data("caf\xe9.csv", "caf\xe9,x\n1,2\n3,4\n");
  fs::path lines = Data("ev.jsonl", "{\"a\": 1}\n{\"b\": 2}\n");
  FakeControlPlane cp(kJob, Config(/*scoring_script=*/true));
  cp.AddTask(json::array({Range(big, 5, 8, "id,t")}));
  cp.AddTask(json::array({Range(big, 13, 4, "id,t"), PathItem(latin.string())}));
  cp.AddTask(json::array({Range(latin, 7, 4, "caf\xe9,x")}));
  cp.AddTask(json::array({Range(lines, 9, 9, std::nullopt)}));
  auto code = RunAgent(Options(cp));
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_TRUE(cp.fails().empty()) << cp.fails()[0].body.dump();
  auto results = cp.results();
  ASSERT_EQ(results.size(), 4u);
  auto row = [&](size_t task, size_t line) {
    std::string body = results[task].body;
    size_t at = 0;
    for (size_t i = 0; i < line; ++i) at = body.find('\n', at) + 1;
    return Fields(body.substr(at, body.find('\n', at) - at));
  };
  EXPECT_EQ(row(0, 0)[0], "file") << "a chunk is a whole file to the script";
  EXPECT_EQ(row(0, 0)[1], Hex("big@5.csv"));
  EXPECT_EQ(row(0, 0)[2], Hex("id,t\n1,\"a\nb\"\n")) << "the header record, then the range";
  EXPECT_EQ(row(1, 0)[2], Hex("id,t\n2,c\n"));
  EXPECT_EQ(row(1, 1)[1], Hex("caf\xe9.csv")) << "a whole file is passed as it is";
  EXPECT_EQ(row(2, 0)[1], Hex("caf\xe9@7.csv")) << "non-UTF-8 names and headers are bytes";
  EXPECT_EQ(row(2, 0)[2], Hex("caf\xe9,x\n1,2\n"));
  EXPECT_EQ(row(3, 0)[2], Hex("{\"b\": 2}\n")) << "no header for plain lines";
  // The chunks are removed, and so is the slot's folder when the agent ends.
  EXPECT_FALSE(fs::exists(fs::path(std::string("/tmp")) / "big@5.csv"));
  for (const auto& e : fs::directory_iterator(fs::temp_directory_path())) {
    if (!e.path().filename().string().starts_with("lote-chunks-")) continue;
    for (const auto& f : fs::directory_iterator(e.path())) {
      EXPECT_FALSE(f.path().filename().string().starts_with("big@")) << f.path();
    }
  }
}

TEST_F(AgentRangesTest, RangeThatCannotBePreparedFailsTheAttemptAndKeepsTheWorker) {
  fs::path shrunk = Data("shrunk.csv", "id\n1\n");
  FakeControlPlane cp(kJob, Config(/*scoring_script=*/true));
  cp.AddTask(json::array({PathItem(Data("a.txt", "a\n").string())}));
  cp.AddTask(json::array({Range(dir_.path() / "data" / "gone.csv", 3, 2, "id")}));
  cp.AddTask(json::array({Range(shrunk, 3, 10, "id")}));
  cp.AddTask(json::array({PathItem(Data("b.txt", "b\n").string())}));
  auto code = RunAgent(Options(cp));
  ASSERT_TRUE(code) << code.error().message();

  auto fails = cp.fails();
  ASSERT_EQ(fails.size(), 2u);
  EXPECT_EQ(fails[0].id, 2);
  EXPECT_EQ(fails[0].body["outcome"], "RUN_INPUT_ERROR");
  EXPECT_EQ(fails[0].body["error"], "cannot prepare bytes 3+2 of '" +
                                        (dir_.path() / "data" / "gone.csv").string() +
                                        "' for the worker: cannot open it: No such file or "
                                        "directory");
  EXPECT_EQ(fails[1].id, 3);
  EXPECT_EQ(fails[1].body["outcome"], "RUN_INPUT_ERROR");
  EXPECT_EQ(fails[1].body["error"],
            "cannot prepare bytes 3+10 of '" + shrunk.string() +
                "' for the worker: the file ends at byte 5, inside the range (it changed after "
                "the job was planned)");
  auto results = cp.results();
  ASSERT_EQ(results.size(), 2u) << "the failed ranges never reached the worker";
  EXPECT_EQ(results[0].id, 1);
  EXPECT_EQ(results[1].id, 4);
  EXPECT_EQ(Fields(results[0].body)[3], Fields(results[1].body)[3]) << "the worker was kept";
}

TEST_F(AgentRangesTest, DriverWorkersReadRangesThemselves) {
  fs::path big = Data("big.csv", "id\n1\n2\n");
  FakeControlPlane cp(kJob, Config(/*scoring_script=*/false));
  cp.AddTask(json::array({Range(big, 3, 2, "id")}));
  auto code = RunAgent(Options(cp));
  ASSERT_TRUE(code) << code.error().message();
  ASSERT_EQ(cp.results().size(), 1u);
  auto row = Fields(cp.results()[0].body);
  EXPECT_EQ(row[0], "range") << "no chunk: the driver keys rows by byte offset";
  EXPECT_EQ(row[1], Hex("big.csv"));
}

TEST(MaterializeRangesTest, ChunksReadLikeSmallFilesAndErrorsNameTheRange) {
  TempDir dir;
  std::ofstream(dir.path() / "t.csv", std::ios::binary) << "\xEF\xBB\xBFh1,h2\r\n1,2\r\n3,4\r\n";
  json range = PathItem((dir.path() / "t.csv").string());
  range["offset"] = 15;
  range["length"] = 5;
  range["header"] = "h1,h2";
  std::vector<fs::path> created;
  auto items = MaterializeRanges(json::array({range, PathItem("/x/whole.csv")}),
                                 dir.path() / "chunks", &created);
  ASSERT_TRUE(items) << items.error().message();
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ((*items)[0], json({{"path", (dir.path() / "chunks" / "t@15.csv").string()}}));
  EXPECT_EQ((*items)[1], json({{"path", "/x/whole.csv"}}));
  EXPECT_EQ(lote::testing::Slurp(created[0]), "h1,h2\n3,4\r\n");

  // A chunk's place taken by a folder: an error, and nothing is listed to remove.
  fs::remove(created[0]);
  fs::create_directories(dir.path() / "chunks" / "t@15.csv");
  created.clear();
  auto blocked = MaterializeRanges(json::array({range}), dir.path() / "chunks", &created);
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().message(),
            "cannot prepare bytes 15+5 of '" + (dir.path() / "t.csv").string() +
                "' for the worker: cannot replace '" +
                (dir.path() / "chunks" / "t@15.csv").string() + "': Is a directory");
  EXPECT_TRUE(created.empty());

  json bad = range;
  bad["offset"] = -1;
  auto refused = MaterializeRanges(json::array({bad}), dir.path() / "chunks", &created);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(),
            "cannot prepare bytes ?+5 of '" + (dir.path() / "t.csv").string() +
                "' for the worker: \"offset\" must be a non-negative integer");
}

// A Parquet row-group item given to a whole-file worker would be scored
// whole once per item: refused, naming the file.
TEST(MaterializeRangesTest, RowGroupItemsAreRefusedToWholeFileWorkers) {
  TempDir dir;
  json item = PathItem("/x/trips.parquet");
  item["row_group"] = 2;
  item["row_groups"] = 1;
  std::vector<fs::path> created;
  auto items = MaterializeRanges(json::array({item}), dir.path() / "chunks", &created);
  ASSERT_FALSE(items);
  EXPECT_EQ(items.error().message(),
            "row groups of '/x/trips.parquet': a worker that takes whole files cannot score part "
            "of a Parquet file; give the deployment an integer mini_batch_size");
  EXPECT_TRUE(created.empty());
}

}  // namespace
}  // namespace lote::agent
