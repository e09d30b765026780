// jobs/job_outputs: what a job's output folder offers users.
#include "jobs/job_outputs.h"

#include <gtest/gtest.h>

#include <fstream>

#include "jobs/output_assembly.h"
#include "runtime_stub_worker.h"

namespace lote::jobs {
namespace {

namespace fs = std::filesystem;
using lote::testing::TempDir;

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

JobSpec SpecIn(const fs::path& dir) {
  JobSpec spec;
  spec.name = "ep-job-1";
  spec.output.file_name = "predictions.csv";
  spec.output.local_dir = dir.string();
  spec.output.local_path = (dir / "predictions.csv").string();
  return spec;
}

TEST(JobOutputsTest, ListsRegularFilesButNotLinksTheTempOrAnUnassembledOutput) {
  TempDir dir;
  JobSpec spec = SpecIn(dir.path());
  Write(dir.path() / "summary.txt", "12");
  Write(dir.path() / "parts" / "a.out", "abc");
  Write(dir.path() / "predictions.csv", "file,row\n");
  Write(dir.path() / AssemblyTempName(spec.output.local_path, spec.name), "half");
  fs::create_symlink("/etc/passwd", dir.path() / "passwd");
  fs::create_directory_symlink("/etc", dir.path() / "etc");

  OutputListing before = ListOutputFiles(spec, /*assembled=*/false);
  std::vector<std::string> names;
  for (const auto& f : before.files) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"parts/a.out", "summary.txt"}));
  EXPECT_EQ(before.files[0].size, 3u);
  EXPECT_FALSE(before.truncated);

  OutputListing after = ListOutputFiles(spec, /*assembled=*/true);
  ASSERT_EQ(after.files.size(), 3u);
  EXPECT_EQ(after.files[1].name, "predictions.csv");
}

TEST(JobOutputsTest, ApiPathsKeepTheApisOwnPrefixesApart) {
  EXPECT_EQ(OutputFileApiPath("summary.txt"), "summary.txt");
  EXPECT_EQ(OutputFileApiPath("logs/mine.txt"), "outputs/logs/mine.txt");
  EXPECT_EQ(OutputFileApiPath("outputs/x"), "outputs/outputs/x");
}

TEST(JobOutputsTest, ResolvesBeneathTheFolderOnly) {
  TempDir dir;
  JobSpec spec = SpecIn(dir.path());
  Write(dir.path() / "parts" / "a.out", "abc");
  fs::create_symlink("/etc/passwd", dir.path() / "passwd");
  auto ok = ResolveOutputFile(spec, "parts/a.out");
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(*ok, fs::canonical(dir.path() / "parts" / "a.out"));
  auto missing = ResolveOutputFile(spec, "nope.txt");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(ResolveOutputFile(spec, "passwd"));
  EXPECT_FALSE(ResolveOutputFile(spec, "../x"));
  EXPECT_FALSE(ResolveOutputFile(spec, "parts"));  // a folder is not a file
}

TEST(JobOutputsTest, InterpretersRanReadsWhatAgentsWroteAndSkipsTheRest) {
  TempDir logs;
  Write(logs.path() / "sys" / "node" / "node1" / "interpreter.json",
        R"({"node": 1, "version": "3.11.2", "path": "/usr/bin/python3.11"})");
  Write(logs.path() / "sys" / "node" / "node0" / "interpreter.json",
        R"({"node": 0, "version": "3.11.2", "path": "/usr/bin/python3.11", "extra": 1})");
  Write(logs.path() / "sys" / "node" / "node2" / "interpreter.json", R"({"node": 2, "vers)");
  Write(logs.path() / "sys" / "node" / "node3" / "interpreter.json", R"({"node": "x", "version": 3})");
  nlohmann::json ran = InterpretersRan(logs.path());
  // node2's is half written, node3's fields are not of their types: skipped.
  ASSERT_EQ(ran.size(), 2u) << ran.dump();
  EXPECT_EQ(ran[0], nlohmann::json({{"node", 0}, {"version", "3.11.2"}, {"path", "/usr/bin/python3.11"}}));
  EXPECT_EQ(ran[1]["node"], 1);
  EXPECT_EQ(InterpretersRan(logs.path() / "missing"), nlohmann::json::array());
}

}  // namespace
}  // namespace lote::jobs
