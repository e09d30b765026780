#include "parquet/codec.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <memory>

#include "parquet/fmt.h"
#include "parquet/metadata.h"

namespace lote::parquet {

namespace {

Status Snappy(std::string_view in, char* out, size_t out_size) {
  size_t length = 0;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &length)) {
    return InvalidArgument("SNAPPY data does not decompress (bad length header)");
  }
  if (length != out_size) {
    return InvalidArgument(
        Fmt("SNAPPY data decompresses to {} bytes, the page header says {}", length, out_size));
  }
  if (!snappy::RawUncompress(in.data(), in.size(), out))
    return InvalidArgument("SNAPPY data does not decompress");
  return {};
}

// One decompression context per thread, kept: ZSTD_decompress would create
// and free one (about 100 KB) for every page.
struct ZstdContextFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};
thread_local std::unique_ptr<ZSTD_DCtx, ZstdContextFree> t_zstd;

Status Zstd(std::string_view in, char* out, size_t out_size) {
  if (!t_zstd) {
    t_zstd.reset(ZSTD_createDCtx());
    if (!t_zstd) return Internal("ZSTD: cannot create a decompression context");
  }
  // A context starts each frame afresh; a failed frame leaves nothing behind.
  size_t n = ZSTD_decompressDCtx(t_zstd.get(), out, out_size, in.data(), in.size());
  if (ZSTD_isError(n))
    return InvalidArgument(Fmt("ZSTD data does not decompress: {}", ZSTD_getErrorName(n)));
  if (n != out_size) {
    return InvalidArgument(
        Fmt("ZSTD data decompresses to {} bytes, the page header says {}", n, out_size));
  }
  return {};
}

Status Gzip(std::string_view in, char* out, size_t out_size) {
  z_stream z{};
  // 15 + 32: a zlib or gzip header, detected automatically.
  if (inflateInit2(&z, 15 + 32) != Z_OK) return Internal("zlib: inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out);
  z.avail_out = static_cast<uInt>(out_size);
  int rc = inflate(&z, Z_FINISH);
  size_t produced = out_size - z.avail_out;
  std::string msg = z.msg ? z.msg : "";
  inflateEnd(&z);
  if (rc == Z_STREAM_END && produced == out_size) return {};
  if (rc == Z_STREAM_END || rc == Z_BUF_ERROR) {
    return InvalidArgument(Fmt("GZIP data {} the {} bytes the page header says",
                               rc == Z_STREAM_END ? "ends before" : "decompresses past", out_size));
  }
  return InvalidArgument(
      Fmt("GZIP data does not decompress: {}", msg.empty() ? std::to_string(rc) : msg));
}

}  // namespace

Status Decompress(int32_t codec, std::string_view in, char* out, size_t out_size) {
  // zlib counts in uInt; pages are bounded far below that (column_reader.cc).
  if (in.size() > UINT32_MAX || out_size > UINT32_MAX)
    return InvalidArgument("page larger than 4 GiB");
  switch (static_cast<Codec>(codec)) {
    case Codec::kUncompressed:
      if (in.size() != out_size) {
        return InvalidArgument(
            Fmt("uncompressed page of {} bytes, the page header says {}", in.size(), out_size));
      }
      if (out_size) std::memcpy(out, in.data(), out_size);
      return {};
    case Codec::kSnappy: return Snappy(in, out, out_size);
    case Codec::kZstd: return Zstd(in, out, out_size);
    case Codec::kGzip: return Gzip(in, out, out_size);
    default:
      return InvalidArgument(
          Fmt("compression {} is not supported (UNCOMPRESSED, SNAPPY, GZIP, ZSTD are)",
              CodecName(codec)));
  }
}

}  // namespace lote::parquet
