/* mta_int.h — internals shared by mta.c (queue, disk, DSNs, account),
 * mta_smtpd.c (server side) and mta_deliver.c (delivery side). */
#ifndef MAILSIM_MTA_INT_H
#define MAILSIM_MTA_INT_H

#include "mta.h"
#include "mta_dsn.h"
#include "mta_queue.h"
#include "mta_retry.h"
#include "mta_route.h"
#include "mail_trace.h"
#include "smtp_glue.h"

/* Per queued message the host keeps nothing of its own: the queue's
 * message (mta_queue.h) carries it. body_id is the host's message number
 * (seq: disk keys, the traced queue id), tag the Message-ID without <>
 * only when the stored body does not hold it verbatim (read it with
 * mta__tag: the account entry says where it is in the body),
 * user the recipients of the current attempt still without a result. */

/* The account kept by the simulator (survives crashes): one per seq. */
enum { MTA__ACC_NONE, MTA__ACC_QUEUED, MTA__ACC_DONE };
typedef struct { /* 8 octets: one per message the host ever accepted */
  union {
    uint32_t qid;       /* MTA__ACC_QUEUED: in the current incarnation; 0 unknown */
    uint32_t delivered; /* MTA__ACC_DONE */
  };
  union { /* one 32-bit word: the views below share its top flags */
    struct {                 /* MTA__ACC_QUEUED */
      unsigned tag_off : 16; /* where the stored body holds the Message-ID */
      unsigned tag_len : 8;  /* its length (0: the queue's tag has it) */
      unsigned : 8;
    };
    struct {                 /* MTA__ACC_DONE */
      unsigned bounced : 24; /* < 2^24 (asserted) */
      unsigned : 8;
    };
    struct {
      unsigned : 24;
      unsigned state : 2; /* MTA__ACC_* */
      unsigned null_sender : 1, is_dsn : 1;
      unsigned dsn_sent : 1; /* a failure DSN reporting its bounces was queued */
      unsigned : 3;
    };
  };
} mta__acc;
#define MTA__ACC_TAG_OFF_MAX 0xFFFFu /* past it the queue keeps the tag */

typedef struct mta__dest mta__dest;

/* Ended SMTP engines kept a host, each side (connections overlap: with
 * one spare a new engine was made for one session in seven). Two, not
 * four, here and for agents (and four transactions, not eight): four
 * saved 2.6 M more instructions on load-notls.json but held ~0.13 MB
 * more at the q-worlds' peaks (bench/README.md, branch alloc9). */
#define MTA__ENGINE_SPARES 2
/* Ended delivery agents kept a host (mta_deliver.c). */
#define MTA__AGENT_SPARES 2
/* Ended delivery transactions' blocks kept a host (mta_deliver.c). */
#define MTA__TXN_SPARES 4

struct mta_host {
  host *h;
  char *hostname;
  GPtrArray *locals; /* char* */
  bool submission, mx, verify_local, ipv6;
  char *mailbox_host;
  uint16_t mailbox_port;
  mta_retry_profile retry;
  int64_t retry_gap, null_retry_gap; /* longest wait between two tries (msg.queue) */
  unsigned rcpt_limit;
  int64_t conn_cache_time;
  int64_t reuse_time_limit;
  int64_t epoch;
  userdir *users;
  tls_host *tls;
  dns_client *dns;
  mta_route *route;
  mta_policy_config policy_cfg;
  mta_filter_fn filter;
  void *filter_user;
  mta_signer_fn signer;
  void *signer_user;
  mta_fault_hooks faults; /* issue 10; all NULL: none */
  mta_tls_policy tls_policy;
  mta_queue_texts *texts; /* shared reply texts (borrowed), or NULL */

