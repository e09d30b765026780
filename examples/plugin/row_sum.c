/*
 * An example lote plugin (include/lote/plugin.h): for each CSV item, sums the
 * numeric cells of each data row and writes `file,row,row_sum`.
 *
 * - file is the input's base name; row is the 0-based data row of a whole
 *   file, or "@<byte offset>" of the row's first byte for a byte-range item
 *   (as lote's tabular scorer writes them).
 * - Every cell must be a number (strtod, spaces around it allowed). A cell
 *   that is not, or a file that cannot be read, fails that file as a whole:
 *   item_failed, and none of its rows are written.
 * - Counts: succeeded = rows summed, failed = files that failed.
 * - Plain CSV only: no quoted fields. Blank lines are skipped.
 *
 * No model is needed: init only remembers model_dir and says hello on stderr
 * (which goes to the job's logs). plugin_options are accepted and ignored.
 */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <lote/plugin.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

typedef struct row_sum_state {
  char last_error[512];
  long runs;
} row_sum_state;

/* A growable byte buffer. */
typedef struct buffer {
  char* data;
  size_t size;
  size_t cap;
} buffer;

static int buffer_reserve(buffer* b, size_t more) {
  if (b->size + more <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->size + more) cap *= 2;
  char* data = realloc(b->data, cap);
  if (data == NULL) return -1;
  b->data = data;
  b->cap = cap;
  return 0;
}

static int buffer_append(buffer* b, const char* s, size_t n) {
  if (buffer_reserve(b, n) != 0) return -1;
  memcpy(b->data + b->size, s, n);
  b->size += n;
  return 0;
}

/* Reads [offset, offset + length) of the file, or all of it from offset. */
static int read_item(const lote_item* item, buffer* out, char* err, size_t errlen) {
  FILE* f = fopen(item->path, "rb");
  if (f == NULL) {
    snprintf(err, errlen, "cannot read '%s': %s", item->path, strerror(errno));
    return -1;
  }
  if (item->offset != 0 && fseeko(f, (off_t)item->offset, SEEK_SET) != 0) {
    snprintf(err, errlen, "cannot seek '%s' to byte %llu: %s", item->path,
             (unsigned long long)item->offset, strerror(errno));
    fclose(f);
    return -1;
  }
  uint64_t left = item->length;
  while (left > 0) {
    if (buffer_reserve(out, 65536) != 0) {
      snprintf(err, errlen, "'%s': out of memory", item->path);
      fclose(f);
      return -1;
    }
    size_t want = out->cap - out->size;
    if ((uint64_t)want > left) want = (size_t)left;
    size_t got = fread(out->data + out->size, 1, want, f);
    out->size += got;
    left -= got;
    if (got < want) {
      if (ferror(f)) {
        snprintf(err, errlen, "cannot read '%s': %s", item->path, strerror(errno));
        fclose(f);
        return -1;
      }
      break; /* end of file */
    }
  }
  fclose(f);
  return 0;
}

/* The shortest decimal that reads back as the same double, written as
 * Python's repr writes floats: plain digits for exponents -4..15, else
 * scientific ("60", "3.75", "0.30000000000000004", "1e+16"). */
static int format_double(char* buf, size_t len, double v) {
  int digits = 1;
  for (; digits < 17; ++digits) {
    snprintf(buf, len, "%.*e", digits - 1, v);
    if (strtod(buf, NULL) == v) break;
  }
  snprintf(buf, len, "%.*e", digits - 1, v);
  const char* e = strchr(buf, 'e');
  const int exponent = e != NULL ? atoi(e + 1) : 0;
  if (exponent < -4 || exponent >= 16) return (int)strlen(buf);
  const int decimals = digits - 1 - exponent;
  return snprintf(buf, len, "%.*f", decimals > 0 ? decimals : 0, v);
}

static int is_space(char c) {
  return c == ' ' || c == '\t';
}

/* Sums the cells of one line [s, e) into *sum. Returns the 1-based number of
 * the first cell that is not a number, or 0. */
