/* mta_queue_int.h — what mta_queue.c and mta_queue_codec.c share. */
#ifndef MAILSIM_MTA_QUEUE_INT_H
#define MAILSIM_MTA_QUEUE_INT_H

#include "mta_queue.h"

/* A message and its due time, for sorting a list of them. */
typedef struct {
  int64_t due;
  mta_msg *m;
} heap_ent;

typedef struct {
  uint32_t qid;
  uint32_t delivered, bounced;
  uint32_t dsn_qid; /* 0: none (null sender, or nothing bounced) */
  uint32_t dsn_of;  /* the message was itself a DSN about this qid */
  uint32_t flags;   /* LEDGER_F_* */
} ledger_ent;

enum { LEDGER_F_NULL_SENDER = 1u << 0, LEDGER_F_WITHDRAWN = 1u << 1 };

/* A destination: its count of unfinished recipients, its number (a
 * recipient's dest: its index in mta_queue.dests) and its name (lower
 * case, in mta_queue.dest_names: never moves). 16 octets in an array, not
 * a block of its own (a malloc chunk of 32 and a pointer to it). */
typedef struct {
  const char *name;
  uint32_t rcpts;
  uint32_t id;
} dest_ent;

#define MTA_QUEUE__SPARES 4

struct mta_queue {
  uint32_t next_qid;
  /* Messages by queue id: slots[qid - base], NULL where none (ids are a
   * counter, so a dense array: 8 octets a slot against a hash entry's ~48;
   * walked in id order, so no order to hide). */
  GPtrArray *slots;
  uint32_t base;  /* the id of slots[0] */
  uint32_t head;  /* slots before this index are all NULL */
  uint32_t nmsgs;
  GArray *heap;           /* uint32_t qids, min by (due, qid) */
  GArray *dests;           /* dest_ent by id (walked only to list sorted) */
  GStringChunk *dest_names; /* their names */
  uint32_t *dest_idx;     /* open addressing: id + 1 by the name's hash, 0 empty */
  guint dest_cap;         /* slots in dest_idx: 0 or a power of two */
  bool retry_room;        /* new messages keep room for a retry memory */
  GArray *ledger;         /* ledger_ent */
  mta_queue_stats st;
  size_t str_bytes; /* bytes of message strings held */
  /* The recipients' last replies (code, status, text, remote MTA), each
   * distinct one once (most deferrals of a destination read alike): its
   * own table or one shared with other queues (mta_queue_new_shared). */
  mta_queue_texts *texts;
  bool own_texts;
  GHashTable *bodies; /* qid -> GBytes* (lookup only), NULL until a body came */
  /* Where the last record encoded put its sender and addresses (offsets
   * from its start): mta_queue_msg_rebase of that record reads them here
   * instead of parsing it. A cache, written by the (const) encoder. */
  struct {
    uint32_t qid, len;
    GArray *offs; /* uint32_t: the sender's, then each address's */
  } enc;
  /* Blocks of messages that left (SPARE_LEN: the octets each surely
   * holds), kept for new ones that fit and whose block is a malloc chunk
   * of the same size (mta_queue_add: a calloc and a free a message less,
   * and no byte more than a fresh block would hold); the oldest gives way
   * when all MTA_QUEUE__SPARES are taken. */
  mta_msg *spare_msg[MTA_QUEUE__SPARES];
  size_t spare_len[MTA_QUEUE__SPARES];
  unsigned n_spare_msg, spare_next;
};

/* Set of mta_reply* (lookup only), by all four fields. */
struct mta_queue_texts {
  GHashTable *t;
  /* the last reply block let go, kept for the next new reply that fits
   * (most deliveries intern a reply of their own and drop it when the
   * message leaves: one malloc and free a delivery less); SPARE_SIZE is
   * its size as allocated */
  mta_reply *spare;
  size_t spare_size;
};

/* A recipient as read or given, before mta_queue__msg_insert interns its
 * reply and destination (strings borrowed). */
typedef struct {
  const char *dest;
  const char *text, *remote_mta, *esc; /* esc "" or NULL: none */
  uint16_t code;
} mta_queue__rcpt_in;

/* The message QID, or NULL. */
static inline mta_msg *mta_queue__slot(const mta_queue *q, uint32_t qid) {
  if (qid < q->base || qid - q->base >= q->slots->len)
    return NULL;
  return q->slots->pdata[qid - q->base];
}
/* The message QID (aborts naming FN when it is not queued). */
mta_msg *mta_queue__msg_get(const mta_queue *q, uint32_t qid, const char *fn);
/* Registers a fully built message (qid set) and its BODY (may be NULL; the
 * reference is taken) in the indexes and the statistics; due order
 * included. IN gives each recipient's destination and reply (interned
 * here). */
void mta_queue__msg_insert(mta_queue *q, mta_msg *m, GBytes *body, const mta_queue__rcpt_in *in);
/* A new message block: the mta_msg, NRCPTS zeroed recipients (addresses
 * set from ADDRS), a zeroed retry memory with RETRY, and copies of SENDER,
 * the addresses and TAG (may be NULL); with BORROW, SENDER and ADDRS
 * themselves (only TAG copied); heap_idx -1, everything else zero. Freed
 * with g_free (its replies released first once inserted). */
mta_msg *mta_queue__msg_alloc(const char *sender, const char *const *addrs, uint32_t nrcpts,
                              const char *tag, bool borrow, bool retry);
/* The same in a block Q kept (mta_queue__msg_alloc when none fits). */
mta_msg *mta_queue__msg_alloc_in(mta_queue *q, const char *sender, const char *const *addrs,
                                 uint32_t nrcpts, const char *tag, bool borrow, bool retry);
gint mta_queue__u32_cmp(gconstpointer a, gconstpointer b);

#endif
