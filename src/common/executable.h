// Finding a program on PATH before fork(): execvp() is not
// async-signal-safe, so a child of a threaded process must exec a full path.
#pragma once

#include <string>

#include "common/status.h"

namespace lote {

// `name` itself when it holds a '/'; else the first executable regular file
// `<dir>/<name>` of the ':'-separated `path_var` (an empty dir is '.').
// NotFound with strerror(ENOENT or EACCES) when there is none.
Result<std::string> FindExecutable(const std::string& name, const std::string& path_var);

}  // namespace lote