static int sum_cells(const char* s, const char* e, double* sum, char* cell, size_t cell_len) {
  *sum = 0;
  int index = 0;
  for (const char* p = s;; ++p) {
    const char* end = memchr(p, ',', (size_t)(e - p));
    if (end == NULL) end = e;
    ++index;
    while (p < end && is_space(*p)) ++p;
    const char* q = end;
    while (q > p && is_space(q[-1])) --q;
    size_t n = (size_t)(q - p);
    if (n == 0 || n >= cell_len) {
      snprintf(cell, cell_len, "%.*s", (int)(n < cell_len ? n : cell_len - 1), p);
      return index;
    }
    memcpy(cell, p, n);
    cell[n] = '\0';
    char* parsed = NULL;
    double v = strtod(cell, &parsed);
    if (parsed != cell + n) return index;
    *sum += v;
    if (end == e) return 0;
    p = end;
  }
}

static const char* base_name(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash != NULL ? slash + 1 : path;
}

/* Scores one item into rows; returns the rows summed, or -1 with err set. */
static long score_item(const lote_item* item, buffer* rows, char* err, size_t errlen) {
  buffer text = {0};
  if (read_item(item, &text, err, errlen) != 0) {
    free(text.data);
    return -1;
  }
  const int whole = item->length == LOTE_ITEM_WHOLE_FILE;
  const char* name = base_name(item->path);
  int header_seen = !whole; /* a range holds no header */
  long row = 0;
  const char* s = text.data;
  const char* end = text.data + text.size;
  while (s < end) {
    const char* nl = memchr(s, '\n', (size_t)(end - s));
    const char* e = nl != NULL ? nl : end;
    const char* next = nl != NULL ? nl + 1 : end;
    const uint64_t at = item->offset + (uint64_t)(s - text.data);
    if (e > s && e[-1] == '\r') --e;
    if (e == s) { /* blank line */
      s = next;
      continue;
    }
    if (!header_seen) {
      header_seen = 1;
      s = next;
      continue;
    }
    double sum = 0;
    char cell[64];
    int bad = sum_cells(s, e, &sum, cell, sizeof cell);
    char where[32];
    if (whole) {
      snprintf(where, sizeof where, "%ld", row);
    } else {
      snprintf(where, sizeof where, "@%llu", (unsigned long long)at);
    }
    if (bad != 0) {
      snprintf(err, errlen, "%s: row %s, cell %d: '%s' is not a number", name, where, bad, cell);
      free(text.data);
      return -1;
    }
    char line[512];
    char number[32];
    format_double(number, sizeof number, sum);
    int n = snprintf(line, sizeof line, "%s,%s,%s\n", name, where, number);
    if (n < 0 || (size_t)n >= sizeof line || buffer_append(rows, line, (size_t)n) != 0) {
      snprintf(err, errlen, "%s: row %s: cannot format the output row", name, where);
      free(text.data);
      return -1;
    }
    ++row;
    s = next;
  }
  free(text.data);
  return row;
}

LOTE_PLUGIN_EXPORT int lote_plugin_abi_version(void) {
  return LOTE_PLUGIN_ABI_VERSION;
}

LOTE_PLUGIN_EXPORT void* lote_plugin_init(const char* model_dir, const char* options_json,
                                          char** error) {
  row_sum_state* state = calloc(1, sizeof *state);
  if (state == NULL) {
    *error = strdup("row_sum: out of memory");
    return NULL;
  }
  fprintf(stderr, "row_sum plugin: model_dir '%s', options %s\n", model_dir, options_json);
  return state;
}

LOTE_PLUGIN_EXPORT int lote_plugin_run(void* state, const lote_mini_batch* batch,
                                       lote_results* out) {
  row_sum_state* st = state;
  ++st->runs;
  out->set_header(out->host, "file,row,row_sum");
  buffer rows = {0};
  for (size_t i = 0; i < batch->count; ++i) {
    char err[1024];
    rows.size = 0;
    long n = score_item(&batch->items[i], &rows, err, sizeof err);
    if (n < 0) {
      out->item_failed(out->host, i, err);
      out->count(out->host, 0, 1);
      continue;
    }
    if (rows.size > 0) out->append_row(out->host, rows.data, rows.size);
    out->count(out->host, n, 0);
  }
  free(rows.data);
  return 0;
}

LOTE_PLUGIN_EXPORT const char* lote_plugin_last_error(void* state) {
  return ((row_sum_state*)state)->last_error;
}

LOTE_PLUGIN_EXPORT void lote_plugin_shutdown(void* state) {
  row_sum_state* st = state;
  fprintf(stderr, "row_sum plugin: %ld mini-batches scored\n", st->runs);
  free(st);
}
