// Every `lote … delete` asks first (issue 9): without --yes, on a terminal
// the question goes to stderr and one line is read from stdin ("y" or "yes",
// any case, deletes; anything else, or end of input, does not); when stdin
// is not a terminal, the command refuses rather than guess, so a script must
// say --yes.
#pragma once

#include <istream>
#include <ostream>
#include <string>

#include "common/status.h"

namespace lote::cli {

struct ConfirmIo {
  std::istream* in;
  std::ostream* err;
  bool interactive;  // stdin is a terminal
};

// The process's stdin/stderr; interactive when isatty(0).
ConfirmIo TerminalIo();

// OK to go on when `yes`, or when the user answered yes to `question`
// ("Delete endpoint 'x' and its deployments?"). Otherwise InvalidArgument
// (not a terminal: pass --yes) or FailedPrecondition (the user said no);
// `what` ("endpoint 'x'") names the thing in the message.
Status ConfirmDelete(bool yes, const std::string& question, const std::string& what, const ConfirmIo& io);

}  // namespace lote::cli
