/* trace.h — the trace writer: JSON Lines in a fixed key order.
 *
 * The trace is the contract between the simulator, the viewer and the tools
 * (see traces/FORMAT.md). This library depends on nothing else in the
 * project. A record is built by calls in order — the order of the calls is
 * the order of the keys — and written as one line when it ends. Numbers are
 * integers only: the trace never carries floating point.
 *
 * Every function accepts a NULL writer and then does nothing, so code that
 * traces can run untraced without tests of its own.
 *
 * Strings come in two kinds:
 *  - text (trace_key_str): UTF-8; invalid sequences are written as U+FFFD;
 *  - bytes (trace_key_bytes): an exact octet string, e.g. a protocol line.
 *    Printable ASCII is written as is; every other octet, including those
 *    >= 0x80, as \u00XX, so each code point of the JSON string is one octet
 *    and the reader gives back exactly the bytes written.
 */
#ifndef MAILSIM_TRACE_H
#define MAILSIM_TRACE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TRACE_FORMAT_NAME "mailsim-trace"
#define TRACE_FORMAT_VERSION 1

typedef struct trace_writer trace_writer;

/* Opens PATH for writing ("-" = standard output). NULL and *err set on
 * failure. */
trace_writer *trace_writer_new_file(const char *path, GError **err);
/* A writer that keeps everything in memory (tests, diffing). */
trace_writer *trace_writer_new_memory(void);
/* A writer that writes nowhere: for runs that need their records seen (by
 * a tap) but not kept. */
trace_writer *trace_writer_new_null(void);
/* Calls FN with the text of every record as it is finished (LINE, LEN
 * octets without the newline; borrowed for the call), before it is
 * written. FN must not write to TW. One tap per writer; NULL removes it. */
typedef void (*trace_tap_fn)(void *user, const char *line, size_t len);
void trace_writer_set_tap(trace_writer *tw, trace_tap_fn fn, void *user);
/* From now on, finished records are handed to a second thread that runs
 * the tap and writes them, in the order they were finished: the output and
 * what the tap sees are exactly those of a writer without the thread; only
 * their timing changes (the thread runs at most ~1 MiB of records behind).
 * The tap then runs on that thread, so it must touch nothing else the
 * caller uses until trace_writer_sync() returns. For file and null writers;
 * returns false (nothing changes) for a memory writer or if no thread can
 * be started. Call it outside a record. */
bool trace_writer_start_thread(trace_writer *tw);
/* Waits until every record finished so far has been tapped and written (a
 * no-op without the thread). Call it before reading what the tap computed.
 * trace_writer_set_tap and trace_writer_close sync first; close also ends
 * the thread. NULL is a no-op. */
void trace_writer_sync(trace_writer *tw);
/* For a process about to end abnormally (a fatal signal, abort, exit on
 * an error; see trace_guard.h): writes every record finished so far to
 * the file, up to the last complete one, and flushes it. With the writer
 * thread: called on the simulation's thread, the thread writes its queue
 * (no longer tapping) and then the caller the records of its open chunk;
 * called on the writer thread (its tap failed), that thread writes its
 * chunk and the queued ones (records still in the simulation's open chunk,
 * at most 64 KiB, are lost). Waits at most ~5 s for the other thread, and
 * writes nothing it cannot place in order. Best effort: meant for signal
 * handlers, it takes the writer's lock and calls stdio. The writer stays
 * usable. No-op for NULL and memory writers. */
void trace_writer_emergency_flush(trace_writer *tw);
/* Test hook: when record N (the header is 1) is finished (IN_TAP: tapped,
 * on the thread that taps), raise signal SIG on that thread, as a bug's
 * abort would. N = 0: never. */
void trace_writer_test_fail_at(trace_writer *tw, uint64_t n, int sig, bool in_tap);
/* The memory writer's text so far; borrowed, valid until the next write. */
const GString *trace_writer_peek_memory(const trace_writer *tw);
/* Flushes and closes the sink. Returns false and sets *err if any write
 * failed since the writer was opened. The writer must still be freed. */
bool trace_writer_close(trace_writer *tw, GError **err);
/* Closes (ignoring errors) and frees. NULL is a no-op. */
void trace_writer_free(trace_writer *tw);
/* Number of complete records written (the header counts). */
uint64_t trace_writer_records(const trace_writer *tw);

