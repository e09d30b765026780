#include "runtime/frame.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

namespace lote::runtime {
namespace {

class Pipe {
 public:
  Pipe() { EXPECT_EQ(pipe2(fds_, O_CLOEXEC), 0); }
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  int r() const { return fds_[0]; }
  int w() const { return fds_[1]; }
  void CloseRead() {
    if (fds_[0] >= 0) close(fds_[0]);
    fds_[0] = -1;
  }
  void CloseWrite() {
    if (fds_[1] >= 0) close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

void WriteRaw(int fd, std::string_view bytes) {
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

std::string Header(uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>((n >> 16) & 0xff),
          static_cast<char>((n >> 8) & 0xff), static_cast<char>(n & 0xff)};
}

TEST(RuntimeFrameTest, RoundTripWithoutPayload) {
  Pipe p;
  ASSERT_TRUE(WriteFrame(p.w(), {{"type", "hello"}, {"protocol", 1}}));
  auto f = ReadFrame(p.r(), 1000);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->msg["type"], "hello");
  EXPECT_EQ(f->msg["protocol"], 1);
  EXPECT_FALSE(f->msg.contains("payload_bytes"));
  EXPECT_TRUE(f->payload.empty());
}

TEST(RuntimeFrameTest, RoundTripWithPayloadSetsPayloadBytes) {
  Pipe p;
  std::string rows = "a.csv,1\nb.csv,\"x,y\"\n";
  rows.push_back('\0');  // raw bytes, not text
  rows += "\n";
  ASSERT_TRUE(WriteFrame(p.w(), {{"type", "result"}, {"payload_bytes", 999}}, rows));
  auto f = ReadFrame(p.r(), 1000);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->msg["payload_bytes"], rows.size());
  EXPECT_EQ(f->payload, rows);
}

TEST(RuntimeFrameTest, StalePayloadBytesIsRemovedWithoutPayload) {
  Pipe p;
  ASSERT_TRUE(WriteFrame(p.w(), {{"type", "run"}, {"payload_bytes", 10}}));
  auto f = ReadFrame(p.r(), 1000);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_FALSE(f->msg.contains("payload_bytes"));
}

TEST(RuntimeFrameTest, LargePayloadAcrossManyPartialReads) {
  Pipe p;
  std::string big(3 << 20, 'x');  // far over the pipe's buffer
  for (size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>('a' + i % 26);
  std::thread writer([&] { EXPECT_TRUE(WriteFrame(p.w(), {{"type", "result"}}, big)); });
  auto f = ReadFrame(p.r(), 10000);
  writer.join();
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->payload, big);
}

TEST(RuntimeFrameTest, DeadlineSpansPartialReads) {
  Pipe p;
  std::string json = R"({"type":"ready"})";
  std::string frame = Header(static_cast<uint32_t>(json.size())) + json;
  // The frame arrives in three pieces, well inside the timeout.
  std::thread writer([&] {
    WriteRaw(p.w(), frame.substr(0, 2));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    WriteRaw(p.w(), frame.substr(2, 7));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    WriteRaw(p.w(), frame.substr(9));
  });
  auto f = ReadFrame(p.r(), 2000);
  writer.join();
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->msg["type"], "ready");
}

TEST(RuntimeFrameTest, TimesOutWhenNothingArrives) {
  Pipe p;
  auto t0 = std::chrono::steady_clock::now();
  auto f = ReadFrame(p.r(), 100);
  auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(f.error().message(), "timed out");
  EXPECT_TRUE(IsTimeout(f.error()));
  EXPECT_GE(waited, std::chrono::milliseconds(90));
}

TEST(RuntimeFrameTest, TimesOutInTheMiddleOfAFrame) {
  Pipe p;
  WriteRaw(p.w(), Header(100) + R"({"type":)");
  auto f = ReadFrame(p.r(), 100);
  ASSERT_FALSE(f);
  EXPECT_TRUE(IsTimeout(f.error()));
}

TEST(RuntimeFrameTest, EndOfFileIsClosed) {
  Pipe p;
  p.CloseWrite();
  auto f = ReadFrame(p.r(), 1000);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), ErrorCode::kIo);
  EXPECT_EQ(f.error().message(), "worker closed the protocol pipe");
  EXPECT_TRUE(IsClosed(f.error()));
}

TEST(RuntimeFrameTest, EndOfFileInsidePayloadIsClosed) {
  Pipe p;
  std::string json = R"({"type":"result","payload_bytes":10})";
  WriteRaw(p.w(), Header(static_cast<uint32_t>(json.size())) + json + "abc");
  p.CloseWrite();
  auto f = ReadFrame(p.r(), 1000);
  ASSERT_FALSE(f);
  EXPECT_TRUE(IsClosed(f.error()));
}

TEST(RuntimeFrameTest, RefusesOversizedFrame) {
  Pipe p;
  WriteRaw(p.w(), Header((64u << 20) + 1));
  auto f = ReadFrame(p.r(), 1000);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(f.error().message(),
            "protocol error: frame of 67108865 bytes exceeds the 64 MiB limit");
}

