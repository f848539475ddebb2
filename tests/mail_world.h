/* mail_world.h — test fixture: a small simulated world of mail hosts
 * around one router, with TLS identities, and an SMTP sender that
 * delivers one message to a host's port 25 (as an MX would). */
#ifndef MAILSIM_TEST_MAIL_WORLD_H
#define MAILSIM_TEST_MAIL_WORLD_H

#include "host.h"
#include "smtp_glue.h"
#include "tls_host.h"

#define MW_MAX 8

typedef struct {
  sim_world *w;
  trace_writer *tw;
  tls_world *tlw;
  host *router;
  host *h[MW_MAX];
  tls_host *th[MW_MAX];
  int n;
  uint32_t mtu; /* of the links mw_add makes; 0 = 1500 */
} mail_world;

/* A world with SEED tracing at DETAIL into memory. */
void mw_init(mail_world *x, uint64_t seed, sim_detail detail);
/* Adds host NAME with address ADDR linked to the router (20 ms), with a
 * TLS certificate for TLS_NAME (NULL: none). Returns the host; *TH (may be
 * NULL) gets its TLS identity. */
host *mw_add(mail_world *x, const char *name, const char *addr, const char *tls_name,
             tls_host **th);
/* The trace so far (borrowed). */
const char *mw_trace(const mail_world *x);
/* Frees hosts, TLS and the world (free services first). */
void mw_free(mail_world *x);

/* Occurrences of NEEDLE in HAY. */
int mw_count(const char *hay, const char *needle);

/* One SMTP delivery: FROM_HOST connects to TO:25 at time AT and sends
 * DATA from MAIL_FROM to RCPTS (NULL-terminated, the first 32 sent; codes
 * kept for the first 8). Results land in the
 * struct when the session ends. */
typedef struct {
  host *h;
  smtp_cli *cli;
  smtp_glue_trace tr;
  session *s;
  const char *const *rcpts;
  const char *mail_from;
  const char *data;
  sim_addr to;
  bool done;
  unsigned ok, temp, perm;
  int codes[8]; /* reply code per recipient */
} mw_sender;

void mw_send_at(mail_world *x, mw_sender *snd, host *from, const char *to_addr, sim_time at,
                const char *mail_from, const char *const *rcpts, const char *data);
void mw_sender_clear(mw_sender *snd);

#endif
