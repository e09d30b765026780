// A structural check that a file is a TorchScript model, without libtorch:
// the server uses it to refuse a wrong file when a deployment is created,
// where loading libtorch (~0.5 s, ~160 MB) to find out would be too costly.
//
// torch.jit.save writes a zip archive whose entries sit under one folder
// named after the file: <name>/constants.pkl, <name>/data.pkl,
// <name>/code/__torch__/…. torch.save writes a zip too, with data.pkl but no
// code/ and no constants.pkl (a state dict or a pickled module); older
// torch.save files and anything else are not zips. Only the zip's central
// directory is read (ZIP64 included), so the check is cheap for a model of
// any size; a TorchScript archive whose contents are corrupt passes, and
// fails when the worker loads it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace lote::native {

// The entry names of a zip file's central directory. InvalidArgument
// ("'<file>' is not a zip archive (…)") when it has none that can be read;
// IoError when the file cannot be read.
Result<std::vector<std::string>> ZipEntryNames(const std::filesystem::path& file);

// OK for a TorchScript archive. Otherwise InvalidArgument naming the file and
// what it is instead ("… was written by torch.save (a state dict or a pickled
// module), not torch.jit.save …"); NotFound when it does not exist.
Status CheckTorchScriptArchive(const std::filesystem::path& file);

}  // namespace lote::native
