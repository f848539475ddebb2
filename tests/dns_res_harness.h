/* dns_res_harness.h — the test network for the resolver engine: in-memory
 * authoritative servers built from dns_zone (root 10.0.0.1/.2, org
 * 10.1.0.1/.2, com 10.2.0.1, example.org 10.3.0.1/.2 and 2001:db8:3::1
 * (AAAA glue of ns1), example.com and
 * glueless.org 10.4.0.1) and a harness that runs a dns_res engine against
 * them: it pulls actions, answers each with dns_zone_respond_wire (or drops
 * it, refuses it, forges around it, mutates it, as configured), feeds the
 * replies back (TCP byte by byte or split at one point) and advances
 * simulated time to the engine's deadline when nothing is in flight. */
#ifndef MAILSIM_DNS_RES_HARNESS_H
#define MAILSIM_DNS_RES_HARNESS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dns_res.h"

#define S INT64_C(1000000000)
#define MS INT64_C(1000000)

typedef struct harness harness;
struct harness {
  dns_res *r;
  uint64_t seed;
  int64_t now;
  const char *down[4];   /* addresses that drop every query */
  const char *refuse[4]; /* addresses that answer with a network error */
  const char *old[4];    /* addresses that answer EDNS queries with FORMERR */
  int no_opt;            /* queries sent without EDNS */
  ssize_t tcp_split;     /* -1: TCP replies byte by byte; else in two parts */
  bool spoof;            /* precede each UDP reply by forged and broken ones */
  bool poison;           /* 10.3.0.x add out-of-bailiwick data to answers */
  bool want_rd;          /* the RD bit queries must carry */
  /* Stub mode: queries to up_addr are answered by the engine of UP. */
  harness *up;
  const char *up_addr;
  bool up_down;
  bool up_no_soa; /* its negative answers come without SOA */
  /* Fuzz: mutate replies with this generator state when non-zero. */
  uint64_t fuzz;
  GPtrArray *sends; /* "udp 10.0.0.1 example.org. MX" */
  GString *trace;   /* every action and event, for determinism */
  GArray *done;     /* dns_res_event, DONE events */
  GHashTable *open; /* open action ids (lookup only) */
};

/* Builds and frees the zones (a Check fixture). */
void zones_setup(void);
void zones_teardown(void);

/* splitmix64 over the uint64_t state at USER. */
uint64_t splitmix(void *user);

/* A harness whose engine has MODE, env.rand = splitmix from SEED, the root
 * hints (recursive) or forwarder 10.53.0.1 (stub), the defaults changed by
 * TWEAK (may be NULL). Time starts at 1000 s. */
harness *h_new(dns_res_mode mode, uint64_t seed, void (*tweak)(dns_res_config *));
/* The same; STATE_TRACE false: the engine gets no env.trace hook (no
 * "st ..." lines in h->trace). */
harness *h_new_env(dns_res_mode mode, uint64_t seed, void (*tweak)(dns_res_config *),
                   bool state_trace);
void h_free(harness *h);

/* Runs the engine until no lookup is pending; asserts every action closed. */
void h_pump(harness *h);

/* Looks QNAME/QTYPE up to completion; returns the DONE event (borrowed
 * from h->done). h->sends holds the queries it sent. */
const dns_res_event *h_resolve(harness *h, const char *qname, uint16_t qtype);

/* Records as text, " | " between them; g_free it. */
char *rrs_text(const GArray *a);

void assert_sends(const harness *h, const char *const *want, size_t n);
void assert_rrs(const GArray *a, const char *want);
/* Occurrences of NEEDLE in h->trace. */
uint64_t count_trace(const harness *h, const char *needle);

#define SENDS(h, ...)                                                                              \
  do {                                                                                             \
    static const char *const w_[] = {__VA_ARGS__};                                                 \
    assert_sends(h, w_, G_N_ELEMENTS(w_));                                                         \
  } while (0)
#define NO_SENDS(h) assert_sends(h, NULL, 0)

#endif
