/* smtp_reply.h — SMTP reply lines, shared by the server and client engines.
 *
 * Formatting (server side): a reply is a code, an optional enhanced status
 * code (RFC 2034 / RFC 3463) and a text whose '\n' separate the lines of a
 * multi-line reply (RFC 5321 §4.2.1: "250-first", …, "250 last").
 *
 * Parsing (client side): an incremental parser that takes one reply line at
 * a time (without its CRLF) and says when a whole reply has been seen.
 *
 * Also here: the environment every SMTP engine is created with (a trace hook,
 * never a clock) and the deadline sentinel.
 */
#ifndef MAILSIM_SMTP_REPLY_H
#define MAILSIM_SMTP_REPLY_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Returned by the engines' deadline() when no timer runs. */
#define SMTP_NO_DEADLINE INT64_MAX

/* What an engine reports through its trace hook. */
typedef enum {
  SMTP_TRACE_STATE, /* "OLD -> NEW": a state transition, by name */
  SMTP_TRACE_RECV,  /* one line received from the peer (no CRLF; AUTH secrets masked) */
  SMTP_TRACE_SEND,  /* one line queued for the peer (no CRLF; AUTH secrets masked) */
  SMTP_TRACE_NOTE,  /* anything else worth a trace record (discarded input, data size) */
  SMTP_TRACE__COUNT
} smtp_trace_kind;

const char *smtp_trace_kind_name(smtp_trace_kind k);

/* The trace hook: called synchronously from inside engine calls; TEXT is
 * borrowed for the call only. It must not call back into the engine. The
 * owner adds the connection id (it knows it; the engine does not). */
typedef void (*smtp_trace_fn)(void *ctx, int64_t now, smtp_trace_kind kind, const char *text);

/* The environment of an engine. Copied by the engine; CTX is borrowed and
 * must outlive it. A NULL hook disables tracing. */
typedef struct {
  smtp_trace_fn trace;
  void *ctx;
} smtp_env;

/* ---- formatting ---- */

/* Appends the reply CODE (200..599) to OUT, one "CODE-" line per '\n' in
 * TEXT and a final "CODE " line, each ended by CRLF. ESC is the enhanced
 * status code put after the code on every line ("2.1.0"); NULL or "" puts
 * none. A line of TEXT may not contain CR or LF (a bug: asserts). */
void smtp_reply_append(GString *out, int code, const char *esc, const char *text);
/* Appends the one-line reply CODE whose text is A[0..AN) then B[0..BN)
 * (B may be NULL when BN is 0), with the enhanced code ESC[0..EN) (EN 0:
 * none): what smtp_reply_append() makes of the same text when it holds
 * no CR nor LF, which the caller knows (not checked). */
void smtp_reply_append_line(GString *out, int code, const char *esc, size_t en, const char *a,
                            size_t an, const char *b, size_t bn);

/* ---- parsing ---- */

/* One complete reply. */
typedef struct {
  int code;      /* 200..599 once a line was fed, else 0 */
  char esc[16];  /* "x.y.z" of the first line when present and of CODE's class, else "" */
  GString *text; /* the lines' texts (after code, separator and esc), joined by '\n' */
  unsigned nlines;
} smtp_reply;

void smtp_reply_init(smtp_reply *r);
void smtp_reply_clear(smtp_reply *r);
/* Forgets the content, keeps the storage. */
void smtp_reply_reset(smtp_reply *r);

typedef enum {
  SMTP_REPLY_MORE,     /* a continuation line ("250-"): feed the next line */
  SMTP_REPLY_COMPLETE, /* R holds a complete reply; reset it before the next one */
  SMTP_REPLY_BAD,      /* not a reply line, or codes that disagree: a protocol error */
} smtp_reply_status;

/* Feeds one reply line LINE[0..LEN) (without CRLF) to R. Lines beyond
 * SMTP_REPLY_MAX_LINES in one reply are a protocol error. */
#define SMTP_REPLY_MAX_LINES 200
smtp_reply_status smtp_reply_feed_line(smtp_reply *r, const char *line, size_t len);

/* True if S at its start holds an enhanced status code "c.sss.ddd" of
 * class CLASS ('2', '4' or '5'; RFC 3463 §2); *LEN gets its length. */
bool smtp_reply_esc_at(const char *s, size_t n, char klass, size_t *len);

/* Appends P[0..N) to G, inline when G has room (g_string_append_len is a
 * library call of ~90 instructions in GLib 2.74, and reply lines are
 * appended piece by piece). */
static inline void smtp_reply_put(GString *g, const char *p, size_t n) {
  if (g->len + n < g->allocated_len) {
    memcpy(g->str + g->len, p, n);
    g->len += n;
    g->str[g->len] = 0;
  } else {
    g_string_append_len(g, p, (gssize)n);
  }
}

/* smtp_reply_put of the string S. */
static inline void smtp_reply_puts(GString *g, const char *s) { smtp_reply_put(g, s, strlen(s)); }

/* G set to the string S (g_string_assign, inline when G has room). */
static inline void smtp_reply_set(GString *g, const char *s) {
  g->str[g->len = 0] = 0;
  smtp_reply_puts(g, s);
}

/* For engines renewed from a spare (smtp_cli_renew, smtp_srv_renew): the
 * largest buffer kept for the next session, in octets. */
#define SMTP_KEEP_MAX (64 * 1024)

/* S emptied for the next session, or freed and made anew at SIZE when it
 * had grown past SMTP_KEEP_MAX. */
GString *smtp_string_kept(GString *s, gsize size);

/* *SLOT (an owned string or NULL) made a copy of S (may be NULL): kept
 * as it is when it holds S already (a renewed engine's name from the
 * same config), overwritten in place when S is no longer (another user's
 * name of the same length: the octets of the old text beyond S's end are
 * zeroed when WIPE), else freed (wiped first when WIPE: a secret) and
 * copied anew. Pointers to the old text are not valid after the call. */
void smtp_string_renew(char **slot, const char *s, bool wipe);

#endif
