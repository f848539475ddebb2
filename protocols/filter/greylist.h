/* greylist.h — greylisting with Postgrey's rules and defaults.
 *
 * A triplet (client network, normalised envelope sender, recipient) seen
 * for the first time is refused with a temporary error; the same triplet
 * retried at least `delay` after its first attempt (and within
 * `retry_window`) passes, and from then on passes at once until it is not
 * seen for `max_age`. A client address that passed greylisting
 * `awl_clients` times (at most one count per `awl_interval`) is
 * auto-whitelisted. Defaults are Postgrey's documented ones (postgrey(8):
 * --delay=300, --max-age=35, --retry-window=2, --auto-whitelist-clients=5,
 * --lookup-by-subnet with --ipv4cidr=24 and --ipv6cidr=64).
 *
 * This is a plain data structure, not an engine: a check is a local
 * lookup, answered at once from the state and the `now` passed in. The MTA
 * host makes it asynchronous (a "decision needed" answered later) when it
 * wants the check to take simulated time. The state survives a crash by
 * greylist_save / greylist_load (the host keeps the text on disk). */
#ifndef MAILSIM_GREYLIST_H
#define MAILSIM_GREYLIST_H

#include <glib.h>
#include <stdint.h>

#define GREYLIST_SEC INT64_C(1000000000)
#define GREYLIST_HEADER_NAME "X-Greylist"

/* Settings; durations in nanoseconds. Strings are copied by greylist_new. */
typedef struct {
  int64_t delay;                 /* --delay: 300 s */
  int64_t max_age;               /* --max-age: 35 days since last seen */
  int64_t retry_window;          /* --retry-window: 2 days for the first retry */
  guint awl_clients;             /* --auto-whitelist-clients: 5; 0 disables */
  int64_t awl_interval;          /* one AWL count per client per hour (Postgrey's code) */
  guint ipv4_prefix;             /* --ipv4cidr: 24 (32 = --lookup-by-host) */
  guint ipv6_prefix;             /* --ipv6cidr: 64 (128 = --lookup-by-host) */
  gboolean sender_substitutions; /* Postgrey's VERP/BATV normalisation: TRUE */
  /* Reply text of a deferral; "%s" = seconds still to wait, "%r" = the
   * recipient's domain. Postgrey's --greylist-text, neutral wording. */
  const char *reply_text;
  /* Whitelists (Postgrey's whitelist_clients / whitelist_recipients),
   * NULL-terminated arrays or NULL. Clients: an address or CIDR
   * ("192.0.2.7", "198.51.100.0/24", "2001:db8::/32"). Recipients:
   * "domain" (also its subdomains), "user@" or "user@domain" (also
   * "user+ext@domain"), case-insensitive. */
  const char *const *whitelist_clients;
  const char *const *whitelist_recipients;
} greylist_config;

/* Fills C with Postgrey's defaults (reply_text = GREYLIST_DEFAULT_TEXT). */
void greylist_config_default(greylist_config *c);
#define GREYLIST_DEFAULT_TEXT "Greylisted, please try again in %s seconds"

typedef enum {
  GREYLIST_PASS_WHITELIST, /* client or recipient whitelist */
  GREYLIST_PASS_AWL,       /* client auto-whitelisted */
  GREYLIST_PASS_DELAYED,   /* first pass of the triplet after waiting: add X-Greylist */
  GREYLIST_PASS_KNOWN,     /* the triplet had passed before: no header */
  GREYLIST_DEFER_NEW,      /* first attempt (or first after the retry window / max age) */
  GREYLIST_DEFER_EARLY,    /* retried before `delay` had passed */
  GREYLIST_RESULT_COUNT
} greylist_result;
/* "pass-whitelist", "pass-awl", "pass-delayed", "pass-known", "defer-new",
 * "defer-early". */
const char *greylist_result_name(greylist_result r);

/* One check's outcome, for the SMTP reply and the policy.greylist record. */
typedef struct {
  greylist_result result;
  gboolean defer;     /* result is a DEFER_*: reply code/esc/text */
  int code;           /* 450 when deferred, else 0 */
  const char *esc;    /* "4.2.0" when deferred, else NULL (static) */
  char *text;         /* reply text when deferred, else NULL */
  char *client_net;   /* "192.0.2.0/24", "2001:db8:1:2::/64" (or the address as given) */
  char *sender;       /* normalised, lower case */
  char *recipient;    /* lower case */
  char *triplet;      /* "client_net/sender/recipient" (Postgrey's key) */
  int64_t first_seen; /* ns; 0 for whitelist passes */
  int64_t waited;     /* now - first_seen */
  int64_t retry_in;   /* deferred: delay - waited (> 0), else 0 */
  guint awl_count;    /* the client's AWL count after this check */
} greylist_verdict;
void greylist_verdict_clear(greylist_verdict *v);

typedef struct greylist greylist;

/* New empty state. CFG NULL = defaults. Settings out of range (prefixes
 * over 32/128, negative durations) are a bug: asserts. */
greylist *greylist_new(const greylist_config *cfg);
void greylist_free(greylist *g);

/* Checks one (client, sender, recipient) at NOW and updates the state.
 * CLIENT_IP is text (IPv4 or IPv6); unparseable text is used as given
 * (lower-cased). SENDER is the reverse path without brackets ("" = null
 * path). Fills *OUT (clear it with greylist_verdict_clear). Never fails. */
void greylist_check(greylist *g, const char *client_ip, const char *sender, const char *recipient,
                    int64_t now, greylist_verdict *out);

/* Value of the X-Greylist header for a PASS_DELAYED verdict, like
 * Postgrey's "delayed 312 seconds by HOST; DATE" (DATE per RFC 5322 for
 * NOW after EPOCH_UNIX, UTC); NULL for other verdicts. New string. */
char *greylist_header_value(const greylist_verdict *v, const char *host, int64_t now,
                            int64_t epoch_unix);

/* Removes triplets and AWL clients not seen for max_age, and triplets that
 * never passed and were last seen longer than retry_window ago (Postgrey's
 * maintenance). Checks apply the same rules lazily, so calling this only
 * bounds memory. Returns the number of entries removed. */
guint greylist_expire(greylist *g, int64_t now);

/* Number of triplets / AWL clients held. */
guint greylist_triplet_count(const greylist *g);
guint greylist_client_count(const greylist *g);

/* The state as text, entries sorted (same state = same bytes):
 *   "mailsim-greylist 1\n"
 *   "t FIRST LAST KEY\n"   a triplet (times in ns, KEY %-escaped)
 *   "c COUNT LAST ADDR\n"  an AWL client
 * Returns a new string. */
char *greylist_save(const greylist *g);
/* Replaces G's entries by those in TEXT (LEN octets). On bad input returns
 * FALSE, leaves G unchanged and sets *ERR (may be NULL; g_free it) to
 * "line N: what was expected". */
gboolean greylist_load(greylist *g, const char *text, gsize len, char **err);

/* Postgrey's sender normalisation on its own: BATV "prvs=TAG=user" →
 * "user", "user+ext" → "user", digit-only words → "#"; lower-cased.
 * New string. */
char *greylist_normalise_sender(const char *sender);

/* The client network of an address text with the given prefixes, as in
 * greylist_verdict.client_net (an IPv4-mapped IPv6 address counts as its
 * IPv4 address); FALSE (and a lower-cased copy) when the text is no
 * address. New string in *OUT. */
gboolean greylist_client_net(const char *ip, guint v4_prefix, guint v6_prefix, char **out);

#endif
