#include "agent/remote_run.h"

#include <optional>
#include <vector>

#include "artifacts/manifest.h"
#include "common/util.h"

namespace lote::agent {

namespace fs = std::filesystem;

Result<RemoteRun> OpenRemoteRun(const fs::path& cache_dir, const std::string& job, int node) {
  LOTE_ASSIGN_OR_RETURN(ArtifactCache cache,
                        ArtifactCache::Open(cache_dir.empty() ? DefaultCacheDir() : cache_dir));
  LOTE_ASSIGN_OR_RETURN(fs::path dir, cache.MakeRunDir(job + "-node" + std::to_string(node)));
  RemoteRun run{std::move(cache), std::move(dir)};
  for (const fs::path& sub : {run.logs(), run.scratch(), run.output()}) {
    std::error_code ec;
    fs::create_directories(sub, ec);
    if (ec) return IoError("cannot create '" + sub.string() + "': " + ec.message());
  }
  return run;
}

Status FetchArtifacts(ControlPlaneClient& client, const ArtifactCache& cache, AgentConfig& config,
                      SysLog& log) {
  struct Want {
    const char* name;
    const std::optional<TreeRef>* ref;
    fs::path dir;
  };
  std::vector<Want> wants = {{artifacts::kModelTree, &config.model_tree, {}},
                             {artifacts::kCodeTree, &config.code_tree, {}},
                             {artifacts::kRunnerTree, &config.runner_tree, {}}};
  std::optional<std::vector<artifacts::Tree>> manifest;  // asked for once, when a tree is missing
  for (Want& w : wants) {
    if (!*w.ref) continue;
    const TreeRef& ref = **w.ref;
    if (auto dir = cache.FindTree(ref.sha256)) {
      log.Info("the " + std::string(w.name) + " (sha256 " + ref.sha256.substr(0, 12) +
               ") is in the node cache");
      w.dir = *dir;
      continue;
    }
    if (!manifest) {
      LOTE_ASSIGN_OR_RETURN(nlohmann::json body, client.GetArtifacts());
      auto parsed = artifacts::ManifestFromJson(body, artifacts::Limits{});
      if (!parsed) {
        const Error& e = parsed.error();
        return Error(e.code(), "the artifact manifest: " +
                                   (e.field().empty() ? "" : e.field() + ": ") + e.message());
      }
      manifest = std::move(*parsed);
    }
    const artifacts::Tree* tree = nullptr;
    for (const auto& t : *manifest) {
      if (t.name == w.name) tree = &t;
    }
    if (tree == nullptr)
      return InvalidArgument(std::string("the artifact manifest has no ") + w.name);
    log.Info("fetching the " + std::string(w.name) + ": " + std::to_string(tree->files.size()) +
             " files, " + std::to_string(tree->bytes()) + " bytes");
    auto dir = cache.Materialize(*tree, ref.sha256,
                                 [&client](const artifacts::FileEntry& f, DownloadSink& sink) {
                                   return client.DownloadBlob(f.sha256, sink);
                                 });
    if (!dir) return dir.error();
    w.dir = *dir;
  }
  config.model_dir = wants[0].dir.string();
  if (config.code_tree)
    config.code_dir = wants[1].dir.string();
  else
    config.code_dir.reset();
  if (config.runner_tree) config.runner = (wants[2].dir / config.runner_tree->entry).string();
  return {};
}

}  // namespace lote::agent
