/* sieve.h — a Sieve (RFC 5228) subset: parser and interpreter for the
 * user mail rules run at final delivery.
 *
 * Supported: require; if / elsif / else; allof, anyof, not, true, false;
 * the tests header, address (:all / :localpart / :domain; only on fields
 * that hold addresses, §5.1), envelope
 * (require "envelope"; "from" and "to"), exists, size (:over / :under,
 * K / M / G); match types :is, :contains, :matches; comparators
 * "i;ascii-casemap" (the default) and "i;octet"; the actions keep,
 * fileinto (require "fileinto"), discard, redirect and stop; the implicit
 * keep (§2.10.2). Strings: quoted with \" and \\ escapes, multi-line
 * "text:" strings with dot-stuffing, string lists; comments "#" and
 * bracketed. Anything else — an unknown command, test, tag or extension —
 * is a parse error with its line number (§2.10.6: a script with errors
 * is not run; the message is kept).
 *
 * A script is parsed once (from the scenario) and run for each delivery;
 * running needs no I/O and no time. */
#ifndef MAILSIM_SIEVE_H
#define MAILSIM_SIEVE_H

#include <glib.h>

#include "mime_msg.h"

typedef struct sieve_script sieve_script;

/* Parses LEN octets of TEXT. Returns the script, or NULL with *ERR (may
 * be NULL; g_free it) set to "line N: what is wrong". Never crashes on
 * any input. */
sieve_script *sieve_parse(const char *text, gsize len, char **err);
void sieve_script_free(sieve_script *s);

/* Number of commands in the script, nested ones included (for tests). */
guint sieve_script_command_count(const sieve_script *s);

typedef enum {
  SIEVE_KEEP,     /* file into the user's INBOX */
  SIEVE_FILEINTO, /* file into ARG */
  SIEVE_REDIRECT, /* forward to the address ARG */
  SIEVE_DISCARD,  /* silently drop (other actions still happen) */
  SIEVE_ACTION_COUNT
} sieve_action_kind;
const char *sieve_action_kind_name(sieve_action_kind k); /* "keep", "fileinto", ... */

typedef struct {
  sieve_action_kind kind;
  char *arg;         /* folder (FILEINTO) or address (REDIRECT), else NULL */
  gboolean implicit; /* KEEP added by the implicit keep rule */
  guint line;        /* script line of the command, 0 for the implicit keep */
} sieve_action;

typedef struct {
  const mime_msg *msg;  /* required */
  const char *env_from; /* MAIL FROM without <> ("" = null path, NULL = unknown) */
  const char *env_to;   /* the RCPT TO being delivered (NULL = unknown) */
  guint max_redirects;  /* 0 = the default, 4 (Pigeonhole's sieve_max_redirects) */
} sieve_input;

typedef struct {
  /* Actions in execution order, duplicates removed (§2.10.3: one copy per
   * folder, "INBOX" being keep; one redirect per address). Always at
   * least one action. */
  GPtrArray *actions; /* of sieve_action* */
  /* A run-time error (too many redirects): the script's actions are
   * dropped and only the implicit keep remains (§2.10.6). Else NULL. */
  char *error;
} sieve_result;
void sieve_result_clear(sieve_result *r);

/* Runs S on IN. Fills *OUT (clear it with sieve_result_clear). */
void sieve_run(const sieve_script *s, const sieve_input *in, sieve_result *out);

/* "keep", "fileinto \"Junk\"", "redirect \"a@b\"", joined with "; ",
 * "implicit keep" for the implicit one: for traces and tests. New string. */
char *sieve_result_describe(const sieve_result *r);

/* The match types and comparators on their own (used by the tests). */
typedef enum {
  SIEVE_MATCH_IS,
  SIEVE_MATCH_CONTAINS,
  SIEVE_MATCH_MATCHES,
  SIEVE_MATCH_COUNT
} sieve_match;
typedef enum { SIEVE_CMP_ASCII_CASEMAP, SIEVE_CMP_OCTET, SIEVE_CMP_COUNT } sieve_cmp;
gboolean sieve_match_value(sieve_match m, sieve_cmp c, const char *value, const char *key);

#endif
