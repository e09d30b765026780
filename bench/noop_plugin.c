/*
 * A no-op lote plugin (include/lote/plugin.h) for bench/run's dispatch
 * benchmark: it reads nothing and answers one short row per item (the item's
 * base name), so a job's time is lote's dispatch overhead alone.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include <lote/plugin.h>
#include <stdlib.h>
#include <string.h>

typedef struct noop_state {
  char last_error[1];
} noop_state;

LOTE_PLUGIN_EXPORT int lote_plugin_abi_version(void) {
  return LOTE_PLUGIN_ABI_VERSION;
}

LOTE_PLUGIN_EXPORT void* lote_plugin_init(const char* model_dir, const char* options_json,
                                          char** error) {
  (void)model_dir;
  (void)options_json;
  noop_state* state = calloc(1, sizeof *state);
  if (state == NULL) *error = strdup("noop: out of memory");
  return state;
}

LOTE_PLUGIN_EXPORT int lote_plugin_run(void* state, const lote_mini_batch* batch,
                                       lote_results* out) {
  (void)state;
  for (size_t i = 0; i < batch->count; ++i) {
    const char* path = batch->items[i].path;
    const char* slash = strrchr(path, '/');
    const char* name = slash != NULL ? slash + 1 : path;
    size_t n = strlen(name);
    char row[256];
    if (n > sizeof row - 1) n = sizeof row - 1;
    memcpy(row, name, n);
    row[n] = '\n';
    out->append_row(out->host, row, n + 1);
  }
  return 0;
}

LOTE_PLUGIN_EXPORT const char* lote_plugin_last_error(void* state) {
  return ((noop_state*)state)->last_error;
}

LOTE_PLUGIN_EXPORT void lote_plugin_shutdown(void* state) {
  free(state);
}
