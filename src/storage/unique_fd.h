// storage's name for lote's owned file descriptor (common/unique_fd.h).
#pragma once

#include "common/unique_fd.h"

namespace lote::storage {
using UniqueFd = lote::UniqueFd;
}  // namespace lote::storage
