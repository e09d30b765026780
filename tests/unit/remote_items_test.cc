// Fetching a mini-batch's items with remote input access
// (agent/remote_items.h): base names kept, ranges at their own offsets (or
// as chunk files for score.py), errors naming the item.
#include "agent/remote_items.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "common/fs_name.h"
#include "common/util.h"

namespace lote::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class RemoteItemsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lote-items-" + RandomHex(6)) / "task-1";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_.parent_path(), ec);
  }
  // Serves bodies[i] for item i.
  ItemFetch Serve(std::vector<std::string> bodies) {
    return [bodies = std::move(bodies)](size_t i, std::optional<size_t>, DownloadSink& sink) {
      return sink.Write(bodies.at(i));
    };
  }
  fs::path dir_;
  std::vector<fs::path> created_;
};

TEST_F(RemoteItemsTest, WholeFilesKeepTheirNames) {
  json items = json::array({{{"name", "a.csv"}}, {{"name", "b.csv"}}});
  auto got = FetchItems(items, dir_, false, Serve({"x\n1\n", "x\n2\n"}), &created_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, json::array(
                      {PathItem((dir_ / "a.csv").string()), PathItem((dir_ / "b.csv").string())}));
  EXPECT_EQ(Slurp(dir_ / "b.csv"), "x\n2\n");
  EXPECT_EQ(created_.size(), 2u);
}

TEST_F(RemoteItemsTest, ARangeKeepsItsOffsetInASparseFile) {
  json item = {{"name", "big.csv"}, {"offset", 1000}, {"length", 4}, {"header", "x"}};
  auto got = FetchItems(json::array({item}), dir_, false, Serve({"7\n8\n"}), &created_);
  ASSERT_TRUE(got) << got.error().message();
  const json& local = (*got)[0];
  EXPECT_EQ(local["path"], (dir_ / "big.csv").string());
  EXPECT_EQ(local["offset"], 1000);
  EXPECT_EQ(local["length"], 4);
  EXPECT_EQ(local["header"], "x");
  EXPECT_EQ(fs::file_size(dir_ / "big.csv"), 1004u);
  EXPECT_EQ(Slurp(dir_ / "big.csv").substr(1000), "7\n8\n");
}

TEST_F(RemoteItemsTest, ARangeForAWholeFileWorkerIsAChunkFile) {
  json item = {{"name", "big.csv"}, {"offset", 1000}, {"length", 4}, {"header", "x"}};
  auto got = FetchItems(json::array({item}), dir_, true, Serve({"7\n8\n"}), &created_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, json::array({PathItem((dir_ / "big@1000.csv").string())}));
  EXPECT_EQ(Slurp(dir_ / "big@1000.csv"), "x\n7\n8\n");
}

// A Parquet row-group item (jobs/planner_parquet.h): the whole file is
// fetched and the worker is told which row groups to read; without them it
// would score the whole file once per item.
TEST_F(RemoteItemsTest, ARowGroupItemFetchesTheWholeFileAndKeepsItsRowGroups) {
  json item = {{"name", "big.parquet"}, {"row_group", 3}, {"row_groups", 2}};
  auto got = FetchItems(json::array({item}), dir_, false, Serve({"PAR1...PAR1"}), &created_);
  ASSERT_TRUE(got) << got.error().message();
  json want = PathItem((dir_ / "big.parquet").string());
  want["row_group"] = 3;
  want["row_groups"] = 2;
  EXPECT_EQ(*got, json::array({want}));
  EXPECT_EQ(Slurp(dir_ / "big.parquet"), "PAR1...PAR1");
}