TEST(RuntimeFrameTest, RefusesMalformedFrames) {
  struct Case {
    std::string json, message;
  } cases[] = {
      {"not json", "protocol error: frame is not JSON"},
      {"[1,2]", "protocol error: frame is not a JSON object"},
      {R"({"kind":"x"})", "protocol error: frame has no string \"type\""},
      {R"({"type":"result","payload_bytes":-1})",
       "protocol error: payload_bytes must be a non-negative integer"},
      {R"({"type":"result","payload_bytes":"7"})",
       "protocol error: payload_bytes must be a non-negative integer"},
  };
  for (const auto& c : cases) {
    Pipe p;
    WriteRaw(p.w(), Header(static_cast<uint32_t>(c.json.size())) + c.json);
    auto f = ReadFrame(p.r(), 1000);
    ASSERT_FALSE(f) << c.json;
    EXPECT_EQ(f.error().code(), ErrorCode::kInvalidArgument) << c.json;
    EXPECT_EQ(f.error().message().substr(0, c.message.size()), c.message) << c.json;
  }
}

TEST(RuntimeFrameTest, WriteToClosedReaderIsClosedNotSigpipe) {
  Pipe p;
  p.CloseRead();
  auto st = WriteFrame(p.w(), {{"type", "run"}});
  ASSERT_FALSE(st);
  EXPECT_TRUE(IsClosed(st.error()));
}

TEST(RuntimeFrameTest, WriteTimesOutWhenTheReaderStalls) {
  Pipe p;
  ASSERT_EQ(fcntl(p.w(), F_SETFL, fcntl(p.w(), F_GETFL) | O_NONBLOCK), 0);
  std::string big(4 << 20, 'x');  // more than any pipe buffer
  auto st = WriteFrame(p.w(), {{"type", "result"}}, big, 100);
  ASSERT_FALSE(st);
  EXPECT_TRUE(IsTimeout(st.error()));
}

TEST(RuntimeFrameTest, InvalidUtf8IsReplacedNotFatal) {
  Pipe p;
  ASSERT_TRUE(WriteFrame(p.w(), {{"type", "run"}, {"path", std::string("a\xff.csv")}}));
  auto f = ReadFrame(p.r(), 1000);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->msg["path"], "a\xEF\xBF\xBD.csv");
}

TEST(RuntimeFrameTest, TooLargeMessageIsRefusedBeforeAnyByteIsWritten) {
  Pipe p;
  ASSERT_EQ(fcntl(p.w(), F_SETFL, fcntl(p.w(), F_GETFL) | O_NONBLOCK), 0);
  auto st = WriteFrame(p.w(), {{"type", "run"}, {"header", std::string(kMaxFrameJsonBytes, 'h')}});
  ASSERT_FALSE(st);
  EXPECT_TRUE(IsRefusedMessage(st.error())) << st.error().message();
  EXPECT_FALSE(IsClosed(st.error()));
  ASSERT_TRUE(WriteFrame(p.w(), {{"type", "run"}})) << "the stream is still usable";
  auto f = ReadFrame(p.r(), 1000);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->msg["type"], "run");
}

TEST(RuntimeFrameTest, TruncateTextKeepsWholeCharactersAndSaysHowMuchIsCut) {
  EXPECT_EQ(TruncateText("short", 10), "short");
  EXPECT_EQ(TruncateText("abcdef", 3), "abc … (3 more bytes)");
  EXPECT_EQ(TruncateText("a\xc3\xa9z", 2), "a … (3 more bytes)") << "never half an é";
}

// A worker's result naming a 200 MB line in its errors, or a million bad
// rows, still fits a frame once bounded.
TEST(RuntimeFrameTest, BoundMessageTextsCapsErrorsAndItemErrors) {
  const std::string huge(200u << 20, 'x');
  nlohmann::json msg = {{"type", "result"}, {"error", huge}, {"traceback", huge}};
  msg["item_errors"] = nlohmann::json::array();
  for (size_t i = 0; i < kMaxItemErrors + 5; ++i) {
    msg["item_errors"].push_back({{"item", "/d/a.csv"}, {"error", i == 0 ? huge : "bad row"},
                                  {"row", std::to_string(i)}});
  }
  BoundMessageTexts(msg);
  EXPECT_LT(msg.dump().size(), size_t{1} << 20);
  EXPECT_EQ(msg["error"].get<std::string>().substr(kMaxErrorTextBytes),
            " … (" + std::to_string(huge.size() - kMaxErrorTextBytes) + " more bytes)");
  EXPECT_EQ(msg["traceback"], TruncateText(huge, kMaxTracebackBytes));
  ASSERT_EQ(msg["item_errors"].size(), kMaxItemErrors + 1);
  EXPECT_EQ(msg["item_errors"].back()["error"], "5 more item errors in this result (not listed)");
  EXPECT_EQ(msg["item_errors"][1]["error"], "bad row");
  EXPECT_LT(msg["item_errors"][0]["error"].get<std::string>().size(), kMaxErrorTextBytes + 64);
}

}  // namespace
}  // namespace lote::runtime
