// What every command's --help ends with: its Examples, the global options
// and the environment the CLI reads (docs/cli.md), and `lote completion`.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace lote::cli {

// Sets the footer of `app` and of every command under it. Call after every
// command is added.
void AddHelpFooters(CLI::App& app);

// `lote completion bash|zsh`: prints a completion script generated from the
// command tree of `root`.
void AddCompletionCommand(CLI::App& root);

// The script itself (exposed for tests).
std::string CompletionScript(CLI::App& root, const std::string& shell);

}  // namespace lote::cli
