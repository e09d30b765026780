// The input items of a mini-batch leased with remote input access
// (docs/agent-api.md): the control plane names each item only by its file's
// base name ({"name"(, "name_b64"), "offset"?, "length"?, "header"?}) and
// serves its bytes; the agent fetches them into a scratch folder before the
// worker runs and removes them after.
//
// What the worker gets keeps the file's base name, so scripts and the
// output's file column see what they would see with direct access:
//   a whole file       -> {"path": "<dir>/a.csv"}
//   a byte range       -> {"path", "offset", "length", "header"}: the range's
//                         bytes at the same offset of a sparse file (row keys
//                         and messages keep their byte offsets)
//   a Parquet row-group item with "file_size" and "spans"
//                      -> {"path", "row_group", "row_groups"}: only the spans
//                         (the row groups' column chunks and the footer) at
//                         their offsets of a sparse file of file_size bytes;
//                         without spans (planned by an older version), the
//                         whole file
//   a byte range, for a worker that takes whole files (score.py)
//                      -> {"path": "<dir>/a@1000.csv"}: a chunk file, the
//                         header line then the range (agent/range_items.h)
// Two items of one mini-batch with the same name go to sub-folders ("1/").
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <nlohmann/json.hpp>
#include <vector>

#include "agent/download_sink.h"
#include "common/status.h"

namespace lote::agent {

// Fetches the bytes of item `index` (of its span `span`, when given) into sink.
using ItemFetch = std::function<Status(size_t index, std::optional<size_t> span, DownloadSink& sink)>;

// Fetches every item into dir (created), listing each file made in
// *created, also when an error comes back, so the caller removes them.
// Errors name the item (its index and name): the mini-batch fails with
// RUN_INPUT_ERROR.
Result<nlohmann::json> FetchItems(const nlohmann::json& items, const std::filesystem::path& dir,
                                  bool whole_files, const ItemFetch& fetch,
                                  std::vector<std::filesystem::path>* created);

// "'a.csv'" (bytes 0+100 for a range item): how errors name a remote item.
std::string DescribeRemoteItem(const nlohmann::json& item);

}  // namespace lote::agent