TEST_F(RemoteItemsTest, SameNamesAndOddNamesStayApart) {
  json items = json::array({{{"name", "a.csv"}},
                            {{"name", "a.csv"}},
                            {{"name", "../../etc/passwd"}},
                            {{"name", "caf\xe9.csv"}}});
  SetBytesField(items[3], "name", "caf\xe9.csv");
  auto got = FetchItems(items, dir_, false, Serve({"1", "2", "3", "4"}), &created_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(Slurp(dir_ / "a.csv"), "1");
  EXPECT_EQ(Slurp(dir_ / "1" / "a.csv"), "2");
  EXPECT_EQ(Slurp(dir_ / "item-2"), "3");
  auto path = ItemPath((*got)[3]);
  ASSERT_TRUE(path);
  EXPECT_EQ(*path, (dir_ / "caf\xe9.csv").string());
  EXPECT_EQ(Slurp(*path), "4");
}

TEST_F(RemoteItemsTest, ErrorsNameTheItem) {
  json items = json::array({{{"name", "a.csv"}}, {{"name", "b.csv"}}});
  auto got = FetchItems(
      items, dir_, false,
      [](size_t i, std::optional<size_t>, DownloadSink& sink) -> Status {
        if (i == 1)
          return NotFound("item 1 of mini-batch 3 ('b.csv') cannot be read: it no longer exists");
        return sink.Write("x\n");
      },
      &created_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(got.error().message().find("cannot fetch item 1 'b.csv'"), std::string::npos)
      << got.error().message();
  EXPECT_EQ(created_.size(), 2u) << "every file made is listed, for the caller to remove";

  json range = json::array({{{"name", "big.csv"}, {"offset", 0}, {"length", 10}}});
  got = FetchItems(range, dir_ / "r", false, Serve({"short"}), &created_);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message().find("sent 5 of the range's 10 bytes"), std::string::npos)
      << got.error().message();
}

// A Parquet row-group item with spans: only the spans are asked for, each
// written at its offset of a sparse file of the planned size.
TEST_F(RemoteItemsTest, RowGroupSpansGoToTheirOffsetsOfASparseFile) {
  const std::string whole = "PAR1" + std::string(96, 'd') + "footer" + "PAR1";  // 110 bytes
  json items = json::array({{{"name", "t.parquet"}, {"row_group", 1}, {"row_groups", 2},
                             {"file_size", whole.size()}, {"spans", {{0, 4}, {40, 20}, {100, 10}}}}});
  std::vector<std::optional<size_t>> asked;
  auto got = FetchItems(
      items, dir_, false,
      [&](size_t i, std::optional<size_t> span, DownloadSink& sink) -> Status {
        EXPECT_EQ(i, 0u);
        asked.push_back(span);
        const json& s = items[0]["spans"][span.value_or(0)];
        LOTE_TRY(sink.Write("junk"));  // a retried download starts over
        LOTE_TRY(sink.Restart());
        return sink.Write(whole.substr(s[0].get<size_t>(), s[1].get<size_t>()));
      },
      &created_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(asked, (std::vector<std::optional<size_t>>{0, 1, 2}));
  EXPECT_EQ((*got)[0]["row_group"], 1);
  EXPECT_EQ((*got)[0]["row_groups"], 2);
  EXPECT_FALSE((*got)[0].contains("spans"));
  std::string want(whole.size(), '\0');
  for (auto [at, n] : {std::pair{0, 4}, {40, 20}, {100, 10}}) want.replace(at, n, whole, at, n);
  EXPECT_EQ(Slurp(dir_ / "t.parquet"), want);
}

TEST_F(RemoteItemsTest, BadSpansOrShortBodiesFailTheItem) {
  auto fetch_with = [&](json spans, uint64_t size, const std::string& body) {
    json items = json::array({{{"name", "t.parquet"}, {"row_group", 0}, {"row_groups", 1},
                               {"file_size", size}, {"spans", std::move(spans)}}});
    return FetchItems(items, dir_ / RandomHex(4), false,
                      [&](size_t, std::optional<size_t>, DownloadSink& sink) { return sink.Write(body); },
                      &created_);
  };
  for (const json& spans : {json::array(), json{{5, 10}, {0, 4}}, json{{0, 200}}, json{{0, -1}},
                            json{"x"}}) {
    auto got = fetch_with(spans, 100, "");
    ASSERT_FALSE(got) << spans.dump();
    EXPECT_NE(got.error().message().find("cannot fetch item 0 't.parquet'"), std::string::npos)
        << got.error().message();
  }
  auto got = fetch_with(json{{0, 10}}, 100, "short");
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message().find("sent 5 of span 0's 10 bytes"), std::string::npos)
      << got.error().message();
  got = fetch_with(json{{0, 4}}, 100, "too long");
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message().find("more than the span's 4 bytes"), std::string::npos)
      << got.error().message();
}

}  // namespace
}  // namespace lote::agent
