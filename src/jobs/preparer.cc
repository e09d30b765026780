#include "jobs/preparer.h"

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
  return plan;
}

}  // namespace lote::jobs
