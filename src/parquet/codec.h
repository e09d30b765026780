// Page decompression: UNCOMPRESSED, SNAPPY (libsnappy), GZIP (zlib) and ZSTD
// (libzstd). The output must come to exactly the size the page header
// states; anything else (a corrupt stream, a size that lies) is an
// InvalidArgument error saying which codec failed and how.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace lote::parquet {

// Decompresses `in` with `codec` into out[0, out_size).
Status Decompress(int32_t codec, std::string_view in, char* out, size_t out_size);

}  // namespace lote::parquet
