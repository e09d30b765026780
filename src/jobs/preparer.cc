#include "jobs/preparer.h"

#include "jobs/job_artifacts.h"

namespace lote::jobs {

Result<PlanResult> PrepareJob(const JobSpec& spec, const JobDir& dir, store::JobStore& store,
                              const storage::UrlPolicy& url_policy, const Work<PlanResult>& work) {
  LOTE_TRY(store.DeleteTasks(spec.name));
  if (spec.input.kind == JobInput::Kind::kUrl) AppendEvent(dir, "downloading " + spec.input.url);
  auto plan = PlanJob(spec.doc, dir.input(), store, url_policy, [&work] { return work.canceled(); });
  if (work.canceled()) return FailedPrecondition("preparation was canceled");
  if (!plan) return plan.error();
  AppendEvent(dir, "planned " + std::to_string(plan->files) + " files (" + std::to_string(plan->bytes) +
                       " bytes) into " + std::to_string(plan->tasks) + " mini-batches");
  if (spec.access.artifacts == AccessMode::kRemote) {
    // Hashed once, here, for every agent of the job (they fetch by hash).
    auto artifacts = HashJobArtifacts(spec.doc.value("runtime", nlohmann::json::object()));
    if (!artifacts) return artifacts.error();
    LOTE_TRY(SaveJobArtifacts(*artifacts, dir.artifacts()));
    size_t files = 0;
    uint64_t bytes = 0;
    for (const auto& t : artifacts->trees()) {
      files += t.files.size();
      bytes += t.bytes();
    }
    AppendEvent(dir, "agents fetch through the control plane (access remote, inputs " +
                         std::string(AccessModeName(spec.access.inputs)) + "): hashed " + std::to_string(files) +
                         " files (" + std::to_string(bytes) + " bytes) of model, code and runner");
  }
  return plan;
}

}  // namespace lote::jobs
