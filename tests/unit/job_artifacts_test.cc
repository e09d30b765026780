// The control plane's side of remote artifacts (jobs/job_artifacts.h):
// folders hashed beneath themselves, the runner's folder filtered, blobs
// found only by the hashes a job's manifest lists.
#include "jobs/job_artifacts.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/crypto.h"
#include "common/util.h"

namespace lote::jobs {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void Write(const fs::path& p, std::string_view text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

class JobArtifactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("lote-job-artifacts-" + RandomHex(6));
    Write(base_ / "model" / "MLmodel", "flavors: {}\n");
    Write(base_ / "model" / "data" / "weights.bin", "0123456789");
    Write(base_ / "code" / "score.py", "def run(b): return b\n");
    Write(base_ / "code" / "bin" / "tool.sh", "#!/bin/sh\n");
    ::chmod((base_ / "code" / "bin" / "tool.sh").c_str(), 0755);
    Write(base_ / "python" / "lote_runner.py", "# runner\n");
    Write(base_ / "python" / "lote_drivers" / "__init__.py", "");
    Write(base_ / "python" / "lote_drivers" / "tabular.py", "# driver\n");
    Write(base_ / "python" / "lote_drivers" / "__pycache__" / "tabular.cpython-311.pyc", "cache");
    Write(base_ / "python" / "README.md", "not shipped");
    Write(base_ / "secret", "SECRET");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  json Runtime() const {
    return {{"kind", "python"},
            {"model_dir", (base_ / "model").string()},
            {"code_dir", (base_ / "code").string()},
            {"runner", (base_ / "python" / "lote_runner.py").string()}};
  }
  fs::path base_;
};

std::vector<std::string> Paths(const artifacts::Tree& t) {
  std::vector<std::string> out;
  for (const auto& f : t.files) out.push_back(f.path);
  return out;
}

TEST_F(JobArtifactsTest, HashesTheModelCodeAndRunnerTrees) {
  auto a = HashJobArtifacts(Runtime());
  ASSERT_TRUE(a) << a.error().message();
  ASSERT_EQ(a->trees().size(), 3u);
  const artifacts::Tree* model = a->Find("model");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(Paths(*model), (std::vector<std::string>{"MLmodel", "data/weights.bin"}));
  EXPECT_EQ(model->files[1].sha256, Sha256Hex("0123456789"));
  EXPECT_EQ(model->files[1].size, 10u);
  EXPECT_EQ(model->sha256, artifacts::TreeDigest(model->files));

  const artifacts::Tree* code = a->Find("code");
  ASSERT_NE(code, nullptr);
  EXPECT_EQ(Paths(*code), (std::vector<std::string>{"bin/tool.sh", "score.py"}));
  EXPECT_TRUE(code->files[0].executable);
  EXPECT_FALSE(code->files[1].executable);

  // Only the runner's Python files, no caches, and the runner to run.
  const artifacts::Tree* runner = a->Find("runner");
  ASSERT_NE(runner, nullptr);
  EXPECT_EQ(Paths(*runner),
            (std::vector<std::string>{"lote_drivers/__init__.py", "lote_drivers/tabular.py",
                                      "lote_runner.py"}));
  EXPECT_EQ(runner->entry, "lote_runner.py");
}

TEST_F(JobArtifactsTest, BlobsAreFoundOnlyByTheHashesOfTheManifest) {
  auto a = HashJobArtifacts(Runtime());
  ASSERT_TRUE(a) << a.error().message();
  auto blob = a->FindBlob(Sha256Hex("def run(b): return b\n"));
  ASSERT_TRUE(blob);
  EXPECT_EQ(blob->root, (base_ / "code").string());
  EXPECT_EQ(blob->path, "score.py");
  EXPECT_FALSE(a->FindBlob(Sha256Hex("SECRET")));
  EXPECT_FALSE(a->FindBlob(Sha256Hex("cache")));

  // The manifest agents get names no folder of this host.
  EXPECT_EQ(a->ManifestJson().dump().find(base_.string()), std::string::npos);

  // Saved with the job and read back alike.
  const fs::path file = base_ / "artifacts.json";
  ASSERT_TRUE(SaveJobArtifacts(*a, file));
  auto back = LoadJobArtifacts(file);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->ManifestJson(), a->ManifestJson());
  EXPECT_TRUE(back->FindBlob(Sha256Hex("0123456789")));
  EXPECT_EQ(LoadJobArtifacts(base_ / "none.json").error().code(), ErrorCode::kNotFound);
}

TEST_F(JobArtifactsTest, LinksAreFollowedOnlyWhileTheyStayInside) {
  fs::create_symlink("data/weights.bin", base_ / "model" / "alias.bin");
  auto inside = HashFolder(base_ / "model", "model", nullptr, {});
  ASSERT_TRUE(inside) << inside.error().message();
  EXPECT_EQ(Paths(*inside), (std::vector<std::string>{"MLmodel", "alias.bin", "data/weights.bin"}));

  fs::create_symlink(base_ / "secret", base_ / "model" / "leak");
  auto out = HashFolder(base_ / "model", "model", nullptr, {});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(out.error().message().find("leak"), std::string::npos) << out.error().message();
}

TEST_F(JobArtifactsTest, TreesOverTheLimitsAreRefused) {
  auto many = HashFolder(base_ / "model", "model", nullptr, {.max_files = 1, .max_bytes = 1 << 20});
  ASSERT_FALSE(many);
  EXPECT_NE(many.error().message().find("over 1 files"), std::string::npos)
      << many.error().message();
  auto big = HashFolder(base_ / "model", "model", nullptr, {.max_files = 10, .max_bytes = 5});
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message().find("over 5 bytes"), std::string::npos) << big.error().message();
}

TEST_F(JobArtifactsTest, AJobWithoutCodeOrRunnerHasOnlyItsModel) {
  json runtime = {
      {"kind", "native"}, {"model_dir", (base_ / "model").string()}, {"code_dir", nullptr}};
  auto a = HashJobArtifacts(runtime);
  ASSERT_TRUE(a) << a.error().message();
  ASSERT_EQ(a->trees().size(), 1u);
  EXPECT_EQ(a->trees()[0].name, "model");
  EXPECT_EQ(a->Find("code"), nullptr);
  auto missing = HashJobArtifacts(json{{"model_dir", (base_ / "nope").string()}});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("hashing the model"), std::string::npos)
      << missing.error().message();
}

}  // namespace
}  // namespace lote::jobs
