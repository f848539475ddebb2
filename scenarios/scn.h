/* scn.h — scenario files: JSON -> plain config structs.
 *
 * A scenario describes one world (see DESIGN.md "Scenarios"). This version
 * of the loader reads the network part and generic traffic:
 *
 *   {
 *     "name": "two-hosts", "description": "...",
 *     "seed": 1, "duration": "30s",
 *     "hosts": [ {"name": "alice", "role": "client", "addrs": ["10.0.0.1"],
 *                 "pos": [0, 0]}, ... ],            role "router" forwards
 *     "links": [ {"a": "alice", "b": "r1", "latency": "10ms", "jitter": "1ms",
 *                 "bandwidth": "10Mbit", "queue": "256KiB", "loss": "0.1%",
 *                 "mtu": 1500, "up": true}, ... ],
 *     "traffic": [ {"kind": "stream", "from": "alice", "to": "server",
 *                   "port": 9000, "bytes": "1MiB", "at": "1s"},
 *                  {"kind": "lookup", "from": "alice", "name": "example.org.",
 *                   "type": "MX", "at": "2s"}, ... ],
 *     "faults": [ {"kind": "link_down", "link": "alice-r1", "at": "2s", "until": "5s"},
 *                 {"kind": "crash", "host": "server", "at": "3s", "until": "4s"} ]
 *     (every fault kind: scn_fault.h and FORMAT.md)
 *   }
 *
 * Every error names the file, the JSON path and what was expected; the
 * loader never aborts on bad input. Names are checked for uniqueness and
 * references resolved here, so a config that loads can be built.
 */
#ifndef MAILSIM_SCN_H
#define MAILSIM_SCN_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "scn_fault.h"
#include "scn_json.h"
#include "scn_msgs.h"
#include "sim_net.h"

/* A DNS blocklist an MX asks (mta "dnsbl", RFC 5782). */
typedef struct {
  char *zone;  /* "bl.example.net" (no final dot) */
  bool reject; /* "mode": "reject" = 554 5.7.1 at RCPT; false: "score" */
  int weight;  /* score mode: tenths added to the spam score (default 26) */
  char *rule;  /* the spam rule's name; NULL = "RCVD_IN_DNSBL" */
} scn_dnsbl;

/* A spam rule weight set by the scenario (mta "spam"."rules"). */
typedef struct {
  char *name; /* spam.h rule name */
  int tenths;
} scn_rule_weight;

/* An MX's filter settings beyond the "filters" switch (scn_filters.c);
 * every field's zero/NULL value means the mx_filters.h default. */
typedef struct {
  bool greylist_off;          /* "greylist": false */
  sim_time gl_retry_window;   /* Postgrey --retry-window (2 d) */
  sim_time gl_max_age;        /* --max-age (35 d) */
  int64_t gl_awl_clients;     /* --auto-whitelist-clients (5); -1 = default, 0 = off */
  GArray *dnsbl;              /* scn_dnsbl, in order */
  bool has_tag, has_reject;   /* the thresholds were given */
  int spam_tag, spam_reject;  /* tenths; "reject": null = never */
  GArray *rule_weights;       /* scn_rule_weight */
  GPtrArray *subject_keywords; /* char* */
  GPtrArray *public_suffixes; /* char*; NULL = the default list */
} scn_filters;

/* What an MTA host runs (role "mta"). */
typedef struct {
  char *hostname;      /* greeting and Received name; default: the host name */
  GPtrArray *domains;  /* char*: domains it is the final MX for */
  bool submission;     /* port 587: AUTH (after STARTTLS) required */
  bool mx;             /* port 25: takes mail for its domains (and relays for
                          authenticated users) */
  char *mailbox_host;  /* where its domains' mail is stored (a "mailbox" host) */
  char *retry;         /* retry profile: "postfix" (default), "exim", "opensmtpd" */
  char *smarthost;     /* NULL: MX routing */
  bool filters;        /* port 25 checks: greylisting, SPF, DKIM, DMARC, spam
                          (hosts/mx_filters.h defaults) */
  sim_time greylist_delay; /* 0: the default (300 s) */
  char *dkim_domain;   /* DKIM signing at submission (d=), or NULL */
  char *dkim_selector; /* s=; the Ed25519 key comes from the run's seed and
                          its TXT record is published in the domain's zone */
  scn_filters filt;    /* with filters: greylisting, DNSBL, spam, DMARC settings */
  bool tls_encrypt;    /* "tls_policy": "encrypt" (TLS required when delivering);
                          false: "may" (opportunistic, the default) */
} scn_mta;

/* What a mailbox host runs (role "mailbox"). */
typedef struct {
  GPtrArray *domains; /* char* */
  bool imap, pop3;    /* ports 143 and 110 */
  uint64_t quota;     /* bytes per user, 0 = none */
  char *spam_folder;  /* where X-Spam-Flag: YES mail goes; NULL = "Junk" */
} scn_mailbox;

typedef struct {
  char *name;
  char *role;       /* "mua", "mta", "mailbox", "dns", "resolver", "router", or
                       free text for generic hosts */
  GPtrArray *addrs; /* of char*, IPv4/IPv6 literals, validated */
  bool has_pos;
  int64_t x, y;
  char *resolver;   /* host name of the recursive resolver it asks; NULL: none */
  GPtrArray *zones; /* role "dns": origins of the zones it serves (char*) */
  scn_mta mta;
  scn_mailbox mailbox;
} scn_host;

