/* mta_queue.h — an MTA's mail queue as data: messages with per-recipient
 * state, due-time order, grouping by next-hop destination, statistics, a
 * byte encoding for the host's (simulated) disk, and the accounting that
 * proves nothing accepted was lost.
 *
 * The life of a message (the host drives it; nothing here reads a clock):
 *   qid = mta_queue_add(q, &add);            store the record, then send 250
 *   at mta_queue_next_due(): mta_queue_due(q, now, qids)
 *   for each qid: mta_queue_begin_attempt()  (false: it expired → bounced)
 *     for each recipient tried: mta_queue_take(), later mta_queue_result()
 *   mta_queue_end_attempt()                  → retry time from mta_retry, or bounce
 *   if mta_queue_needs_dsn(): build a DSN (mta_dsn) from the bounced
 *     recipients, queue it with a null sender and dsn_of = qid, then
 *     mta_queue_dsn_queued(q, qid, dsn_qid)
 * A message whose recipients are all delivered or bounced, and whose
 * bounces are reported (or whose sender is null: never a bounce of a
 * bounce, RFC 5321 §4.5.5, RFC 3464 §2), leaves the queue for a small
 * ledger entry that mta_queue_check() reads.
 *
 * Recipient states (the legal transitions):
 *   PENDING  → DELIVERED | DEFERRED | BOUNCED
 *   DEFERRED → DELIVERED | DEFERRED | BOUNCED
 *   DELIVERED, BOUNCED are final.
 *
 * Order: messages due at the same time come in queue-id order; queue ids
 * are a per-queue counter from 1. Destination lists are sorted by name.
 */
#ifndef MAILSIM_MTA_QUEUE_H
#define MAILSIM_MTA_QUEUE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mta_retry.h"
#include "smtp_cli.h"

typedef struct mta_queue mta_queue;

typedef enum {
  MTA_RCPT_PENDING,
  MTA_RCPT_DEFERRED,
  MTA_RCPT_DELIVERED,
  MTA_RCPT_BOUNCED,
  MTA_RCPT__COUNT
} mta_rcpt_state;
const char *mta_rcpt_state_name(mta_rcpt_state s);

/* A recipient's last reply: what the server (or the local reason) said,
 * and which host said it. Interned and shared (read-only for users): the
 * same reply to many recipients ("mx.d3.test[10.0.0.3]: Connection
 * refused" to every recipient deferred there) is held once, in the
 * queue's text table (mta_queue_texts), its strings in the same block;
 * but a delivery's reply (unique: it names the next host's queue id) is
 * the recipient's own block, not interned (compare replies by their
 * strings, never by pointer). */
typedef struct {
  const char *text;       /* diagnostic (reply text or local reason), or NULL */
  const char *remote_mta; /* host that gave it, or NULL */
  uint32_t refs;          /* internal */
  uint16_t code;          /* reply code, 0 none */
  char esc[10];           /* enhanced status "4.7.1", "" none */
} mta_reply;

/* One recipient (read-only for users; strings owned by the queue). 32
 * octets (issue #6: was 56): the reply's four fields are one shared
 * pointer, the destination a number. */
typedef struct {
  const char *addr;       /* "bob@b.example" (inside the message's block) */
  const mta_reply *reply; /* the last result's reply, or NULL: none yet */
  int64_t last_try;       /* time of the last result, or -1 */
  uint32_t dest;          /* next-hop grouping key: mta_queue_rcpt_dest */
  uint16_t attempts;      /* results recorded for this recipient */
  uint8_t state;          /* mta_rcpt_state */
  uint8_t flags;          /* MTA_RCPT_F_* */
} mta_rcpt;

/* R's last reply, field by field (0, "" or NULL when none). */
static inline uint16_t mta_rcpt_code(const mta_rcpt *r) { return r->reply ? r->reply->code : 0; }
static inline const char *mta_rcpt_esc(const mta_rcpt *r) { return r->reply ? r->reply->esc : ""; }
static inline const char *mta_rcpt_text(const mta_rcpt *r) {
  return r->reply ? r->reply->text : NULL;
}
static inline const char *mta_rcpt_remote_mta(const mta_rcpt *r) {
  return r->reply ? r->reply->remote_mta : NULL;
}