/* --- building a record ---------------------------------------------------
 * trace_begin() opens a bare record; trace_event_begin() opens an event
 * record and writes its first three keys: "t", "id" and "ev". Event ids
 * count from 1 in writing order; the return value can be named as the
 * "cause" of a later record. Inside an array, pass key = NULL. */
void trace_begin(trace_writer *tw);
/* The kind EV's length EVN (strlen) given, as for keys below. */
uint64_t trace__event_begink(trace_writer *tw, int64_t t, const char *ev, size_t evn);
uint64_t trace__event_begin_nodek(trace_writer *tw, int64_t t, const char *ev, size_t evn,
                                  const char *node);
static inline uint64_t trace_event_begin(trace_writer *tw, int64_t t, const char *ev) {
  return trace__event_begink(tw, t, ev, strlen(ev));
}
/* trace_event_begin and then "node" (trace_key_str) in one call: the
 * head of most records. */
static inline uint64_t trace_event_begin_node(trace_writer *tw, int64_t t, const char *ev,
                                              const char *node) {
  return trace__event_begin_nodek(tw, t, ev, strlen(ev), node);
}
void trace_end(trace_writer *tw);

/* The functions named trace__*k take the key's length KN (strlen(key); 0
 * for NULL) and are called by the static inline ones named without the
 * k, where the compiler counts a literal key (see trace__key_strk). */
/* The same with the key's length KN given (see trace__key_strk). */
void trace__key_intk(trace_writer *tw, const char *key, size_t kn, int64_t v);
void trace__key_uintk(trace_writer *tw, const char *key, size_t kn, uint64_t v);
static inline void trace_key_int(trace_writer *tw, const char *key, int64_t v) {
  trace__key_intk(tw, key, key ? strlen(key) : 0, v);
}
static inline void trace_key_uint(trace_writer *tw, const char *key, uint64_t v) {
  trace__key_uintk(tw, key, key ? strlen(key) : 0, v);
}
void trace__key_boolk(trace_writer *tw, const char *key, size_t kn, bool v);
void trace__key_nullk(trace_writer *tw, const char *key, size_t kn);
static inline void trace_key_bool(trace_writer *tw, const char *key, bool v) {
  trace__key_boolk(tw, key, key ? strlen(key) : 0, v);
}
static inline void trace_key_null(trace_writer *tw, const char *key) {
  trace__key_nullk(tw, key, key ? strlen(key) : 0);
}
/* trace_key_str with the key's length KN (strlen(key); 0 for NULL) given:
 * trace_key_str below is this with KN found where the key is a literal
 * (the compiler counts it), so the writer checks the key a word at a time
 * instead of looking for its end octet by octet. */
void trace__key_strk(trace_writer *tw, const char *key, size_t kn, const char *utf8);
static inline void trace_key_str(trace_writer *tw, const char *key, const char *utf8) {
  trace__key_strk(tw, key, key ? strlen(key) : 0, utf8);
}
void trace__key_strnk(trace_writer *tw, const char *key, size_t kn, const char *utf8, size_t n);
void trace__key_bytesk(trace_writer *tw, const char *key, size_t kn, const void *p, size_t n);
static inline void trace_key_strn(trace_writer *tw, const char *key, const char *utf8, size_t n) {
  trace__key_strnk(tw, key, key ? strlen(key) : 0, utf8, n);
}
static inline void trace_key_bytes(trace_writer *tw, const char *key, const void *p, size_t n) {
  trace__key_bytesk(tw, key, key ? strlen(key) : 0, p, n);
}
void trace_key_printf(trace_writer *tw, const char *key, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void trace__obj_begink(trace_writer *tw, const char *key, size_t kn);
void trace__arr_begink(trace_writer *tw, const char *key, size_t kn);
static inline void trace_obj_begin(trace_writer *tw, const char *key) {
  trace__obj_begink(tw, key, key ? strlen(key) : 0);
}
void trace_obj_end(trace_writer *tw);
static inline void trace_arr_begin(trace_writer *tw, const char *key) {
  trace__arr_begink(tw, key, key ? strlen(key) : 0);
}
void trace_arr_end(trace_writer *tw);

/* Appends the JSON string form of text / bytes to OUT (used by the writer
 * and by tools that print trace values). */
void trace_escape_text(GString *out, const char *s, size_t n);
void trace_escape_bytes(GString *out, const void *p, size_t n);

#endif
