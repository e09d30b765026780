/*
 * lote native plugin ABI (version 1): score batch-endpoint mini-batches in C
 * or C++.
 *
 * A plugin is a shared library that `lote worker` (the native worker,
 * docs/worker-protocol.md) loads when its init options are
 *   {"kind": "plugin", "library": "/abs/path/libx.so", "plugin_options": {...}}
 * (a deployment's `code_configuration.native_library`, relative to its code
 * folder). The worker speaks the protocol to the agent; the plugin only
 * scores. It exports, with C linkage, the six functions declared below.
 *
 * Versioning. LOTE_PLUGIN_ABI_VERSION changes whenever any declaration in
 * this file changes incompatibly. The host calls lote_plugin_abi_version()
 * first, before looking up any other symbol, and refuses (init_failed) a
 * plugin built with another version, naming both versions. There is no
 * partial compatibility: rebuild the plugin against the host's header.
 *
 * Lifecycle, per worker process:
 *
 *   lote_plugin_abi_version()                  any time, any number of times
 *   state = lote_plugin_init(model_dir, ...)   exactly once; NULL: init failed
 *   lote_plugin_run(state, batch, out)         zero or more times, one at a time
 *   lote_plugin_shutdown(state)                at most once; no call follows
 *
 * - lote_plugin_init is called once per process, before any run; a NULL
 *   return ends the worker (init_failed with the message; shutdown is not
 *   called).
 * - lote_plugin_run is never called concurrently: one mini-batch at a time
 *   per process (the agent runs several worker processes for parallelism). The
 *   calls may come from any thread of the host, never two at once. A plugin
 *   may use threads of its own inside a call, but must have stopped calling
 *   the lote_results callbacks when lote_plugin_run returns.
 * - lote_plugin_shutdown is called when the agent asks the worker to exit
 *   (or is gone); the host then unloads the library (dlclose), so shutdown
 *   must stop any threads the plugin started. It is NOT called when the
 *   worker is killed: the agent kills the worker's whole process group
 *   (SIGKILL) when a mini-batch runs past retry_settings.timeout, and the
 *   worker gets SIGTERM when its agent dies. Never rely on shutdown to make
 *   results durable: results only count once lote_plugin_run has returned
 *   them.
 * - A crash in the plugin (or an exit()) ends the worker: the mini-batch
 *   attempt fails and is retried (up to retry_settings.max_retries) on a
 *   fresh worker, which loads the plugin anew. A failed run (non-zero
 *   return) fails that attempt only: the worker and its state live on, and
 *   the mini-batch is retried, possibly by this same process.
 *
 * Process environment. The worker's stdout and stderr go to the user's logs:
 * print there freely. The protocol pipes belong to the host: never read,
 * write or close the descriptors named by LOTE_PROTOCOL_IN_FD and
 * LOTE_PROTOCOL_OUT_FD. Do not block or delay SIGTERM: it is how the worker
 * ends when its agent dies.
 *
 * Memory ownership.
 * - Every pointer the host passes (model_dir, options_json, batch and all it
 *   points to, out) is owned by the host and valid only during the call: copy
 *   what you keep.
 * - The error message of lote_plugin_init is allocated by the plugin with
 *   malloc (or strdup) and freed by the host with free().
 * - The string lote_plugin_last_error returns is owned by the plugin and must
 *   stay valid until the next call into the plugin with that state.
 * - Strings and rows given to the lote_results callbacks are copied by the
 *   host before the callback returns.
 *
 * C++ plugins must not let exceptions escape any of these functions (catch
 * them and return an error), and must declare them extern "C".
 */
#ifndef LOTE_PLUGIN_H_
#define LOTE_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LOTE_PLUGIN_ABI_VERSION 1

/* Put before each of the six functions' definitions so that they stay
 * exported when the plugin is built with -fvisibility=hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define LOTE_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define LOTE_PLUGIN_EXPORT
#endif

/* lote_item.length of a whole-file item: read from offset (0) to the end. */
#define LOTE_ITEM_WHOLE_FILE UINT64_MAX