enum {
  MTA_RCPT_F_INFLIGHT = 1u << 0, /* taken, result not yet known */
  MTA_RCPT_F_REPORTED = 1u << 1, /* BOUNCED and covered by a queued DSN */
};

/* One queued message (read-only for users). The message, its recipient
 * array and its strings (sender, addresses, tag) are one allocation: the
 * queue keeps what scheduling and the record need, nothing twice. The
 * block is [mta_msg][rcpts][retry memory][each address NUL][sender NUL][tag NUL]:
 * the sender and the tag are found from there (mta_queue_msg_sender,
 * mta_queue_msg_tag), not pointed at (issue #6: 56 octets, was 112). The
 * retry memory (mta_retry_state) is there only when the queue keeps one
 * (mta_queue_set_retry_room: only Exim's profile writes it). A message
 * added with borrowed strings (mta_queue_add_args.borrow) holds none of
 * them: [mta_msg][rcpts][retry memory][tag NUL]; its sender lies just
 * before its first address (in the caller's envelope, then in its record),
 * SENDER_BACK octets before it, so no pointer to it is kept either. */
typedef struct {
  int64_t arrival;    /* when it was accepted */
  int64_t due;        /* next attempt (INT64_MAX: none scheduled) */
  uint32_t body_id;   /* the host's reference to the body, opaque */
  uint32_t size;      /* octets of the body */
  uint32_t qid;
  uint32_t attempts;  /* delivery attempts begun */
  uint32_t dsn_of;    /* this is a DSN about message dsn_of (0: not a DSN) */
  uint32_t dsn_qid;   /* the last DSN queued about this message (0: none) */
  uint32_t nrcpts;
  uint32_t user;      /* the host's word (mta_queue_user); the queue never reads it */
  int32_t heap_idx;    /* internal: position in the due heap, -1 if none */
  uint8_t warnings;        /* delay warnings sent (mta_queue_warning_due) */
  bool in_attempt : 1;     /* between begin_attempt and end_attempt */
  bool expire_pending : 1; /* opensmtpd: due is the expiry, not an attempt */
  unsigned layout : 3;     /* internal: MTA_MSG_TAGGED, MTA_MSG_BORROWED, MTA_MSG_RETRY */
  uint16_t sender_back;    /* internal: the sender starts this far before rcpts[0].addr */
  mta_rcpt rcpts[];        /* nrcpts */
} mta_msg;

enum { MTA_MSG_TAGGED = 1u << 0, MTA_MSG_BORROWED = 1u << 1, MTA_MSG_RETRY = 1u << 2 };

/* What follows M's recipients and retry memory (internal). */
static inline const void *mta_queue__msg_tail(const mta_msg *m) {
  const char *end = (const char *)&m->rcpts[m->nrcpts];
  return (m->layout & MTA_MSG_RETRY) ? end + sizeof(mta_retry_state) : end;
}
/* The reverse path of M ("" = null sender): borrowed, just before its
 * first address; or in M's block, after its last. */
static inline const char *mta_queue_msg_sender(const mta_msg *m) {
  if (m->layout & MTA_MSG_BORROWED)
    return m->rcpts[0].addr - m->sender_back;
  const char *last = m->rcpts[m->nrcpts - 1].addr;
  return last + strlen(last) + 1;
}
/* The host's label of M (mta_queue_add_args.tag), or NULL. */
static inline const char *mta_queue_msg_tag(const mta_msg *m) {
  if (!(m->layout & MTA_MSG_TAGGED))
    return NULL;
  if (m->layout & MTA_MSG_BORROWED)
    return (const char *)mta_queue__msg_tail(m);
  const char *sender = mta_queue_msg_sender(m);
  return sender + strlen(sender) + 1;
}
/* M's retry memory (what mta_retry_after_failure keeps between attempts),
 * or NULL when the queue keeps none for it (then it is all zero). */
static inline const mta_retry_state *mta_queue_msg_retry(const mta_msg *m) {
  return (m->layout & MTA_MSG_RETRY) ? (const mta_retry_state *)(const void *)&m->rcpts[m->nrcpts]
                                     : NULL;
}

