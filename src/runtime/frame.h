// The worker protocol's framing (docs/worker-protocol.md, version 1).
//
// A frame is a 4-byte big-endian length n, then n bytes of UTF-8 JSON (an
// object with a string "type"); when the JSON has "payload_bytes": k, exactly
// k raw bytes follow (output rows, never escaped into JSON). The JSON part is
// at most 64 MiB.
//
// Both functions work on blocking and non-blocking descriptors; the timeout is
// exact only for non-blocking ones (a blocking write may wait for the reader
// once poll() said there was room). A timeout or error in the middle of a
// frame leaves the stream unusable: the caller drops the worker.
//
// Errors: a timeout is ErrorCode::kUnavailable "timed out" (IsTimeout());
// end of file or a closed reader is kIo "worker closed the protocol pipe"
// (IsClosed()); a malformed frame is kInvalidArgument "protocol error: …";
// other I/O failures are kIo with the system's reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::runtime {

inline constexpr int kProtocolVersion = 1;
inline constexpr size_t kMaxFrameJsonBytes = size_t{64} << 20;
// The payload has no limit in the protocol; this bound only stops a corrupt
// payload_bytes from making the agent wait for (and buffer) absurd amounts.
inline constexpr uint64_t kMaxFramePayloadBytes = uint64_t{16} << 30;

struct Frame {
  nlohmann::json msg;   // always an object with a string "type"
  std::string payload;  // the payload_bytes raw bytes; empty when none
};

// Writes msg (with "payload_bytes" set when payload is non-empty, removed
// otherwise) and the payload. timeout_ms < 0 waits forever. A write to a pipe
// whose reader is gone fails with IsClosed() and does not raise SIGPIPE. A
// message that is not an object, or whose JSON is over kMaxFrameJsonBytes, is
// refused before any byte is written (IsRefusedMessage()): the stream stays
// usable.
Status WriteFrame(int fd, const nlohmann::json& msg, std::string_view payload = {},
                  int timeout_ms = -1);

// Reads one whole frame within timeout_ms (a deadline across every partial
// read; < 0 waits forever).
Result<Frame> ReadFrame(int fd, int timeout_ms);

bool IsTimeout(const Error& error);
bool IsClosed(const Error& error);
// A WriteFrame error that wrote nothing (a message too large, or not an
// object): the stream is still usable.
bool IsRefusedMessage(const Error& error);

// Bounds on the texts a message carries, so that no input (a 200 MB line
// quoted in an error, a million bad rows) can make a result or a failure
// larger than a frame: an error text, a traceback, and the item_errors of one
// result.
inline constexpr size_t kMaxErrorTextBytes = size_t{16} << 10;
inline constexpr size_t kMaxTracebackBytes = size_t{64} << 10;
inline constexpr size_t kMaxItemErrors = 1000;
// How many of a result's item errors an agent reports to the control plane
// (the last one may say how many more there were); the rest stay in the
// agent's error log.
inline constexpr size_t kMaxReportedItemErrors = 100;

// s cut to at most max bytes at a UTF-8 character boundary, with
// " … (N more bytes)" appended when cut (the result may exceed max by that
// note).
std::string TruncateText(std::string_view s, size_t max);

// Applies the bounds above to a result or run_failed message in place:
// "error" and "traceback" are truncated, and so is each item error's; item
// errors past kMaxItemErrors are dropped, and one more says how many.
void BoundMessageTexts(nlohmann::json& msg);

}  // namespace lote::runtime
