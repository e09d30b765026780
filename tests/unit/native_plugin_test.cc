// Native plugins (include/lote/plugin.h): the loader's refusals, the host's
// side of the ABI (items in, rows/counts/errors out, misuse), and the example
// plugin scored through the native worker's protocol loop.
//
// The plugins are built by examples/plugin/CMakeLists.txt; their paths come
// from compile definitions (LOTE_*_PATH).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <sstream>

#include "common/fs_name.h"
#include "native/native_worker.h"
#include "native/plugin_loader.h"
#include "runtime/frame.h"
#include "../native/worker_loop_fixture.h"
#include "runtime_stub_worker.h"

namespace lote::native {
namespace {

namespace fs = std::filesystem;
using lote::testing::TempDir;
using nlohmann::json;

const fs::path kExample = LOTE_EXAMPLE_PLUGIN_PATH;
const fs::path kTest = LOTE_TEST_PLUGIN_PATH;
const fs::path kTestAbi2 = LOTE_TEST_PLUGIN_ABI2_PATH;
const fs::path kTestNoRun = LOTE_TEST_PLUGIN_NO_RUN_PATH;

std::string Q(const fs::path& p) {
  return "'" + p.string() + "'";
}

Result<std::unique_ptr<Plugin>> LoadTestPlugin(json plugin_options = json::object()) {
  return Plugin::Load(
      {.library = kTest, .model_dir = "/models/m", .options_json = plugin_options.dump()});
}

TEST(PluginLibraryTest, ALibraryThatIsNotThereIsAClearError) {
  auto lib = PluginLibrary::Open("/nonexistent/libnope.so");
  ASSERT_FALSE(lib);
  const std::string& m = lib.error().message();
  EXPECT_EQ(m.rfind("plugin '/nonexistent/libnope.so': cannot load the library: ", 0), 0u) << m;
  EXPECT_NE(m.find("No such file"), std::string::npos) << m;
}

TEST(PluginLibraryTest, RefusesAnotherAbiVersionNamingBoth) {
  auto lib = PluginLibrary::Open(kTestAbi2);
  ASSERT_FALSE(lib);
  EXPECT_EQ(lib.error().message(),
            "plugin " + Q(kTestAbi2) +
                " was built for plugin ABI version 2, but this lote speaks version 1; rebuild "
                "it against this lote's lote/plugin.h");
}

TEST(PluginLibraryTest, NamesTheMissingSymbol) {
  auto lib = PluginLibrary::Open(kTestNoRun);
  ASSERT_FALSE(lib);
  const std::string& m = lib.error().message();
  EXPECT_EQ(m.rfind("plugin " + Q(kTestNoRun) + ": missing symbol 'lote_plugin_run' (", 0), 0u)
      << m;
  EXPECT_NE(m.find("undefined symbol: lote_plugin_run"), std::string::npos) << m;
}

TEST(PluginLibraryTest, OpensTheExample) {
  auto lib = PluginLibrary::Open(kExample);
  ASSERT_TRUE(lib) << lib.error().message();
  EXPECT_EQ((*lib)->functions().abi_version(), LOTE_PLUGIN_ABI_VERSION);
}

TEST(PluginOptionsTest, ReadsTheInitOptions) {
  json init = {
      {"type", "init"},
      {"model_dir", "/models/m"},
      {"code_dir", "/code"},
      {"options", {{"kind", "plugin"}, {"library", "lib/x.so"}, {"plugin_options", {{"k", 1}}}}}};
  ASSERT_TRUE(IsPluginInit(init));
  auto o = PluginOptionsFromInit(init);
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->library, "/code/lib/x.so");  // relative to code_dir
  EXPECT_EQ(o->model_dir, "/models/m");
  EXPECT_EQ(o->options_json, R"({"k":1})");

  init["options"].erase("plugin_options");
  EXPECT_EQ(PluginOptionsFromInit(init)->options_json, "{}");

  init["options"]["plugin_options"] = json::array();
  EXPECT_EQ(PluginOptionsFromInit(init).error().field(), "options.plugin_options");

  init["options"]["plugin_options"] = json::object();
  init["code_dir"] = nullptr;
  auto relative = PluginOptionsFromInit(init);
  ASSERT_FALSE(relative);
  EXPECT_EQ(relative.error().message(),
            "options.library 'lib/x.so' is relative and the init message has no code_dir");

  init["options"].erase("library");
  EXPECT_EQ(PluginOptionsFromInit(init).error().field(), "options.library");