  /* machine state: dropped on a crash */
  bool up;
  mta_queue *q;
  mta_policy *policy;
  sim_tcp_listener *lis25, *lis587;
  GPtrArray *conns;     /* mta__conn*, server side */
  struct mta__conn *spare_conn; /* ended server connections' blocks, a list (mta_smtpd.c) */
  session *spare_s;     /* ended sessions' blocks, both sides, a list (session_keep) */
  /* ended server engines, reused by the next (smtp_srv_renew), and the
   * same for delivery agents (smtp_cli_renew): lists of at most
   * MTA__ENGINE_SPARES (smtp_srv_keep_upto, smtp_cli_keep_upto) */
  smtp_srv *spare_srv;
  smtp_cli *spare_cli;
  /* a next hop's freed work state and route decision, for the next one to
   * start work (mta_deliver.c: one malloc a resolution less each) */
  struct dwork *spare_work;
  mta_route_decision *spare_dec;
  /* ended delivery agents with their lists (agent_end), for the next */
  struct mta__agent *spare_agent[MTA__AGENT_SPARES];
  unsigned n_spare_agent;
  struct mta__txn *spare_txn[MTA__TXN_SPARES]; /* ended transactions' blocks (mta_deliver.c) */
  unsigned n_spare_txn;
  GArray *spare_waiting;
  struct mta__lookup *spare_lookup; /* a finished DNS lookup's block (mta_deliver.c) */
  GPtrArray *spare_lookups;         /* a resolution's emptied list of lookups */
  struct mta__target *spare_target; /* a resolved name's block and emptied address list */
  GPtrArray *spare_mx;              /* a resolution's emptied list of exchanges */ /* an emptied next hop's waiting list (mta_deliver.c waiting_drop) */
  /* a queue run's lists (due messages, next hops touched), kept for the
   * next run while small (mta__run_queue); NULL while a run holds them */
  GArray *run_qids;
  GPtrArray *run_touched;
  GHashTable *dest_idx; /* nexthop -> mta__dest* (lookup only) */
  GPtrArray *dests;     /* mta__dest*, creation order */
  GPtrArray *agents;    /* delivery agents, creation order */
  GPtrArray *blocked;   /* mta__dest* waiting for process_limit, first come first */
  unsigned busy;        /* agents delivering (not idle in the connection cache) */
  unsigned process_limit;
  sim_event_id unblock_ev; /* a pending turn for the blocked next hops */
  GArray *dsn_retry;    /* qids whose DSN could not be stored yet */
  GByteArray *rec;      /* record encoding buffer */
  sim_event_id run_timer;
  sim_time run_at;
  uint64_t seq; /* next message number (also on disk) */
  uint64_t next_ticket, next_sid;

  /* the simulator's account: survives crashes */
  GArray *acc; /* mta__acc, index seq - 1 */
  mta_host_stats st;
};

/* mta.c */
void mta__key(char *buf, size_t n, const char *kind, uint64_t seq);
/* SEQ as a queue id ("%06" PRIX64) into BUF of N >= 17 octets. */
void mta__queue_id(char *buf, size_t n, uint64_t seq);
/* A queued message's traced queue id, in BUF (MTA__QID_BUFSZ octets). */
#define MTA__QID_BUFSZ 20
const char *mta__qid_text(const mta_msg *qm, char *buf);
/* The Message-ID (without <>) of queued message QM: its queue tag, or
 * read from its stored body into BUF (MTA__TAG_BUFSZ octets). Borrowed
 * until the message's next change. */
#define MTA__TAG_BUFSZ 256
const char *mta__tag(mta_host *m, const mta_msg *qm, char *buf);
/* The stored body of SEQ and its length (borrowed from the disk), or NULL. */
const uint8_t *mta__body(mta_host *m, uint64_t seq, size_t *len);
/* Stores a new message (body already final: its NBODY parts one after the
 * other, copied once into the disk's blob) and queues it; returns its
 * qid, or 0 when the disk is full (nothing kept). */
typedef struct {
  const char *sender;
  const char *const *rcpts;
  size_t nrcpts;
  const disk_part *body;
  size_t nbody;
  uint64_t seq;
  const char *msgid;
  uint32_t dsn_of;
} mta__store_args;
uint32_t mta__store(mta_host *m, const mta__store_args *a);
uint64_t mta__next_seq(mta_host *m);
char *mta__make_msgid(mta_host *m, uint64_t seq);
/* The same into BUF (BUFSZ octets) when it fits, else a new string. */
char *mta__make_msgid_buf(mta_host *m, uint64_t seq, char *buf, size_t bufsz);
/* The queued message QID (asserts it is queued). */
const mta_msg *mta__msg_get(mta_host *m, uint32_t qid);
void mta__rewrite(mta_host *m, uint32_t qid);
/* The attempt of QID has every result: end it, trace, DSN, disk. */
void mta__finish_attempt(mta_host *m, uint32_t qid);
/* Begins an attempt on QID; false when it expired instead (then its
 * bounces are reported and it may have left). */
bool mta__begin(mta_host *m, uint32_t qid);
/* The Message-ID of a field's raw value RAW (RAW_LEN octets, folding
 * kept; mta_policy_scan_header's view): unfolded, stripped, without its
 * <>. Written into BUF (BUFSZ octets) when RAW_LEN < BUFSZ, else a new
 * string (the caller frees a result that is not BUF); NULL when RAW is
 * NULL or the value empty. */
#define MTA__ID_BUFSZ 256
char *mta__msgid_of(const char *raw, size_t raw_len, char *buf, size_t bufsz);
void mta__kick_runner(mta_host *m, sim_time at);
/* Traces msg.queue for a message just stored with SENDER ("" = null). */
void mta__trace_queue(mta_host *m, const char *msgid, const char *queue_id, mail_rcpts r,
                      const char *sender);
void mta__dsn_retry(mta_host *m);

/* mta_smtpd.c */
void mta__smtpd_start(mta_host *m);
void mta__smtpd_drop(mta_host *m); /* crash / free: forget connections */

/* mta_deliver.c */
void mta__run_queue(mta_host *m);
void mta__deliver_drop(mta_host *m);

#endif
