// What users see of a job (REST, `lote job show`, the progress files): its
// spec without the internals, its state and its progress.
#pragma once

#include <nlohmann/json.hpp>

#include "store/job_store.h"

namespace lote::jobs {

// now_ms: for the elapsed time and throughput of a job still running.
nlohmann::json JobView(const store::JobRecord& job, int64_t now_ms);

}  // namespace lote::jobs
