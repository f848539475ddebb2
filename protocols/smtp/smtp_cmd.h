/* smtp_cmd.h — SMTP command lines: verbs, paths, ESMTP parameters, AUTH data.
 *
 * Pure functions with no session state, shared by the server engine (which
 * parses what clients send) and the client engine (which builds what it
 * sends). A parse failure is not a bug: it comes back as a smtp_cmd_status
 * holding the reply the server should give (code, enhanced code, text).
 */
#ifndef MAILSIM_SMTP_CMD_H
#define MAILSIM_SMTP_CMD_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  SMTP_VERB_UNKNOWN,
  SMTP_VERB_HELO,
  SMTP_VERB_EHLO,
  SMTP_VERB_MAIL,
  SMTP_VERB_RCPT,
  SMTP_VERB_DATA,
  SMTP_VERB_RSET,
  SMTP_VERB_NOOP,
  SMTP_VERB_QUIT,
  SMTP_VERB_VRFY,
  SMTP_VERB_HELP,
  SMTP_VERB_STARTTLS,
  SMTP_VERB_AUTH,
  /* Known but not implemented here: 502 (RFC 5321 §4.2.4). */
  SMTP_VERB_EXPN,
  SMTP_VERB_ETRN,
  SMTP_VERB_TURN,
  SMTP_VERB_BDAT,
  SMTP_VERB__COUNT
} smtp_verb;

/* Upper-case verb name ("MAIL"); "?" for SMTP_VERB_UNKNOWN. */
const char *smtp_cmd_verb_name(smtp_verb v);

/* A parsed command line: the verb (case-insensitive, RFC 5321 §2.4) and the
 * argument after the single separating space (leading spaces skipped;
 * ARG points into the line given to smtp_cmd_parse). */
typedef struct {
  smtp_verb verb;
  const char *arg; /* "" when none; NUL-terminated */
} smtp_cmd;

/* Splits the NUL-terminated LINE (no CRLF) into verb and argument. A verb
 * is recognised only when followed by SP or the end of the line. */
void smtp_cmd_parse(const char *line, smtp_cmd *out);

/* A reply to give instead of proceeding; code 0 means success. ESC and
 * TEXT are static strings. */
typedef struct {
  int code;
  const char *esc;
  const char *text;
} smtp_cmd_status;

/* ESMTP parameters a server accepts (bits of smtp_cmd_parse_mail/_rcpt). */
enum {
  SMTP_CMD_P_SIZE = 1u << 0, /* RFC 1870 */
  SMTP_CMD_P_BODY = 1u << 1, /* RFC 6152 */
  SMTP_CMD_P_DSN = 1u << 2,  /* RFC 3461: RET, ENVID / NOTIFY, ORCPT */
  SMTP_CMD_P_AUTH = 1u << 3, /* RFC 4954 §5: AUTH= on MAIL */
};

typedef enum { SMTP_BODY_NONE, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME } smtp_body;
typedef enum { SMTP_RET_NONE, SMTP_RET_FULL, SMTP_RET_HDRS } smtp_ret;

/* RFC 3461 §4.1 NOTIFY bits; 0 means the parameter was absent. */
enum {
  SMTP_NOTIFY_NEVER = 1u << 0,
  SMTP_NOTIFY_SUCCESS = 1u << 1,
  SMTP_NOTIFY_FAILURE = 1u << 2,
  SMTP_NOTIFY_DELAY = 1u << 3,
};

/* MAIL FROM: the reverse path and its parameters. Strings are owned
 * (g_free'd by smtp_cmd_mail_clear); xtext values are kept encoded. */
typedef struct {
  char *from;    /* the address without <>; "" for the null path */
  uint64_t size; /* SIZE=, 0 when absent */
  bool has_size;
  smtp_body body;
  smtp_ret ret;
  char *envid; /* ENVID= xtext, or NULL */
  char *auth;  /* AUTH= xtext, or NULL */
} smtp_cmd_mail;

/* RCPT TO: the forward path and its parameters (owned, as above). */
typedef struct {
  char *to;        /* the address without <> (source route removed) */
  unsigned notify; /* SMTP_NOTIFY_* bits, 0 when absent */
  char *orcpt;     /* ORCPT= "addr-type;xtext", or NULL */
} smtp_cmd_rcpt;

void smtp_cmd_mail_clear(smtp_cmd_mail *m);
void smtp_cmd_rcpt_clear(smtp_cmd_rcpt *r);

/* Parses the argument of MAIL ("FROM:<a@b> SIZE=10") into OUT (cleared
 * first) accepting the parameters in ALLOWED (SMTP_CMD_P_* bits). Returns
 * the reply to give on failure (501 syntax, 555 unknown parameter — RFC
 * 5321 §4.1.1.11 — or 552 when SIZE exceeds MAX_SIZE, 0 = no limit, RFC
 * 1870 §6.1), and OUT is then cleared. */