/* A DNS zone: its origin and records in master-file form
 * ("name TTL IN TYPE rdata", names relative to the origin with "@"). */
typedef struct {
  char *origin;
  GPtrArray *records; /* char* */
} scn_zone;

typedef enum { SCN_FETCH_NONE, SCN_FETCH_IMAP, SCN_FETCH_POP3 } scn_fetch_proto;

typedef struct {
  char *address;   /* local@domain */
  char *password;
  char *client;    /* host name of the user's mail client (role "mua") */
  char *submit;    /* MTA host the client submits to (port 587) */
  char *mailbox;   /* mailbox host holding the user's mail; NULL: none here */
  scn_fetch_proto fetch;
  sim_time every;  /* how often the client fetches */
  bool keep;       /* POP3: leave messages on the server */
  char *sieve;     /* the user's Sieve script at the mailbox host (text, from
                      "sieve" or the file "sieve_file"), or NULL */
} scn_user;

typedef struct {
  char *name, *type;
  uint64_t size;
} scn_attachment;

/* A message to send. Its strings live in the config's message store
 * (scn_msgs.h: its own strings by page, addresses once for all) and its
 * arrays are shared when empty or of one address: read-only. */
typedef struct scn_message {
  char *id;            /* stable key in the trace ("m1") */
  char *from;          /* a user's address */
  GPtrArray *to, *cc, *bcc;
  char *subject, *text, *html;
  GArray *attachments; /* scn_attachment */
  sim_time at;
} scn_message;

typedef struct {
  char *a, *b; /* host names */
  sim_link_params params;
  bool up;
} scn_link;

typedef enum { SCN_TRAFFIC_STREAM, SCN_TRAFFIC_LOOKUP, SCN_TRAFFIC_COUNT } scn_traffic_kind;

/* A stream: FROM sends BYTES to TO:PORT. A lookup: FROM asks its resolver
 * for NAME/QTYPE. */
typedef struct {
  scn_traffic_kind kind;
  char *from, *to;
  uint16_t port;
  uint64_t bytes;
  char *name;
  uint16_t qtype;
  sim_time at;
} scn_traffic;

/* The mail services "tls" can turn on or off one by one (scenarios/FORMAT.md):
 * submission (port 587, client to MTA), relay (port 25, MTA to MTA), lmtp
 * (the final MX to its mailbox host), imap and pop3 (retrieval). */
typedef enum {
  SCN_TLS_SVC_SUBMISSION,
  SCN_TLS_SVC_RELAY,
  SCN_TLS_SVC_LMTP,
  SCN_TLS_SVC_IMAP,
  SCN_TLS_SVC_POP3,
  SCN_TLS_SVC__COUNT
} scn_tls_service;
#define SCN_TLS_SVC_ALL ((1u << SCN_TLS_SVC__COUNT) - 1)
/* The service's key in "tls": "submission", "relay", "lmtp", "imap", "pop3". */
const char *scn_tls_service_name(scn_tls_service s);

typedef struct scn_config {
  char *file;
  char *name;
  char *description;
  uint64_t seed;
  sim_time duration;
  GArray *hosts;   /* scn_host */
  GArray *links;   /* scn_link */
  GArray *traffic; /* scn_traffic */
  GArray *faults;  /* scn_fault (scn_fault.h) */
  GArray *zones;    /* scn_zone */
  GArray *users;    /* scn_user */
  scn_msgs *messages; /* scn_message, in the file's order (scn_msgs.h) */
  int64_t epoch_unix; /* wall-clock date of simulated time 0 (Date headers) */
  GHashTable *host_idx; /* name -> index + 1 (lookup only; the loader fills it) */
  GHashTable *user_idx; /* lower-case address -> index + 1 (lookup only) */
  bool tls;             /* some mail service speaks TLS (tls_services != 0) */
  unsigned tls_services; /* the services that speak TLS (STARTTLS/STLS), a set
                            of 1u << scn_tls_service; default all; "tls":
                            false: none, plain text everywhere (benchmarks) */
  bool keep_messages;   /* not read from the file: set by `mailsim run
                           --keep-messages` before building the world; the
                           mailbox hosts trace the stored bytes
                           (hosts/mailbox_keep.h) */
  bool release_messages; /* not read from the file: set by a caller whose
                           next world is the config's last use (`mailsim
                           run`); that world releases each message once it
                           has sent it (scn_msgs_release), and the config's
                           messages cannot be read after the run */
  struct scn_chaos *chaos; /* the "chaos" key (scn_chaos.h), or NULL */
} scn_config;

/* Whether host H of C serves a mail service over TLS: an MTA on submission
 * or relay, a mailbox host on lmtp, imap or pop3 (what TLS faults need). */
bool scn_tls_server(const scn_config *c, const scn_host *h);

/* Loads and checks a scenario file. NULL and *err (SCN_ERROR) on failure. */
scn_config *scn_load(const char *path, GError **err);
/* Same, from memory; FILE names the source in messages. */
scn_config *scn_parse(const char *file, const char *json, size_t len, GError **err);
void scn_config_free(scn_config *c);

/* Index of the host called NAME, or -1. */
int scn_find_host(const scn_config *c, const char *name);
/* The zone holding NAME (absolute, with its final dot): the one with the
 * longest origin that NAME is under, or NULL. */
const scn_zone *scn_zone_for(const scn_config *c, const char *name);
/* The user with ADDRESS (case-insensitive), or NULL. */
const scn_user *scn_find_user(const scn_config *c, const char *address);

#endif
