// How the CLI shows a job's progress (the `progress` object of GET job,
// src/jobs/job_view.cc): one line for logs and pipes, a bar for terminals,
// and a table row for `job show|list -o table`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace lote::cli {

// "Running: 12/40 mini-batches (30%), 1 failed, 3 running[, 2 canceled, 5 not run]; items 3000
// succeeded, 2 failed; 52.1 items/s; ETA 14s"
std::string ProgressLine(const nlohmann::json& job);

// "[#########...........]  30%  12/40 mini-batches | 3000 ok, 2 failed |
// 52.1 items/s | ETA 14s", at most `width` columns.
std::string ProgressBar(const nlohmann::json& job, int width);

// The scalar columns of a job for -o table: name, status, endpoint,
// deployment, mini-batches done/total, mini-batches failed, canceled and not
// run, items succeeded/failed, rate, ETA,
// created time.
nlohmann::ordered_json JobTableRow(const nlohmann::json& job);

// "14s", "2m05s", "1h02m".
std::string FormatDuration(double seconds);

}  // namespace lote::cli