smtp_cmd_status smtp_cmd_parse_mail(const char *arg, unsigned allowed, uint64_t max_size,
                                    smtp_cmd_mail *out);
/* Same for RCPT ("TO:<a@b> NOTIFY=NEVER"). "<postmaster>" is accepted
 * without a domain (RFC 5321 §4.1.1.3). */
smtp_cmd_status smtp_cmd_parse_rcpt(const char *arg, unsigned allowed, smtp_cmd_rcpt *out);

/* A store for parsed strings that go together (a server's transaction):
 * each copy is appended to a block that never moves; all of them are let
 * go at once. Zero-initialise it (no block yet). */
typedef struct smtp_cmd_block smtp_cmd_block;
typedef struct {
  smtp_cmd_block *head; /* the newest block; older ones follow */
  char *w;              /* where the next copy goes in HEAD, ROOM octets left */
  size_t room;
} smtp_cmd_arena;

/* A NUL-terminated copy of S[0..N) in A, valid until A is reset. */
char *smtp_cmd_arena_strndup(smtp_cmd_arena *a, const char *s, size_t n);
/* Lets every copy go, keeping the first block for the next ones. */
void smtp_cmd_arena_reset(smtp_cmd_arena *a);
/* Frees every block (A is then empty, as zeroed). */
void smtp_cmd_arena_clear(smtp_cmd_arena *a);

/* smtp_cmd_parse_mail and _rcpt with the strings copied into A instead of
 * allocated one by one (A NULL: as those): OUT then owns nothing and must
 * not be cleared with smtp_cmd_*_clear; its strings last until A is reset.
 * On failure OUT is zeroed (the copies stay in A until then). */
smtp_cmd_status smtp_cmd_parse_mail_in(const char *arg, unsigned allowed, uint64_t max_size,
                                       smtp_cmd_mail *out, smtp_cmd_arena *a);
smtp_cmd_status smtp_cmd_parse_rcpt_in(const char *arg, unsigned allowed, smtp_cmd_rcpt *out,
                                       smtp_cmd_arena *a);

/* True if S is a valid mailbox "local@domain" (RFC 5321 §4.1.2, ASCII
 * only, lengths of §4.5.3.1.1-2). */
bool smtp_cmd_mailbox_valid(const char *s);
/* True if S is a valid xtext (RFC 3461 §4). */
bool smtp_cmd_xtext_valid(const char *s);

/* Strict base64 (RFC 4648 §4, padding required, nothing else allowed —
 * GLib's decoder skips junk, so this checks first). Returns the decoded
 * bytes (NUL-terminated for convenience; *LEN excludes the NUL) or NULL when
 * S is not base64. "=" alone decodes to the empty string (RFC 4954 §4). */
guchar *smtp_cmd_b64_decode(const char *s, gsize *len);
/* The same decoding appended to OUT (which stays NUL-terminated); false,
 * OUT unchanged, when S is not base64. */
bool smtp_cmd_b64_decode_append(const char *s, GString *out);

/* RFC 4616 §2: message = [authzid] NUL authcid NUL passwd. Splits the
 * decoded PLAIN response; false if malformed (wrong NUL count, empty
 * authcid or passwd, a NUL-less field longer than 255). On success the
 * three strings are newly allocated. */
bool smtp_cmd_plain_split(const guchar *buf, gsize len, char **authzid, char **authcid,
                          char **passwd);
/* The same check without copies: on success *AUTHCID and *PASSWD are
 * where those fields start in BUF (authzid starts at 0; each field but the
 * last is ended by its NUL). */
bool smtp_cmd_plain_parts(const guchar *buf, gsize len, gsize *authcid, gsize *passwd);

/* ASCII case-insensitive equality, as g_ascii_strcasecmp(A, B) == 0 and
 * g_ascii_strncasecmp(A, B, N) == 0 decide it, inline (no library call;
 * it stops at the first difference). */
static inline unsigned char smtp_cmd__fold(unsigned char c) {
  return (unsigned char)((unsigned)c - 'A' < 26u ? c | 0x20 : c);
}
static inline bool smtp_cmd_ieq(const char *a, const char *b) {
  for (;; a++, b++) {
    unsigned char x = smtp_cmd__fold((unsigned char)*a), y = smtp_cmd__fold((unsigned char)*b);
    if (x != y)
      return false;
    if (!x)
      return true;
  }
}
static inline bool smtp_cmd_ieqn(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char x = smtp_cmd__fold((unsigned char)a[i]), y = smtp_cmd__fold((unsigned char)b[i]);
    if (x != y)
      return false;
    if (!x)
      return true;
  }
  return true;
}

#endif
