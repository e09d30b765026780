#include "cli/confirm.h"

#include <unistd.h>

#include <iostream>

#include "common/util.h"

namespace lote::cli {

ConfirmIo TerminalIo() { return ConfirmIo{&std::cin, &std::cerr, ::isatty(STDIN_FILENO) == 1}; }

Status ConfirmDelete(bool yes, const std::string& question, const std::string& what, const ConfirmIo& io) {
  if (yes) return {};
  if (!io.interactive) {
    return InvalidArgument("not deleting " + what + " without confirmation: stdin is not a terminal; pass --yes",
                           "--yes");
  }
  *io.err << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(*io.in, answer)) answer.clear();
  std::string a = ToLower(answer);
  while (!a.empty() && (a.back() == ' ' || a.back() == '\r' || a.back() == '\t')) a.pop_back();
  while (!a.empty() && (a.front() == ' ' || a.front() == '\t')) a.erase(a.begin());
  if (a == "y" || a == "yes") return {};
  return FailedPrecondition(what + " not deleted (not confirmed)");
}

}  // namespace lote::cli