/* A new, empty queue whose ids start at 1. */
mta_queue *mta_queue_new(void);

/* Reply texts and remote MTA names that several queues share (e.g. every
 * MTA of a world: "mx.d3.test[10.0.0.3]: Connection refused" is held once,
 * not once per queue that tried that host). Reference-counted strings; no
 * order of the table reaches anything. Not thread-safe: the queues that
 * share it run on one thread. Freed after every queue that uses it
 * (asserted: every text released). */
typedef struct mta_queue_texts mta_queue_texts;
mta_queue_texts *mta_queue_texts_new(void);
void mta_queue_texts_free(mta_queue_texts *t);
/* A new, empty queue interning its texts in TEXTS (borrowed; must outlive
 * the queue), or in a table of its own when TEXTS is NULL. */
mta_queue *mta_queue_new_shared(mta_queue_texts *texts);
void mta_queue_free(mta_queue *q);
/* Whether messages queued from now on keep room for a retry memory
 * (mta_retry_state, 16 octets a message; mta_retry_keeps_state says which
 * profiles write one: Exim's). Default true. A message without room that
 * an attempt's profile would give a retry memory aborts the attempt's end
 * (API misuse); a record decoded with a retry memory always gets room. */
void mta_queue_set_retry_room(mta_queue *q, bool room);

/* What is accepted. Strings and arrays are copied; BODY (may be NULL) is
 * referenced. DESTS may be NULL (then each recipient's domain, lower-cased,
 * is its destination) or give one next-hop name per recipient. */
typedef struct {
  const char *sender; /* "" or NULL = null sender */
  const char *const *rcpts;
  const char *const *dests;
  size_t nrcpts;
  GBytes *body;
  uint64_t body_id; /* at most UINT32_MAX (asserted) */
  uint64_t size; /* 0 with a body: its length; at most UINT32_MAX (asserted) */
  int64_t arrival;
  uint32_t dsn_of; /* a DSN about this qid: needs a null sender (asserted) */
  const char *tag; /* the host's label kept with the message (e.g. its
                      Message-ID), copied; NULL none. Not in the record. */
  /* SENDER and the RCPTS strings are borrowed, not copied: they must stay
   * valid until mta_queue_msg_rebase points the message at a record of it
   * (mta_queue_msg_encode's octets, kept by the caller), whose strings it
   * borrows from then on, until the next rebase or until it leaves the
   * queue. For a host that keeps every record anyway (its disk): the
   * envelope is held once, not in the record and the queue. Honoured
   * only when RCPTS[0] starts right after SENDER's NUL (as in a record:
   * the queue keeps no pointer to the sender) and SENDER is shorter than
   * MTA_QUEUE_BORROW_MAX; otherwise the strings are copied. */
  bool borrow;
} mta_queue_add_args;

/* The longest sender a message may borrow (mta_queue_add_args.borrow). */
#define MTA_QUEUE_BORROW_MAX 65000u

/* Queues a message, due at once. Returns its queue id. At least one
 * recipient (asserted). */
uint32_t mta_queue_add(mta_queue *q, const mta_queue_add_args *a);

/* Takes back message QID, added but never acknowledged: its record could
 * not be stored, so the client got a 4xx and no 250. Asserts no attempt
 * was begun. The id is never issued again and mta_queue_check does not
 * count it as lost. */
void mta_queue_withdraw(mta_queue *q, uint32_t qid);

/* The message QID, or NULL when it is not (or no longer) queued. */
const mta_msg *mta_queue_get(const mta_queue *q, uint32_t qid);
/* The body given with message QID (mta_queue_add_args.body, or the one its
 * record held; borrowed), or NULL: none, or QID is not queued. Kept apart
 * from the message (a host keeping its bodies elsewhere pays nothing). */
GBytes *mta_queue_body(const mta_queue *q, uint32_t qid);
/* The host's word of message QID (mta_msg.user; 0 when added), writable
 * while QID is queued. Asserts QID is queued. */
uint32_t *mta_queue_user(mta_queue *q, uint32_t qid);

