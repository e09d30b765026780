// Finding lote's libtorch module, opening it, and the structural check of
// TorchScript archives: none of it needs libtorch.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "../unit/runtime_stub_worker.h"
#include "native/torch_module.h"
#include "native/torchscript_archive.h"

namespace lote::native {
namespace {

namespace fs = std::filesystem;
using lote::testing::TempDir;

void Write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

constexpr const char* kUnavailable =
    "TorchScript models need lote's libtorch module, which this build lacks (";
constexpr const char* kRemedy = "); install Debian's libtorch-dev and rebuild with ./setup.sh";

TEST(TorchModuleTest, TheEnvironmentOverrideIsTheOnlyPlaceLooked) {
  TempDir dir;
  Write(dir.path() / "exe" / kTorchModuleName, "x");
  Write(dir.path() / "mine.so", "x");
  TorchModuleLocations where{
      .override_path = dir.path() / "mine.so", .exe_dir = dir.path() / "exe", .build_path = {}};
  EXPECT_EQ(FindTorchModule(where).value(), dir.path() / "mine.so");

  where.override_path = "/nonexistent";
  auto missing = FindTorchModule(where);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(missing.error().message(),
            std::string(kUnavailable) +
                "LOTE_TORCH_MODULE names '/nonexistent', which does not exist" + kRemedy);
}

TEST(TorchModuleTest, LooksBesideTheExecutableThenAtTheBuildOutput) {
  TempDir dir;
  const fs::path beside = dir.path() / "bin" / kTorchModuleName;
  const fs::path built = dir.path() / "build" / kTorchModuleName;
  Write(built, "x");
  TorchModuleLocations where{
      .override_path = std::nullopt, .exe_dir = dir.path() / "bin", .build_path = built};
  EXPECT_EQ(FindTorchModule(where).value(), built);
  Write(beside, "x");
  EXPECT_EQ(FindTorchModule(where).value(), beside);
}

TEST(TorchModuleTest, UnavailableSaysWhereItLookedAndWhatToDo) {
  TempDir dir;
  TorchModuleLocations where{.override_path = std::nullopt,
                             .exe_dir = dir.path() / "bin",
                             .build_path = dir.path() / "build" / kTorchModuleName};
  auto missing = FindTorchModule(where);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(missing.error().message(),
            std::string(kUnavailable) + "no liblote_torch.so at '" +
                (dir.path() / "bin" / kTorchModuleName).string() + "', '" +
                (dir.path() / "build" / kTorchModuleName).string() + "'" + kRemedy);

  // A build without libtorch has no build output to look at.
  where.build_path.clear();
  EXPECT_EQ(FindTorchModule(where).error().message(),
            std::string(kUnavailable) + "no liblote_torch.so at '" +
                (dir.path() / "bin" / kTorchModuleName).string() + "'" + kRemedy);
}

TEST(TorchModuleTest, OpenRefusesWhatIsNotLotesModule) {
  TempDir dir;
  Write(dir.path() / "junk.so", "not an ELF file");
  auto junk = TorchModule::Open(dir.path() / "junk.so");
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(junk.error().message().starts_with(
      "libtorch module '" + (dir.path() / "junk.so").string() + "' cannot be loaded: "))
      << junk.error().message();

  // A real shared library without the module's functions: the example plugin.
  auto plugin = TorchModule::Open(LOTE_EXAMPLE_PLUGIN_PATH);
  ASSERT_FALSE(plugin);
  EXPECT_EQ(plugin.error().message(), std::string("libtorch module '") + LOTE_EXAMPLE_PLUGIN_PATH +
                                          "' lacks lote_torch_abi_version()");
}

// A zip archive of empty stored entries, laid out as APPNOTE.TXT says; with
// zip64, the end of central directory defers to the ZIP64 records.
std::string MakeZip(const std::vector<std::string>& names, bool zip64 = false) {
  auto le = [](std::string* out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  std::string body, central;
  for (const std::string& name : names) {
    const uint64_t offset = body.size();
    le(&body, 0x04034b50, 4);  // local file header
    le(&body, 20, 2);
    le(&body, 0, 2);
    le(&body, 0, 2);  // stored
    le(&body, 0, 4);  // time, date
    le(&body, 0, 4);  // crc-32 of nothing
    le(&body, 0, 4);
    le(&body, 0, 4);
    le(&body, name.size(), 2);
    le(&body, 0, 2);
    body += name;
    le(&central, 0x02014b50, 4);  // central directory header
    le(&central, 20, 2);
    le(&central, 20, 2);
    le(&central, 0, 2);
    le(&central, 0, 2);
    le(&central, 0, 4);
    le(&central, 0, 4);
    le(&central, 0, 4);
    le(&central, 0, 4);
    le(&central, name.size(), 2);
    le(&central, 0, 2);  // extra
    le(&central, 0, 2);  // comment
    le(&central, 0, 2);  // disk
    le(&central, 0, 2);
    le(&central, 0, 4);
    le(&central, offset, 4);
    central += name;
  }
  std::string out = body + central;
  const uint64_t cd_offset = body.size();
  if (zip64) {
    const uint64_t record = out.size();
    le(&out, 0x06064b50, 4);
    le(&out, 44, 8);  // size of the rest of the record
    le(&out, 45, 2);
    le(&out, 45, 2);
    le(&out, 0, 4);
    le(&out, 0, 4);
    le(&out, names.size(), 8);
    le(&out, names.size(), 8);
    le(&out, central.size(), 8);
    le(&out, cd_offset, 8);
    le(&out, 0x07064b50, 4);  // locator
    le(&out, 0, 4);
    le(&out, record, 8);
    le(&out, 1, 4);
  }
  le(&out, 0x06054b50, 4);
  le(&out, 0, 2);
  le(&out, 0, 2);
  le(&out, zip64 ? 0xffff : names.size(), 2);
  le(&out, zip64 ? 0xffff : names.size(), 2);
  le(&out, zip64 ? 0xffffffff : central.size(), 4);
  le(&out, zip64 ? 0xffffffff : cd_offset, 4);
  le(&out, 0, 2);
  return out;
}

// What torch.jit.save writes for model.pt (torch 1.13).
const std::vector<std::string> kJitEntries = {"model/data/0", "model/data.pkl",
                                              "model/code/__torch__/torch/nn/modules/linear.py",
                                              "model/constants.pkl", "model/version"};

TEST(TorchScriptArchiveTest, ReadsTheCentralDirectory) {
  TempDir dir;
  for (bool zip64 : {false, true}) {
    SCOPED_TRACE(zip64 ? "zip64" : "zip");
    Write(dir.path() / "model.pt", MakeZip(kJitEntries, zip64));
    EXPECT_EQ(ZipEntryNames(dir.path() / "model.pt").value(), kJitEntries);
    EXPECT_TRUE(CheckTorchScriptArchive(dir.path() / "model.pt"));
  }
  // A zip comment after the end record.
  std::string commented = MakeZip(kJitEntries);
  commented[commented.size() - 2] = 5;
  Write(dir.path() / "commented.pt", commented + "hello");
  EXPECT_EQ(ZipEntryNames(dir.path() / "commented.pt").value(), kJitEntries);
}

TEST(TorchScriptArchiveTest, RefusesAFileThatIsNotAZip) {
  TempDir dir;
  for (const std::string& bytes :
       {std::string(), std::string("random bytes, not a model"), std::string(5000, '\x80')}) {
    Write(dir.path() / "model.pt", bytes);
    Status st = CheckTorchScriptArchive(dir.path() / "model.pt");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(st.error().message(), "'" + (dir.path() / "model.pt").string() +
                                        "' is not a TorchScript model: torch.jit.save writes a "
                                        "zip archive, and this file is not one");
  }
  // A zip cut short: its end record points outside the file.
  std::string cut = MakeZip(kJitEntries);
  Write(dir.path() / "cut.pt", cut.substr(cut.size() - 22));
  EXPECT_NE(ZipEntryNames(dir.path() / "cut.pt").error().message().find("is not a zip archive"),
            std::string::npos);
}

TEST(TorchScriptArchiveTest, RefusesATorchSaveArchive) {
  TempDir dir;
  Write(dir.path() / "state.pt",
        MakeZip({"state/data.pkl", "state/data/0", "state/data/1", "state/version"}));
  Status st = CheckTorchScriptArchive(dir.path() / "state.pt");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            "'" + (dir.path() / "state.pt").string() +
                "' is not a TorchScript model: it was written by torch.save (a state dict or a "
                "pickled module), not torch.jit.save; save it with "
                "torch.jit.save(torch.jit.script(model), path)");
}

TEST(TorchScriptArchiveTest, RefusesAnyOtherZipAndAMissingFile) {
  TempDir dir;
  // constants.pkl and code/ must be in the same folder.
  Write(dir.path() / "other.pt", MakeZip({"a/constants.pkl", "b/code/x.py", "readme.txt"}));
  Status st = CheckTorchScriptArchive(dir.path() / "other.pt");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "'" + (dir.path() / "other.pt").string() +
                                      "' is not a TorchScript model: a zip archive without the "
                                      "code/ and constants.pkl entries torch.jit.save writes");
  Status missing = CheckTorchScriptArchive(dir.path() / "none.pt");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message(),
            "TorchScript model '" + (dir.path() / "none.pt").string() + "' does not exist");
}

}  // namespace
}  // namespace lote::native