  EXPECT_FALSE(IsPluginInit({{"options", {{"kind", "mlflow_xgboost"}}}}));
  EXPECT_FALSE(IsPluginInit({{"model_dir", "/m"}}));
}

TEST(PluginTest, InitFailureCarriesThePluginsMessage) {
  auto p = LoadTestPlugin({{"fail_init", true}});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message(), "plugin " + Q(kTest) +
                                     ": init failed for model '/models/m': test plugin: asked "
                                     "to fail init");
}

TEST(PluginTest, ItemsReachThePluginAsTheProtocolSaysWithDefaultCounts) {
  auto p = LoadTestPlugin();
  ASSERT_TRUE(p) << p.error().message();
  auto r = (*p)->Run(
      json::array({{{"path", "/d/a.csv"}},
                   {{"path", "/d/big.csv"}, {"offset", 12}, {"length", 30}, {"header", "x,y"}},
                   {{"path", "/d/big.jsonl"}, {"offset", 0}, {"length", 7}},
                   {{"path", "/d/c.bad"}}}));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->result.payload,
            "/d/a.csv|0|whole|(null)\n"
            "/d/big.csv|12|30|x,y\n"
            "/d/big.jsonl|0|7|(null)\n");
  EXPECT_EQ(r->header, std::nullopt);  // set_header was not called: plain lines
  EXPECT_EQ(r->result.succeeded, 3);   // count was not called: the items
  EXPECT_EQ(r->result.failed, 1);
  EXPECT_EQ(r->result.item_errors,
            json::array({{{"item", "/d/c.bad"}, {"error", "test plugin: a .bad file"}}}));

  auto bad =
      (*p)->Run(json::array({{{"path", "/d/a.csv"}}, {{"path", "/d/b.csv"}, {"offset", -1}}}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "plugin " + Q(kTest) + ": item 1: offset -1 is not a byte count");
}

// A plugin gets the file system's bytes of a name that is not UTF-8 (and of
// a Latin-1 header), so that fopen(item->path) opens the file.
TEST(PluginTest, NonUtf8PathsAndHeadersReachThePluginAsBytes) {
  auto p = LoadTestPlugin();
  ASSERT_TRUE(p) << p.error().message();
  json range = PathItem("/d/caf\xe9.csv");
  range["offset"] = 4;
  range["length"] = 9;
  SetBytesField(range, "header", "prix,th\xe9");
  auto r = (*p)->Run(json::parse(json::array({PathItem("/d/\xff.csv"), range}).dump()));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->result.payload, "/d/\xff.csv|0|whole|(null)\n/d/caf\xe9.csv|4|9|prix,th\xe9\n");

  auto bad = (*p)->Run(json::array({{{"path", "/d/x.csv"}, {"path_b64", "not base64!"}}}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "plugin " + Q(kTest) +
                                       ": item 0: item '/d/x.csv': \"path_b64\" is not base64url "
                                       "without padding");
}

TEST(PluginTest, AFailedRunOrAMisusedCallbackFailsTheRun) {
  const json items = json::array({{{"path", "/d/a.csv"}}});
  const std::string where = "plugin " + Q(kTest) + ": run failed: ";
  struct Case {
    const char* option;
    std::string error;
  } cases[] = {
      {"fail_run", "test plugin: asked to fail 1 items"},
      {"fail_run_silently", "lote_plugin_run returned 4 without a message"},
      {"no_newline",
       "append_row was given a row that does not end in '\\n'; every row must "
       "end with '\\n'"},
      {"bad_index", "item_failed was given item 6 of a mini-batch of 1 items"},
  };
  for (const Case& c : cases) {
    auto p = LoadTestPlugin({{c.option, true}});
    ASSERT_TRUE(p) << p.error().message();
    auto r = (*p)->Run(items);
    ASSERT_FALSE(r) << c.option;
    EXPECT_EQ(r.error().message(), where + c.error) << c.option;
  }
}

TEST(PluginTest, ShutdownIsCalledWhenThePluginIsReleased) {
  TempDir dir;
  const fs::path marker = dir.path() / "shut";
  auto p = LoadTestPlugin({{"shutdown_marker", marker.string()}});
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_FALSE(fs::exists(marker));
  p->reset();
  EXPECT_TRUE(fs::exists(marker));
}

