/* smtp_peers.h — test peers for MTA-level suites: an SMTP sink standing
 * in for a mailbox host or a remote MX, an SMTP client (submission on 587
 * or a direct sender on 25), and the host table of their worlds. Shared by
 * test_mta_host.c and test_mx_filters.c. */
#ifndef MAILSIM_SMTP_PEERS_H
#define MAILSIM_SMTP_PEERS_H

#include "smtp_glue.h"
#include "tls_host.h"

typedef struct {
  host *h;
  sim_tcp_listener *lis;
  sim_time temp_until; /* 450 4.7.1 to every RCPT before this */
  GPtrArray *conns;    /* sconn* */
  int messages;
  GPtrArray *rcpts;   /* every accepted recipient (char*) */
  GPtrArray *bodies;  /* GString* */
  GPtrArray *senders; /* char* */
  sim_time last_at;
  guint max_conns; /* most connections open at once */
} sink;

typedef struct {
  sink *k;
  smtp_srv *srv;
  session *s;
  smtp_glue_trace tr;
} sconn;

typedef struct {
  host *h;
  tls_host *tls;
  const char *to_addr;
  uint16_t port;
  bool tls_on, auth;
  const char *user, *pass;
  const char *from;
  const char *rcpts[24];
  size_t nrcpts;
  const char *body;
  int copies; /* messages per session (0 = 1) */
  /* results */
  smtp_cli *cli;
  session *s;
  smtp_glue_trace tr;
  int results;
  unsigned ok, temp, perm;
  int last_code;
  char last_esc[16];
} client;

void sconn_free(sconn *c);
/* The sink's accept callback (sim_tcp_listen(node, 25, sink_accept, sink)). */
void sink_accept(void *lu, sim_tcp_conn *tc, const sim_tcp_callbacks **cb, void **user);
/* Starts client A (a client*) now: connect, (STARTTLS, AUTH,) send. */
void cli_start(void *a, void *b);

/* Runs W until T; with MTA_TEST_DUMP set, writes TW's trace so far there
 * (for a person reading a failure). */
void peers_run(sim_world *w, trace_writer *tw, sim_time t);
/* How many times NEEDLE occurs in HAY. */
size_t peers_count(const char *hay, const char *needle);
/* Fails the test unless both MTAs' own accounts (mta_host_check) are clean. */
struct mta_host;
void peers_assert_clean(struct mta_host *a, struct mta_host *b);

/* ---- the world ---- */

enum { H_ROUTER, H_NS, H_RES, H_MTA_A, H_MTA_B, H_SINK_A, H_SINK_B, H_SINK_C, H_CLIENT, H__N };
static const char *const hnames[H__N] = {"internet", "ns",     "resolver", "mta-a", "mta-b",
                                         "sink-a",   "sink-b", "sink-c",   "client"};
static const char *const haddrs[H__N] = {"10.0.0.1",   "198.41.0.4", "192.0.2.53",
                                         "192.0.2.10", "192.0.2.20", "192.0.2.31",
                                         "192.0.2.30", "192.0.2.40", "192.0.2.100"};

#endif