/* Earliest due time of any message, INT64_MAX when none. */
int64_t mta_queue_next_due(const mta_queue *q);
/* Appends to QIDS (GArray of uint32_t) every message due at NOW, in
 * (due, qid) order, without changing anything. Returns how many. */
size_t mta_queue_due(const mta_queue *q, int64_t now, GArray *qids);

/* Starts an attempt on QID at NOW: attempts + 1, out of the due order.
 * Returns false when the profile says the message has expired (opensmtpd
 * ttl): every unfinished recipient is then BOUNCED ("retry timeout
 * exceeded") and no attempt is counted. Asserts QID is queued and not in an
 * attempt already. */
bool mta_queue_begin_attempt(mta_queue *q, uint32_t qid, const mta_retry_profile *p, int64_t now);
/* Marks recipient I of QID as handed to a session (in an attempt). */
void mta_queue_take(mta_queue *q, uint32_t qid, uint32_t i);

/* A recipient's outcome. STATE is DELIVERED, DEFERRED or BOUNCED. ESC,
 * TEXT and REMOTE may be NULL. Asserts the recipient is unfinished. */
typedef struct {
  mta_rcpt_state state;
  int code;
  const char *esc;
  const char *text;
  const char *remote_mta;
} mta_queue_result_args;
void mta_queue_result(mta_queue *q, uint32_t qid, uint32_t i, const mta_queue_result_args *r,
                      int64_t now);

/* The queue's reading of one smtp_cli RESULT recipient: OK → DELIVERED,
 * TEMP → DEFERRED, PERM → BOUNCED; code, esc and text borrowed from R,
 * REMOTE_MTA (the host that answered, may be NULL) as given. */
void mta_queue_result_from_smtp(const smtp_cli_rcpt_result *r, const char *remote_mta,
                                mta_queue_result_args *out);

/* What an attempt came to. */
typedef struct {
  unsigned delivered, deferred, bounced; /* recipients in each state now */
  mta_retry_verdict verdict;             /* when some were deferred */
  int64_t next;                          /* next attempt / expiry (INT64_MAX: none) */
  bool needs_dsn;                        /* bounced recipients await a DSN */
  bool done;                             /* the message left the queue */
} mta_queue_outcome;

/* Ends the attempt on QID at NOW: recipients still PENDING and not in
 * flight count as DEFERRED; if any are deferred, P decides the next try
 * (mta_retry_after_failure) or that the message bounces (each deferred
 * recipient becomes BOUNCED, its last reason kept). Asserts no recipient is
 * still in flight. The message leaves the queue when done (see top). */
void mta_queue_end_attempt(mta_queue *q, uint32_t qid, const mta_retry_profile *p, int64_t now,
                           mta_queue_outcome *out);

/* True when QID has bounced recipients not yet covered by a DSN and a
 * non-null sender. */
bool mta_queue_needs_dsn(const mta_queue *q, uint32_t qid);
/* Records that DSN_QID reports every bounced recipient of QID; the message
 * leaves the queue if nothing else is left. */
void mta_queue_dsn_queued(mta_queue *q, uint32_t qid, uint32_t dsn_qid);

/* Is a delay warning (a DSN with Action: delayed for the deferred
 * recipients) due for QID at NOW under P (mta_retry_warning_at)? Never for
 * a null sender or without deferred recipients. When true, the caller
 * sends it and calls mta_queue_warning_sent. */
bool mta_queue_warning_due(const mta_queue *q, uint32_t qid, const mta_retry_profile *p,
                           int64_t now);
void mta_queue_warning_sent(mta_queue *q, uint32_t qid);

/* One recipient of one message. */
typedef struct {
  uint32_t qid;
  uint32_t rcpt;
} mta_queue_ref;

/* R's destination (the next-hop name its mail is grouped by, lower
 * case; borrowed, valid while Q lives). R is a recipient of a message of Q. */
const char *mta_queue_rcpt_dest(const mta_queue *q, const mta_rcpt *r);

/* Destinations with unfinished recipients, sorted, appended to NAMES (as
 * borrowed strings). Returns how many. */