// The worker loop on a thread (tests/native/worker_loop_fixture.h), past its hello.
class PluginWorkerTest : public lote::testing::WorkerLoopTest {
 protected:
  void SetUp() override {
    WorkerLoopTest::SetUp();
    ASSERT_EQ(Receive().msg["type"], "hello");
  }
  void Init(const fs::path& library, json plugin_options = json::object()) {
    Send({{"type", "init"},
          {"protocol", 1},
          {"model_dir", dir_.path().string()},
          {"code_dir", nullptr},
          {"scoring_script", nullptr},
          {"output_dir", "/tmp"},
          {"job", "j"},
          {"node", 0},
          {"process", 0},
          {"options",
           {{"kind", "plugin"},
            {"library", library.string()},
            {"plugin_options", std::move(plugin_options)}}}});
  }

  TempDir dir_;
};

TEST_F(PluginWorkerTest, TheExamplePluginScoresFilesAndRanges) {
  const fs::path good = dir_.path() / "good.csv";
  const fs::path bad = dir_.path() / "bad.csv";
  std::ofstream(good) << "a,b,c\n1,2,3\n4.5,0.25,-1\r\n\n10, 20 ,30\n";
  std::ofstream(bad) << "x,y\n1,2\n3,abc\n";
  Init(kExample, {{"greeting", "hi"}});
  EXPECT_EQ(Receive().msg, json({{"type", "ready"}}));

  // The range starts at the second data row (byte 12) and runs to the end.
  Send({{"type", "run"},
        {"mini_batch", 17},
        {"attempt", 1},
        {"items",
         {{{"path", good.string()}},
          {{"path", bad.string()}},
          {{"path", good.string()}, {"offset", 12}, {"length", 25}, {"header", "a,b,c"}}}}});
  runtime::Frame result = Receive();
  EXPECT_EQ(result.msg["type"], "result");
  EXPECT_EQ(result.msg["mini_batch"], 17);
  EXPECT_EQ(result.msg["header"], "file,row,row_sum");
  EXPECT_EQ(result.msg["succeeded"], 5);  // rows: 3 of the file, 2 of the range
  EXPECT_EQ(result.msg["failed"], 1);     // bad.csv
  EXPECT_EQ(result.msg["item_errors"],
            json::array({{{"item", bad.string()},
                          {"error", "bad.csv: row 1, cell 2: 'abc' is not a number"}}}));
  EXPECT_EQ(result.msg["payload_bytes"], result.payload.size());
  EXPECT_EQ(result.payload,
            "good.csv,0,6\n"
            "good.csv,1,3.75\n"
            "good.csv,2,60\n"
            "good.csv,@12,3.75\n"
            "good.csv,@26,60\n");

  // Another mini-batch on the same plugin state.
  Send({{"type", "run"}, {"mini_batch", 18}, {"attempt", 1}, {"items", json::array()}});
  runtime::Frame empty = Receive();
  EXPECT_EQ(empty.msg["type"], "result");
  EXPECT_EQ(empty.msg["succeeded"], 0);
  EXPECT_EQ(empty.msg["failed"], 0);
  EXPECT_EQ(empty.payload, "");

  Send({{"type", "shutdown"}});
  EXPECT_EQ(ExitCode(), kWorkerExitOk);
}

TEST_F(PluginWorkerTest, AFailedRunIsRunFailedAndTheWorkerGoesOn) {
  Init(kTest, {{"fail_run", true}});
  EXPECT_EQ(Receive().msg["type"], "ready");
  for (int mb : {1, 2}) {
    Send({{"type", "run"}, {"mini_batch", mb}, {"items", {{{"path", "/d/a.csv"}}}}});
    runtime::Frame f = Receive();
    EXPECT_EQ(
        f.msg,
        json({{"type", "run_failed"},
              {"mini_batch", mb},
              {"error", "plugin " + Q(kTest) + ": run failed: test plugin: asked to fail 1 items"},
              {"traceback", ""}}));
  }
  Send({{"type", "shutdown"}});
  EXPECT_EQ(ExitCode(), kWorkerExitOk);
}

TEST_F(PluginWorkerTest, AnotherAbiVersionIsInitFailed) {
  Init(kTestAbi2);
  runtime::Frame f = Receive();
  EXPECT_EQ(f.msg["type"], "init_failed");
  EXPECT_NE(f.msg["error"].get<std::string>().find(
                "was built for plugin ABI version 2, but this lote speaks version 1"),
            std::string::npos)
      << f.msg.dump();
  EXPECT_EQ(ExitCode(), kWorkerExitInitFailed);
}

}  // namespace
}  // namespace lote::native