/* One input of a mini-batch: a whole file, or a record-aligned byte range of a
 * large text file (mini_batch_size given in bytes, e.g. "64MB"). */
typedef struct lote_item {
  const char* path;   /* absolute path of the file, NUL-terminated: the bytes
                         the file system names it by (UTF-8, except for a
                         name that is not), ready for fopen() */
  uint64_t offset;    /* first byte of the range; 0 for a whole file */
  uint64_t length;    /* bytes in the range; LOTE_ITEM_WHOLE_FILE for a whole
                         file, whose first line is then its CSV header */
  const char* header; /* a CSV/TSV range's header record (the file's first
                         record, without its line end or a UTF-8 byte order
                         mark; it may hold quoted line ends), which the
                         range does not contain; NULL for whole files and
                         plain-line ranges. A range holds whole RFC 4180
                         records: it never ends inside a quoted field */
} lote_item;

typedef struct lote_mini_batch {
  const lote_item* items;
  size_t count;
} lote_mini_batch;

/* How a run hands its results to the host. Call the callbacks only during
 * lote_plugin_run, on one thread at a time, always passing `host` as the
 * first argument. They do not fail: the host records a misuse (a row without
 * its '\n', an item index out of range) and fails the mini-batch attempt with
 * a message naming it, as if lote_plugin_run had returned non-zero. */
typedef struct lote_results {
  void* host;

  /* Appends `len` bytes of output: one or more complete rows, each ending in
   * '\n' (so len > 0 and row[len - 1] == '\n'). Rows are written to the job's
   * output in the order appended; a row may hold any bytes but must be one
   * line of the output file. */
  void (*append_row)(void* host, const char* row, size_t len);

  /* Declares that this run's rows are CSV with this header line (without
   * '\n'). Applies to the current run only: call it in every run whose rows
   * are CSV; a run that does not call it (or passes NULL) produces plain
   * lines. The last call in a run wins. */
  void (*set_header)(void* host, const char* header);

  /* Reports that items[item_index] failed (cannot be read, malformed, ...),
   * with a message for the user (NULL: none given). The item's rows should
   * not be appended. May be called more than once for one item (one message
   * per call); the item still counts once in the default counts. */
  void (*item_failed)(void* host, size_t item_index, const char* error);

  /* Adds to the mini-batch's counts of successes and failures (items, or rows
   * for a plugin that counts rows, as lote's tabular scorer does). If a run
   * never calls it, the host counts items: failed = the items reported
   * through item_failed, succeeded = the others. */
  void (*count)(void* host, int64_t succeeded, int64_t failed);
} lote_results;

/* Returns LOTE_PLUGIN_ABI_VERSION as the plugin was compiled with. */
int lote_plugin_abi_version(void);

/* Loads the model, once per worker process. model_dir is the deployment's
 * model folder (or file); options_json is the deployment's plugin options as
 * a JSON object ("{}" when none). Returns an opaque state passed to every
 * later call, or NULL after setting *error to a malloc'ed message (the host
 * frees it; leaving *error NULL gives a generic message). */
void* lote_plugin_init(const char* model_dir, const char* options_json, char** error);

/* Scores one mini-batch, reporting rows, item failures and counts through
 * `out`. Returns 0 on success (item failures included). A non-zero return
 * fails the whole mini-batch attempt, discarding what this run reported; the
 * host reports lote_plugin_last_error(state) and the job retries the
 * mini-batch up to retry_settings.max_retries. An empty mini-batch (count 0)
 * is possible. */
int lote_plugin_run(void* state, const lote_mini_batch* batch, lote_results* out);

/* The message for the last non-zero lote_plugin_run, owned by the plugin,
 * valid until the next call with this state. NULL or "" gives a generic
 * message naming the return code. */
const char* lote_plugin_last_error(void* state);

/* Releases the state. Called at most once, when the worker exits normally;
 * nothing is called with the state afterwards. */
void lote_plugin_shutdown(void* state);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LOTE_PLUGIN_H_ */