size_t mta_queue_dests(const mta_queue *q, GPtrArray *names);
/* Appends to OUT (GArray of mta_queue_ref) the unfinished, not-in-flight
 * recipients for DEST of messages due at NOW (all of them when ANY_TIME),
 * in (due, qid, recipient) order: what may ride a session to DEST. */
size_t mta_queue_dest_ready(const mta_queue *q, const char *dest, int64_t now, bool any_time,
                            GArray *out);

typedef struct {
  uint64_t accepted;       /* messages added (DSNs included) */
  uint64_t dsns;           /* of which DSNs */
  uint64_t attempts;       /* attempts begun */
  uint64_t rcpt_delivered; /* recipient results */
  uint64_t rcpt_deferred;
  uint64_t rcpt_bounced;
  uint64_t dsn_suppressed; /* bounced recipients of null-sender messages */
  uint64_t done;           /* messages that left the queue */
  uint64_t queued;         /* messages queued now */
  uint64_t queued_rcpts;   /* unfinished recipients now */
  uint64_t queued_bytes;   /* sizes of queued messages */
  uint64_t peak_queued;
} mta_queue_stats;
void mta_queue_get_stats(const mta_queue *q, mta_queue_stats *st);

/* Bytes of memory the queue holds beyond the bodies (its structures,
 * strings and indexes, estimated from their sizes; a shared text table is
 * counted whole). */
size_t mta_queue_memory(const mta_queue *q);

/* ---- the disk encoding ---- */

/* Appends message QID's record (envelope, states, retry memory, and the
 * body when the message holds one) to OUT. */
void mta_queue_msg_encode(const mta_queue *q, uint32_t qid, GByteArray *out);
/* Adds a message decoded from a record (after a crash: an empty queue and
 * one call per stored record). Returns its qid, or 0 with *ERR set (a new
 * string) when the record is malformed or its qid is already queued. The
 * id counter moves past every restored id. In-flight marks are dropped:
 * those recipients will be tried again. */
uint32_t mta_queue_msg_decode(mta_queue *q, const uint8_t *data, size_t len, char **err);
/* The same, the message labelled with TAG (copied; may be NULL). */
uint32_t mta_queue_msg_decode_tagged(mta_queue *q, const uint8_t *data, size_t len,
                                     const char *tag, char **err);
/* The same, the message borrowing its sender and addresses from DATA
 * (which must stay valid: see mta_queue_add_args.borrow; a sender of
 * MTA_QUEUE_BORROW_MAX octets or more is copied instead). */
uint32_t mta_queue_msg_decode_borrowed(mta_queue *q, const uint8_t *data, size_t len,
                                       const char *tag, char **err);
/* Points message QID (added or decoded borrowing) at its record REC (LEN
 * octets, what mta_queue_msg_encode wrote for it last, now kept by the
 * caller): its sender and addresses are borrowed from there until the
 * next rebase. Nothing to do for a message that holds its own copies (the
 * borrow was not honoured). Asserts REC is QID's record. */
void mta_queue_msg_rebase(mta_queue *q, uint32_t qid, const uint8_t *rec, size_t len);
/* The body_id of a record, read from its header without decoding the rest;
 * false when the header is malformed. */
bool mta_queue_msg_peek_body_id(const uint8_t *data, size_t len, uint64_t *body_id);
/* The whole queue (counter, ledger, statistics, every message) as one blob. */
GBytes *mta_queue_encode(const mta_queue *q);
/* A queue from a blob, or NULL with *ERR set (a new string). Never aborts
 * on bad input. */
mta_queue *mta_queue_decode(const uint8_t *data, size_t len, char **err);

/* ---- the invariant ---- */

/* Checks that each of the N qids in ACCEPTED (all qids ever issued when
 * ACCEPTED is NULL) is still queued, or left with every recipient
 * delivered or bounced and every bounce reported by a DSN (or suppressed
 * for a null sender); that queued messages are either due, in an attempt,
 * or waiting for their DSN; and that no DSN was queued about a DSN.
 * Appends one new string per violation to VIOLATIONS (may be NULL) and
 * returns the count. */
size_t mta_queue_check(const mta_queue *q, const uint32_t *accepted, size_t n,
                       GPtrArray *violations);

#endif
