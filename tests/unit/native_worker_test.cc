#include "native/native_worker.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "../native/native_fixture.h"
#include "../native/worker_loop_fixture.h"
#include "common/fs_name.h"
#include "native/tabular_scorer.h"
#include "runtime/frame.h"

namespace lote::native {
namespace {

namespace fs = std::filesystem;
using lote::testing::Close;
using lote::testing::NativeModels;
using lote::testing::OutRow;
using lote::testing::ParseRows;
using lote::testing::ReadExpected;
using lote::testing::TempDir;
using nlohmann::json;

// Every expected row is in `rows` (for `file`), in order, with Python's values.
void ExpectRows(const std::vector<OutRow>& rows, const std::string& file,
                const std::string& expected_name) {
  lote::testing::ExpectRows(rows, file, ReadExpected(NativeModels() / expected_name), "python");
}

Result<std::unique_ptr<TabularScorer>> MakeScorer(const fs::path& dir, std::string kind = "",
                                                  std::vector<std::string> columns = {}) {
  ScorerOptions o;
  o.model_dir = dir;
  o.kind = std::move(kind);
  o.threads = 2;
  o.columns = std::move(columns);
  o.chunk_rows = 50;  // several predictions per file
  return TabularScorer::Create(o);
}

TEST(NativeScorerTest, MlflowRegressorScoresFilesLikePython) {
  LOTE_NEED_NATIVE_MODELS();
  auto s = MakeScorer(NativeModels() / "mlflow_reg");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ((*s)->header(), "file,row,prediction");
  EXPECT_EQ((*s)->columns(), lote::testing::kFeatures);  // the signature's order
  const fs::path m = NativeModels();
  BatchResult r = (*s)->Run(json::array({{{"path", (m / "data.csv").string()}},
                                         {{"path", (m / "data_crlf.csv").string()}},
                                         {{"path", (m / "plain.csv").string()}}}));
  EXPECT_EQ(r.failed, 0);
  EXPECT_EQ(r.succeeded, 200 + 200 + 1000);
  EXPECT_TRUE(r.item_errors.empty()) << r.item_errors.dump();
  auto rows = ParseRows(r.payload);
  ExpectRows(rows, "data.csv", "expected_reg_data.csv");
  ExpectRows(rows, "data_crlf.csv", "expected_reg_data_crlf.csv");
  ExpectRows(rows, "plain.csv", "expected_reg_plain.csv");
}

TEST(NativeScorerTest, ClassifierHasOneColumnPerClass) {
  LOTE_NEED_NATIVE_MODELS();
  auto s = MakeScorer(NativeModels() / "mlflow_clf", "mlflow_xgboost");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ((*s)->header(), "file,row,prediction_0,prediction_1,prediction_2");
  BatchResult r = (*s)->Run(json::array({{{"path", (NativeModels() / "data.csv").string()}}}));
  EXPECT_EQ(r.succeeded, 200);
  ExpectRows(ParseRows(r.payload), "data.csv", "expected_clf_data.csv");
}

TEST(NativeScorerTest, PlainXgboostFilesUseTheSavedFeatureNames) {
  LOTE_NEED_NATIVE_MODELS();
  for (const char* file : {"model.json", "model.ubj"}) {
    auto s = MakeScorer(NativeModels() / "reg" / file, "xgboost");
    ASSERT_TRUE(s) << s.error().message();
    BatchResult r = (*s)->Run(json::array({{{"path", (NativeModels() / "data.csv").string()}}}));
    EXPECT_EQ(r.succeeded, 200) << file;
    ExpectRows(ParseRows(r.payload), "data.csv", "expected_reg_data.csv");
  }
  // The legacy binary format keeps no names: the columns come from options.
  auto s = MakeScorer(NativeModels() / "reg/model.xgb", "xgboost", lote::testing::kFeatures);
  ASSERT_TRUE(s) << s.error().message();
  BatchResult r = (*s)->Run(json::array({{{"path", (NativeModels() / "plain.csv").string()}}}));
  EXPECT_EQ(r.succeeded, 1000);
  ExpectRows(ParseRows(r.payload), "plain.csv", "expected_reg_plain.csv");
}

TEST(NativeScorerTest, AMalformedRowFailsThatRowOnly) {
  LOTE_NEED_NATIVE_MODELS();
  auto s = MakeScorer(NativeModels() / "mlflow_reg");
  ASSERT_TRUE(s);
  const std::string bad = (NativeModels() / "bad.csv").string();
  BatchResult r = (*s)->Run(json::array({{{"path", bad}}}));
  EXPECT_EQ(r.succeeded, 199);
  EXPECT_EQ(r.failed, 1);
  ASSERT_EQ(r.item_errors.size(), 1u);
  // data row 16 is on line 19: the header, and a quoted line end in row 7.
  EXPECT_EQ(
      r.item_errors[0],
      json({{"item", bad},
            {"error", "bad.csv: row 16 (line 19), column 'fareAmount': 'abc' is not a number"},
            {"row", "16"},
            {"column", "fareAmount"}}));
  ExpectRows(ParseRows(r.payload), "bad.csv", "expected_reg_bad.csv");
}

TEST(NativeScorerTest, FilesThatFailAsAWholeCountOnce) {
  LOTE_NEED_NATIVE_MODELS();
  TempDir dir;
  auto s = MakeScorer(NativeModels() / "mlflow_reg");
  ASSERT_TRUE(s);
  const fs::path lacking = dir.path() / "lacking.csv";
  std::ofstream(lacking) << "fareAmount,tripDistance,hour\n1,2,3\n";
  const fs::path missing = dir.path() / "missing.csv";
  BatchResult r = (*s)->Run(json::array({{{"path", lacking.string()}},
                                         {{"path", missing.string()}},
                                         {{"path", (NativeModels() / "data.csv").string()}}}));
  EXPECT_EQ(r.succeeded, 200);
  EXPECT_EQ(r.failed, 2);
  ASSERT_EQ(r.item_errors.size(), 2u);
  EXPECT_EQ(r.item_errors[0]["item"], lacking.string());
  EXPECT_EQ(r.item_errors[0]["error"],
            "'" + lacking.string() +
                "': column 'passengerCount' is missing; the file's columns: fareAmount, "
                "tripDistance, hour");
  EXPECT_EQ(r.item_errors[1]["item"], missing.string());
  EXPECT_NE(r.item_errors[1]["error"].get<std::string>().find("cannot read"), std::string::npos);
  EXPECT_EQ(ParseRows(r.payload).size(), 200u);
}

TEST(NativeScorerTest, ByteRangesScoreEveryRowOnce) {
  LOTE_NEED_NATIVE_MODELS();
  auto s = MakeScorer(NativeModels() / "mlflow_reg");
  ASSERT_TRUE(s);
  const fs::path plain = NativeModels() / "plain.csv";
  std::string text = lote::testing::Slurp(plain);
  const uint64_t body = text.find('\n') + 1;
  const std::string header = text.substr(0, body - 1);
  json items = json::array();
  for (uint64_t start = body; start < text.size();) {
    uint64_t end = std::min<uint64_t>(start + 3000, text.size());
    if (end < text.size()) end = text.find('\n', end - 1) + 1;
    items.push_back(
        {{"path", plain.string()}, {"offset", start}, {"length", end - start}, {"header", header}});
    start = end;
  }
  ASSERT_GT(items.size(), 10u);
  BatchResult whole = (*s)->Run(json::array({{{"path", plain.string()}}}));
  BatchResult ranges = (*s)->Run(items);
  EXPECT_EQ(ranges.succeeded, 1000);
  EXPECT_EQ(ranges.failed, 0);
  auto w = ParseRows(whole.payload);
  auto g = ParseRows(ranges.payload);
  ASSERT_EQ(g.size(), w.size());
  uint64_t offset = body;
  for (size_t i = 0; i < w.size(); ++i) {
    // The range rows are keyed by the byte offset where the row starts.
    ASSERT_EQ(g[i].row, "@" + std::to_string(offset)) << i;
    offset = text.find('\n', offset) + 1;
    ASSERT_EQ(g[i].values, w[i].values) << i;
  }
}

// A file whose name is not UTF-8 is opened by its bytes (path_b64) and shown
// readably in the output's file column and in errors.
TEST(NativeScorerTest, NonUtf8NamesAreOpenedByTheirBytesAndShownEscaped) {
  LOTE_NEED_NATIVE_MODELS();
  TempDir dir;
  auto s = MakeScorer(NativeModels() / "mlflow_reg");
  ASSERT_TRUE(s);
  const std::string text = lote::testing::Slurp(NativeModels() / "plain.csv");
  const fs::path latin = dir.path() / "caf\xe9.csv";
  std::ofstream(latin, std::ios::binary) << text;
  json range = PathItem(latin.string());
  range["offset"] = text.find('\n') + 1;
  range["length"] = text.size() - range["offset"].get<size_t>();
  range["header"] = text.substr(0, text.find('\n'));
  json missing = PathItem((dir.path() / "gon\xe9.csv").string());
  BatchResult r = (*s)->Run(json::parse(json::array({PathItem(latin.string()), range, missing}).dump()));
  EXPECT_EQ(r.succeeded, 2000);
  EXPECT_EQ(r.failed, 1);
  ASSERT_EQ(r.item_errors.size(), 1u);
  EXPECT_EQ(r.item_errors[0]["item"], (dir.path() / "gon\\xe9.csv").string());
  EXPECT_EQ(r.item_errors[0]["error"], "cannot read '" + (dir.path() / "gon\\xe9.csv").string() +
                                           "': No such file or directory");
  auto rows = ParseRows(r.payload);
  ASSERT_EQ(rows.size(), 2000u);
  for (const auto& row : rows) EXPECT_EQ(row.file, "caf\\xe9.csv");
  EXPECT_EQ(rows[1000].row, "@" + range["offset"].dump());
}

// A record longer than the limit fails its file once, with a message naming
// the file, the line and the limit; the other files of the mini-batch are
// scored.
TEST(NativeScorerTest, ARecordOverTheLimitFailsItsFileOnce) {
  LOTE_NEED_NATIVE_MODELS();
  TempDir dir;
  ScorerOptions o;
  o.model_dir = NativeModels() / "mlflow_reg";
  o.threads = 1;
  o.max_record_bytes = 1000;
  auto s = TabularScorer::Create(o);
  ASSERT_TRUE(s) << s.error().message();
  const std::string text = lote::testing::Slurp(NativeModels() / "plain.csv");
  const std::string header = text.substr(0, text.find('\n'));
  const fs::path huge = dir.path() / "huge.csv";
  std::ofstream(huge) << header << "\n1,2,3,4\n" << std::string(5000, '9') << "\n1,2,3,4\n";
  BatchResult r = (*s)->Run(json::array({PathItem(huge.string()),
                                         PathItem((NativeModels() / "plain.csv").string())}));
  EXPECT_EQ(r.succeeded, 1000);
  EXPECT_EQ(r.failed, 1) << "the file counts once, not once per row";
  ASSERT_EQ(r.item_errors.size(), 1u);
  EXPECT_EQ(r.item_errors[0]["error"], "'" + huge.string() +
                                           "': the record at line 3 is longer than 1000 bytes, "
                                           "the limit for one CSV record");
  EXPECT_EQ(ParseRows(r.payload).size(), 1000u);
}

TEST(NativeScorerTest, EachItemListsItsOwnRowErrorsAndAFailedItemLeavesNothing) {
  // Items are scored into the batch's result in place: the row-error cap is
  // per item, and an item that fails after some of its rows were predicted
  // (and row errors listed) takes them all back out.
  LOTE_NEED_NATIVE_MODELS();
  TempDir dir;
  ScorerOptions o;
  o.model_dir = NativeModels() / "mlflow_reg";
  o.threads = 1;
  o.chunk_rows = 50;
  o.max_record_bytes = 1000;
  auto s = TabularScorer::Create(o);
  ASSERT_TRUE(s) << s.error().message();
  const std::string text = lote::testing::Slurp(NativeModels() / "plain.csv");
  const size_t header_end = text.find('\n');
  const std::string header = text.substr(0, header_end);
  const std::string good_row = text.substr(header_end + 1, text.find('\n', header_end + 1) - header_end - 1);
  const std::string bad_row = "x" + good_row.substr(good_row.find(','));
  auto write = [&](const std::string& name, int good, int bad, bool huge_at_end) {
    const fs::path p = dir.path() / name;
    std::ofstream f(p);
    f << header << "\n";
    for (int i = 0; i < good; ++i) f << good_row << "\n";
    for (int i = 0; i < bad; ++i) f << bad_row << "\n";
    if (huge_at_end) f << std::string(5000, '9') << "\n";
    return p.string();
  };
  const std::string a = write("a.csv", 10, 150, false);
  const std::string b = write("b.csv", 20, 130, false);
  const std::string broken = write("broken.csv", 120, 5, true);
  BatchResult r = (*s)->Run(json::array({PathItem(a), PathItem(broken), PathItem(b),
                                         PathItem((NativeModels() / "plain.csv").string())}));
  EXPECT_EQ(r.succeeded, 10 + 20 + 1000);
  EXPECT_EQ(r.failed, 150 + 1 + 130);
  ASSERT_EQ(r.item_errors.size(), 101u + 1u + 101u);
  EXPECT_EQ(r.item_errors[100]["error"], "a.csv: 50 more bad rows (not listed)");
  EXPECT_EQ(r.item_errors[101]["item"], broken);
  EXPECT_EQ(r.item_errors[102]["item"], b);
  EXPECT_EQ(r.item_errors[202]["error"], "b.csv: 30 more bad rows (not listed)");
  const auto rows = ParseRows(r.payload);
  ASSERT_EQ(rows.size(), 10u + 20u + 1000u);
  for (const OutRow& row : rows) EXPECT_NE(row.file, "broken.csv");
  EXPECT_EQ(rows[10].file, "b.csv");
}

TEST(NativeScorerTest, RefusesModelsItDoesNotServe) {
  LOTE_NEED_NATIVE_MODELS();
  TempDir dir;
  std::ofstream(dir.path() / "MLmodel") << "flavors:\n  sklearn:\n    pickled_model: model.pkl\n";
  std::ofstream(dir.path() / "model.pkl") << "x";
  auto sk = MakeScorer(dir.path());
  ASSERT_FALSE(sk);
  EXPECT_NE(sk.error().message().find("MLflow model of kind 'mlflow_sklearn', which the Python "
                                      "runner scores"),
            std::string::npos);
  auto kind = MakeScorer(NativeModels() / "mlflow_reg", "onnx");
  ASSERT_FALSE(kind);
  EXPECT_EQ(kind.error().message(),
            "the native worker scores kinds mlflow_xgboost, xgboost and torchscript, not 'onnx'");
  auto torch = MakeScorer(NativeModels() / "mlflow_reg", "torchscript");
  ASSERT_FALSE(torch);
  EXPECT_EQ(torch.error().message(), "model folder '" + (NativeModels() / "mlflow_reg").string() +
                                         "' holds no TorchScript model file (.pt, .pth, .ptl, "
                                         ".torchscript)");
  auto cols = MakeScorer(NativeModels() / "mlflow_reg", "", {"fareAmount"});
  ASSERT_FALSE(cols);
  EXPECT_NE(cols.error().message().find("takes 4 features, but 1 input columns are named"),
            std::string::npos)
      << cols.error().message();
}

// The worker loop on a thread, talking over two pipes, as `lote agent` does.
class NativeWorkerProtocolTest : public lote::testing::WorkerLoopTest {};

TEST_F(NativeWorkerProtocolTest, ScoresAMiniBatch) {
  LOTE_NEED_NATIVE_MODELS();
  runtime::Frame hello = Receive();
  EXPECT_EQ(hello.msg["type"], "hello");
  EXPECT_EQ(hello.msg["protocol"], 1);
  EXPECT_EQ(hello.msg["runtime"], "native");
  EXPECT_EQ(hello.msg["pid"], getpid());
  Send({{"type", "init"},
        {"protocol", 1},
        {"model_dir", (NativeModels() / "mlflow_reg").string()},
        {"code_dir", nullptr},
        {"scoring_script", nullptr},
        {"output_dir", "/tmp"},
        {"job", "j"},
        {"node", 0},
        {"process", 0},
        {"options", {{"kind", "mlflow_xgboost"}, {"threads", 2}}}});
  EXPECT_EQ(Receive().msg, json({{"type", "ready"}}));
  const std::string bad = (NativeModels() / "bad.csv").string();
  Send({{"type", "run"},
        {"mini_batch", 17},
        {"attempt", 1},
        {"items", {{{"path", (NativeModels() / "data.csv").string()}}, {{"path", bad}}}}});
  runtime::Frame result = Receive();
  EXPECT_EQ(result.msg["type"], "result");
  EXPECT_EQ(result.msg["mini_batch"], 17);
  EXPECT_EQ(result.msg["succeeded"], 399);
  EXPECT_EQ(result.msg["failed"], 1);
  EXPECT_EQ(result.msg["header"], "file,row,prediction");
  ASSERT_EQ(result.msg["item_errors"].size(), 1u);
  EXPECT_EQ(result.msg["item_errors"][0]["item"], bad);
  EXPECT_EQ(result.msg["payload_bytes"], result.payload.size());
  auto rows = ParseRows(result.payload);
  EXPECT_EQ(rows.size(), 399u);
  ExpectRows(rows, "data.csv", "expected_reg_data.csv");
  ExpectRows(rows, "bad.csv", "expected_reg_bad.csv");
  Send({{"type", "shutdown"}});
  EXPECT_EQ(ExitCode(), kWorkerExitOk);
}

TEST_F(NativeWorkerProtocolTest, InitFailedForAnUnservedFlavor) {
  TempDir dir;
  std::ofstream(dir.path() / "MLmodel") << "flavors:\n  onnx:\n    data: model.onnx\n";
  EXPECT_EQ(Receive().msg["type"], "hello");
  Send({{"type", "init"}, {"protocol", 1}, {"model_dir", dir.path().string()}});
  runtime::Frame f = Receive();
  EXPECT_EQ(f.msg["type"], "init_failed");
  EXPECT_NE(f.msg["error"].get<std::string>().find("MLmodel flavor(s) 'onnx' are not served"),
            std::string::npos)
      << f.msg.dump();
  EXPECT_EQ(ExitCode(), kWorkerExitInitFailed);
}

TEST_F(NativeWorkerProtocolTest, RefusesAnotherProtocolVersion) {
  EXPECT_EQ(Receive().msg["type"], "hello");
  Send({{"type", "init"}, {"protocol", 2}, {"model_dir", "/nonexistent"}});
  runtime::Frame f = Receive();
  EXPECT_EQ(f.msg["type"], "init_failed");
  EXPECT_EQ(f.msg["error"], "protocol 2 is not supported: this worker speaks protocol 1");
  EXPECT_EQ(ExitCode(), kWorkerExitInitFailed);
}

TEST_F(NativeWorkerProtocolTest, UnexpectedMessageIsAProtocolError) {
  EXPECT_EQ(Receive().msg["type"], "hello");
  Send({{"type", "run"}, {"mini_batch", 1}, {"items", json::array()}});
  EXPECT_EQ(ExitCode(), kWorkerExitProtocolError);
  EXPECT_NE(log_.str().find("protocol error: unexpected message 'run' before init"),
            std::string::npos)
      << log_.str();
}

TEST_F(NativeWorkerProtocolTest, EndOfInputEndsTheWorker) {
  EXPECT_EQ(Receive().msg["type"], "hello");
  ::close(agent_out_);
  agent_out_ = -1;
  EXPECT_EQ(ExitCode(), kWorkerExitOk);
}

}  // namespace
}  // namespace lote::native
