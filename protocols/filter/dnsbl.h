/* dnsbl.h — DNS blocklists (RFC 5782): query names, answers, and a
 * sans-I/O check of one client address against the configured lists.
 *
 * The check never resolves anything itself: it emits "lookup needed"
 * queries (an id, a name, A or TXT), waits, and is answered later by id
 * with what the resolver found. When every list has answered, the verdict
 * says whether to reject at RCPT (554 5.7.1 with the list's reason) and
 * which score rules to add. */
#ifndef MAILSIM_DNSBL_H
#define MAILSIM_DNSBL_H

#include <glib.h>
#include <stdint.h>

/* ---- names and answers ---- */

/* The query name of IP (IPv4 dotted quad or IPv6 text) under ZONE, in
 * presentation form with a final dot: "2.0.0.127.bl.example." (RFC 5782
 * §2.1, octets reversed) or the 32 nibbles reversed (§2.4). Returns a new
 * string, or NULL when IP is no address or the name would be too long. */
char *dnsbl_query_name(const char *ip, const char *zone);

/* What an A answer means (RFC 5782 §2.1, §5). */
typedef enum {
  DNSBL_ANSWER_LISTED,     /* an address in 127.0.0.0/8 other than 127.0.0.1 */
  DNSBL_ANSWER_NOT_LISTED, /* NXDOMAIN or no A record */
  DNSBL_ANSWER_BOGUS,      /* outside 127/8, or 127.0.0.1 (never a listing, §5) */
  DNSBL_ANSWER_ERROR,      /* the lookup failed (SERVFAIL, timeout): treated as not listed */
  DNSBL_ANSWER_COUNT
} dnsbl_answer;
const char *dnsbl_answer_name(dnsbl_answer a); /* "listed", "not-listed", "bogus", "error" */

/* ---- configuration ---- */

typedef enum {
  DNSBL_REJECT, /* reject at RCPT with 554 5.7.1 */
  DNSBL_SCORE,  /* add the list's weight to the spam score */
  DNSBL_ACTION_COUNT
} dnsbl_action;
const char *dnsbl_action_name(dnsbl_action a); /* "reject", "score" */

/* One list. Strings are borrowed for the life of the checks made with it. */
typedef struct {
  const char *zone; /* "bl.example" */
  dnsbl_action action;
  int weight;       /* score in tenths for DNSBL_SCORE */
  const char *rule; /* spam rule name; NULL = "RCVD_IN_DNSBL" */
  /* Answer addresses that count as listed ("127.0.0.2", ...), NULL-
   * terminated; NULL = any 127/8 answer but 127.0.0.1 (Postfix's
   * reject_rbl_client zone=127.0.0.2 style filtering). */
  const char *const *codes;
  gboolean ipv4, ipv6; /* which client families the list covers */
  gboolean want_txt;   /* ask TXT for the reason after a listing (§2.1) */
} dnsbl_zone;

/* Defaults for one zone: score with weight 26 (SpamAssassin's
 * RCVD_IN_SBL, score set 1, rounded), both families, TXT wanted. */
void dnsbl_zone_default(dnsbl_zone *z, const char *zone);

/* ---- the asynchronous check ---- */

typedef enum { DNSBL_QTYPE_A, DNSBL_QTYPE_TXT, DNSBL_QTYPE_COUNT } dnsbl_qtype;
const char *dnsbl_qtype_name(dnsbl_qtype t); /* "A", "TXT" */

/* A lookup the host must make. NAME is borrowed from the check. */
typedef struct {
  guint id; /* answer with this id */
  dnsbl_qtype qtype;
  const char *name; /* presentation form with final dot */
} dnsbl_query;

/* The resolver's outcome for one query. */
typedef enum {
  DNSBL_RCODE_ANSWER,   /* NOERROR with records (A: dotted quads; TXT: strings) */
  DNSBL_RCODE_NODATA,   /* NOERROR without records of the type */
  DNSBL_RCODE_NXDOMAIN, /* name does not exist */
  DNSBL_RCODE_FAIL,     /* SERVFAIL, REFUSED, timeout */
  DNSBL_RCODE_COUNT
} dnsbl_rcode;
const char *dnsbl_rcode_name(dnsbl_rcode r);

/* Classifies an A answer set (N dotted quads) for a list with CODES (as in
 * dnsbl_zone; NULL = any). Sets *MATCHED to a new comma-separated list of
 * the answers that count (may be NULL). */
dnsbl_answer dnsbl_classify(dnsbl_rcode rc, const char *const *answers, guint n,
                            const char *const *codes, char **matched);

/* One list that listed the client. */
typedef struct {
  const char *zone; /* borrowed from the config */
  const char *rule;
  dnsbl_action action;
  int weight;   /* tenths */
  char *codes;  /* "127.0.0.2" or "127.0.0.2,127.0.0.4" */
  char *reason; /* TXT text (strings joined), or NULL */
} dnsbl_hit;

typedef struct {
  gboolean reject; /* a DNSBL_REJECT list listed the client */
  int code;        /* 554 when rejecting, else 0 */
  const char *esc; /* "5.7.1" when rejecting (static) */
  char *text;      /* "Service unavailable; Client host [IP] blocked using ZONE; REASON" */
  int score;       /* sum of the DNSBL_SCORE hits' weights, tenths */
  GPtrArray *hits; /* of dnsbl_hit*, in configuration order */
  /* Per list, in configuration order: what its A lookup said. */
  GArray *answers; /* of dnsbl_answer */
} dnsbl_verdict;

typedef struct dnsbl_check dnsbl_check;

/* States of a check; transitions: QUERYING → DONE (once every list has
 * answered; at once when no list applies). */
typedef enum { DNSBL_CHECK_QUERYING, DNSBL_CHECK_DONE, DNSBL_CHECK_STATE_COUNT } dnsbl_check_state;
const char *dnsbl_check_state_name(dnsbl_check_state s);

/* A check of CLIENT_IP against the N_ZONES lists in ZONES (borrowed; must
 * outlive the check). An address that is no IP is checked against nothing
 * (done, not listed). */
dnsbl_check *dnsbl_check_new(const dnsbl_zone *zones, guint n_zones, const char *client_ip);
void dnsbl_check_free(dnsbl_check *c);
dnsbl_check_state dnsbl_check_state_get(const dnsbl_check *c);

/* The next lookup needed, if any: TRUE and *Q filled (each query is handed
 * out once). All A queries are emitted at once; a TXT query appears after
 * its list's A answer said "listed". */
gboolean dnsbl_check_next_query(dnsbl_check *c, dnsbl_query *q);

/* Answers query ID with RC and N records (A: dotted quads, TXT: the
 * strings of one record, joined). Returns FALSE for an id that is unknown
 * or already answered (the answer is ignored). */
gboolean dnsbl_check_answer(dnsbl_check *c, guint id, dnsbl_rcode rc, const char *const *records,
                            guint n);

/* The verdict once DONE (borrowed; NULL before). */
const dnsbl_verdict *dnsbl_check_verdict(const dnsbl_check *c);

#endif
