#include "common/home.h"

#include <cstdlib>

namespace lote {

std::filesystem::path DefaultHomeDir() {
  if (const char* h = std::getenv("LOTE_HOME"); h && *h) return h;
  if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".lote";
  return ".lote";
}

}  // namespace lote
