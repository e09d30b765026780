// Passthrough columns in the native readers (native/csv_reader.h,
// native/jsonl_reader.h): each good row carries its passthrough cells as
// RFC 4180 text; a missing column or key is an error naming it.
#include <gtest/gtest.h>

#include <fstream>

#include "native/csv_reader.h"
#include "native/jsonl_reader.h"
#include "runtime_stub_worker.h"

namespace lote::native {
namespace {

namespace fs = std::filesystem;
using lote::testing::TempDir;

template <class Reader>
Result<CsvChunk> ReadAll(const CsvSource& src, std::vector<std::string> cols,
                         std::vector<std::string>* names = nullptr) {
  LOTE_ASSIGN_OR_RETURN(auto r, Reader::Open(src, std::move(cols)));
  CsvChunk all, chunk;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool more, r->Next(2, &chunk));
    if (!more) break;
    all.keys.insert(all.keys.end(), chunk.keys.begin(), chunk.keys.end());
    all.errors.insert(all.errors.end(), chunk.errors.begin(), chunk.errors.end());
    all.passthrough.insert(all.passthrough.end(), chunk.passthrough.begin(),
                           chunk.passthrough.end());
  }
  if (names) *names = r->passthrough();
  return all;
}

TEST(PassthroughReaderTest, CsvCellsAreRequotedAndBadRowsCarryNone) {
  TempDir dir;
  fs::path f = dir.path() / "a.csv";
  std::ofstream(f, std::ios::binary) << "x,\"n,1\",\"q\"\"\"\r\n"
                                        "1,\"a,b\",\"say \"\"hi\"\"\"\r\n"
                                        "bad,z,z\r\n"
                                        "2,\"l\nm\",\xe9\r\n";
  CsvSource src = CsvSource::WholeFile(f);
  src.passthrough = {"q\"", "n,1"};
  auto got = ReadAll<CsvReader>(src, {"x"});
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(got->keys.size(), 2u);
  ASSERT_EQ(got->errors.size(), 1u);
  EXPECT_EQ(got->passthrough,
            (std::vector<std::string>{",\"say \"\"hi\"\"\",\"a,b\"", ",\xe9,\"l\nm\""}));
  src.passthrough.clear();
  src.passthrough_all = true;
  std::vector<std::string> names;
  got = ReadAll<CsvReader>(src, {"x"}, &names);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(names, (std::vector<std::string>{"x", "n,1", "q\""}));
  EXPECT_EQ(got->passthrough[0], ",1,\"a,b\",\"say \"\"hi\"\"\"");
  src.passthrough_all = false;
  src.passthrough = {"tripId"};
  got = ReadAll<CsvReader>(src, {"x"});
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message().find("passthrough column 'tripId' is missing; the file's "
                                       "columns: x, n,1, q\""),
            std::string::npos)
      << got.error().message();
}

TEST(PassthroughReaderTest, JsonLinesValuesAsTextAndStarTakesTheFirstObject) {
  TempDir dir;
  fs::path f = dir.path() / "a.jsonl";
  std::ofstream(f, std::ios::binary)
      << "\xEF\xBB\xBF\n"
         "{\"x\": 1, \"s\": \"a,\\\"b\\\"\", \"o\": {\"k\": [1, 2]}, \"t\": true, \"n\": null}\n"
         "{\"x\": 2, \"s\": \"plain\", \"o\": 3.5, \"t\": false, \"n\": 7}\n"
         "{\"x\": 3, \"s\": \"no o\"}\n";
  CsvSource src = CsvSource::WholeFile(f);
  src.passthrough_all = true;
  std::vector<std::string> names;
  auto got = ReadAll<JsonlReader>(src, {"x"}, &names);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(names, (std::vector<std::string>{"x", "s", "o", "t", "n"}));
  ASSERT_EQ(got->keys.size(), 2u);
  EXPECT_EQ(got->passthrough, (std::vector<std::string>{",1,\"a,\"\"b\"\"\",\"{\"\"k\"\":[1,2]}\",true,",
                                                        ",2,plain,3.5,false,7"}));
  ASSERT_EQ(got->errors.size(), 1u);
  EXPECT_EQ(got->errors[0].message, "passthrough key 'o' is missing");
  EXPECT_EQ(got->errors[0].key.line, 4);
  // A range reads "*" from the file's first object too.
  CsvSource range = CsvSource::Range(f, 71, 53, "");
  range.passthrough_all = true;
  got = ReadAll<JsonlReader>(range, {"x"}, &names);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(names, (std::vector<std::string>{"x", "s", "o", "t", "n"}));
}

}  // namespace
}  // namespace lote::native
