/*
 * Not an example: a plugin for tests/unit/native_plugin_test.cc, which
 * misbehaves on request to exercise the host's side of include/lote/plugin.h.
 *
 * Built three times (examples/plugin/CMakeLists.txt):
 *   lote_test_plugin          the whole ABI
 *   lote_test_plugin_abi2     -DTEST_PLUGIN_ABI=2: reports another ABI version
 *   lote_test_plugin_no_run   -DTEST_PLUGIN_OMIT_RUN: lacks lote_plugin_run
 *
 * Behaviour, chosen by words in the plugin options' JSON text (compact, as
 * the host writes it):
 *   "fail_init"           init fails with a message
 *   "fail_run"            run returns 3 with a message
 *   "fail_run_silently"   run returns 4 and last_error gives ""
 *   "no_newline"          run appends a row without its '\n'
 *   "bad_index"           run reports item_failed for an index past the end
 *   "shutdown_marker":"P" shutdown creates the file P
 * Otherwise run writes, per item, the plain line
 *   <path>|<offset>|<length or "whole">|<header or "(null)">
 * fails the items whose path ends in ".bad" (without a line), and never calls
 * count or set_header, so the host's default counts apply.
 */
#define _POSIX_C_SOURCE 200809L

#include <lote/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TEST_PLUGIN_ABI
#define TEST_PLUGIN_ABI LOTE_PLUGIN_ABI_VERSION
#endif

typedef struct test_state {
  char* options;
  char last_error[256];
} test_state;

#ifndef TEST_PLUGIN_OMIT_RUN
static int has(const test_state* st, const char* word) {
  char quoted[64];
  snprintf(quoted, sizeof quoted, "\"%s\"", word);
  return strstr(st->options, quoted) != NULL;
}
#endif

LOTE_PLUGIN_EXPORT int lote_plugin_abi_version(void) {
  return TEST_PLUGIN_ABI;
}

LOTE_PLUGIN_EXPORT void* lote_plugin_init(const char* model_dir, const char* options_json,
                                          char** error) {
  (void)model_dir;
  if (strstr(options_json, "\"fail_init\"") != NULL) {
    *error = strdup("test plugin: asked to fail init");
    return NULL;
  }
  test_state* st = calloc(1, sizeof *st);
  st->options = strdup(options_json);
  return st;
}

#ifndef TEST_PLUGIN_OMIT_RUN
LOTE_PLUGIN_EXPORT int lote_plugin_run(void* state, const lote_mini_batch* batch,
                                       lote_results* out) {
  test_state* st = state;
  if (has(st, "fail_run")) {
    snprintf(st->last_error, sizeof st->last_error, "test plugin: asked to fail %zu items",
             batch->count);
    return 3;
  }
  if (has(st, "fail_run_silently")) {
    st->last_error[0] = '\0';
    return 4;
  }
  if (has(st, "no_newline")) {
    out->append_row(out->host, "x", 1);
    return 0;
  }
  if (has(st, "bad_index")) {
    out->item_failed(out->host, batch->count + 5, "out of range");
    return 0;
  }
  for (size_t i = 0; i < batch->count; ++i) {
    const lote_item* it = &batch->items[i];
    size_t n = strlen(it->path);
    if (n >= 4 && strcmp(it->path + n - 4, ".bad") == 0) {
      out->item_failed(out->host, i, "test plugin: a .bad file");
      continue;
    }
    char length[32];
    if (it->length == LOTE_ITEM_WHOLE_FILE) {
      snprintf(length, sizeof length, "whole");
    } else {
      snprintf(length, sizeof length, "%llu", (unsigned long long)it->length);
    }
    char line[1024];
    int len =
        snprintf(line, sizeof line, "%s|%llu|%s|%s\n", it->path, (unsigned long long)it->offset,
                 length, it->header != NULL ? it->header : "(null)");
    out->append_row(out->host, line, (size_t)len);
  }
  return 0;
}
#endif

LOTE_PLUGIN_EXPORT const char* lote_plugin_last_error(void* state) {
  return ((test_state*)state)->last_error;
}

LOTE_PLUGIN_EXPORT void lote_plugin_shutdown(void* state) {
  test_state* st = state;
  const char* key = "\"shutdown_marker\":\"";
  const char* at = strstr(st->options, key);
  if (at != NULL) {
    at += strlen(key);
    const char* end = strchr(at, '"');
    if (end != NULL) {
      char path[512];
      snprintf(path, sizeof path, "%.*s", (int)(end - at), at);
      FILE* f = fopen(path, "w");
      if (f != NULL) fclose(f);
    }
  }
  free(st->options);
  free(st);
}
