/* mta_queue_codec.c — the queue on the host's (simulated) disk: one
 * length-checked record per message, and a whole-queue blob (counter,
 * statistics, ledger, records in id order). A message record is compact,
 * as a queue file is (Postfix's qmgr keeps only the envelope): integers as
 * LEB128 varints (signed ones zigzag-coded), strings as varint length + 1
 * (0 = absent), and a recipient's next hop or reply text left out when it
 * repeats the address's domain or the previous recipient's. The blob's
 * frame is little-endian fixed width. Decoding treats the bytes as outside
 * input: any truncation or corruption is an error, never a crash
 * (tests/test_mta_queue.c, tests/fuzz/fuzz_mta_queue.c).
 */
#include <string.h>

#include "mta_queue.h"
#include "mta_queue_int.h"

/* ---- encoding ---- */

#define MSG_MAGIC "MQM3"
#define QUEUE_MAGIC "MQQ1"

static void put_u32(GByteArray *o, uint32_t v) {
  uint8_t b[4];
  for (int i = 0; i < 4; i++)
    b[i] = (uint8_t)(v >> (8 * i));
  g_byte_array_append(o, b, 4);
}
static void put_u64(GByteArray *o, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(v >> (8 * i));
  g_byte_array_append(o, b, 8);
}

static void put_var(GByteArray *o, uint64_t v) {
  uint8_t b[10];
  guint n = 0;
  while (v >= 0x80) {
    b[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  b[n++] = (uint8_t)v;
  g_byte_array_append(o, b, n);
}
static bool str_same(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}
static const char *addr_domain(const char *addr) {
  const char *at = strrchr(addr, '@');
  return at ? at + 1 : "";
}

/* Recipient record flags beyond MTA_RCPT_F_REPORTED (what is left out). */
enum { REC_DEST_DOMAIN = 0x80, REC_TEXT_PREV = 0x40, REC_MTA_PREV = 0x20 };

typedef struct {
  const uint8_t *p;
  size_t left;
  bool bad;
} rd;

static bool take(rd *r, size_t n, const uint8_t **out) {
  if (r->bad || r->left < n) {
    r->bad = true;
    return false;
  }
  *out = r->p;
  r->p += n;
  r->left -= n;
  return true;
}
static uint64_t get_uint(rd *r, int bytes) {
  const uint8_t *b;
  if (!take(r, (size_t)bytes, &b))
    return 0;
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--)
    v = (v << 8) | b[i];
  return v;
}

static uint64_t get_var(rd *r) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    const uint8_t *b;
    if (!take(r, 1, &b))
      return 0;
    v |= (uint64_t)(*b & 0x7f) << shift;
    if (!(*b & 0x80))
      return v;
  }
  r->bad = true; /* more than 10 octets */
  return 0;
}
static int64_t get_svar(rd *r) {
  uint64_t u = get_var(r);
  return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}
static int64_t get_time(rd *r, int64_t base) {
  return (int64_t)((uint64_t)base + (uint64_t)get_svar(r));
}
static uint32_t get_var32(rd *r) {
  uint64_t v = get_var(r);
  if (v > UINT32_MAX)
    r->bad = true;
  return (uint32_t)v;
}
/* A varint-framed string's frame, N (its length + 1): false when bad or
 * absent (N = 0, *ABSENT set). */
static bool get_frame(rd *r, bool *absent, uint64_t *n) {
  *n = get_var(r);
  *absent = !r->bad && *n == 0;
  return !r->bad && *n != 0;
}
/* A varint-framed string: NULL for absent; sets bad on truncation or NUL. */
static char *get_vstr(rd *r, bool *absent) {
  uint64_t n;
  if (!get_frame(r, absent, &n))
    return NULL;
  const uint8_t *b;
  if (n - 1 > r->left || !take(r, (size_t)(n - 1), &b) || memchr(b, 0, (size_t)(n - 1))) {
    r->bad = true;
    return NULL;
  }
  return g_strndup((const char *)b, (gsize)(n - 1));
}
/* A string framed as a varint-framed one followed by a NUL (the sender and
 * the addresses: a message may borrow them from its record): a pointer to
 * it inside the record, NULL for absent; sets bad on truncation, a NUL
 * inside or none after. */
static const char *get_zraw(rd *r, bool *absent) {
  uint64_t n;
  if (!get_frame(r, absent, &n))
    return NULL;
  const uint8_t *b;
  if (n > r->left || !take(r, (size_t)n, &b) || b[n - 1] != 0 || memchr(b, 0, (size_t)(n - 1))) {
    r->bad = true;
    return NULL;
  }
  return (const char *)b;
}
/* Skips a varint-framed string. */
static void skip_vstr(rd *r) {
  uint64_t n = get_var(r);
  const uint8_t *b;
  if (!r->bad && n > 0 && (n - 1 > r->left || !take(r, (size_t)(n - 1), &b)))
    r->bad = true;
}

/* The message record is written through a pointer into room reserved
 * once (an upper bound), not field by field through g_byte_array_append:
 * a record is written at every store and after every transaction. */
static uint8_t *w_var(uint8_t *p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}
static uint8_t *w_svar(uint8_t *p, int64_t v) {
  return w_var(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); /* zigzag */
}
/* A time as its difference from BASE, zigzag (two's complement: any pair
 * of times round-trips, INT64_MAX included). Times of one message are
 * close to each other: a few octets where the absolute value takes 7. */
static uint8_t *w_time(uint8_t *p, int64_t v, int64_t base) {
  return w_svar(p, (int64_t)((uint64_t)v - (uint64_t)base));
}
static uint8_t *w_vstr(uint8_t *p, const char *s) {
  if (!s)
    return w_var(p, 0);
  size_t n = strlen(s);
  p = w_var(p, (uint64_t)n + 1);
  memcpy(p, s, n);
  return p + n;
}
static uint8_t *w_zstr(uint8_t *p, const char *s) {
  p = w_vstr(p, s);
  if (s)
    *p++ = 0;
  return p;
}
static size_t vstr_room(const char *s) { return 11 + (s ? strlen(s) : 0); }

void mta_queue_msg_encode(const mta_queue *q, uint32_t qid, GByteArray *o) {
  const mta_msg *m = mta_queue__msg_get(q, qid, "mta_queue_msg_encode");
  const char *sender = mta_queue_msg_sender(m);
  GBytes *body = mta_queue_body(q, qid);
  size_t room = 4 + 13 * 10 + vstr_room(sender) + 10;
  for (uint32_t i = 0; i < m->nrcpts; i++) {
    const mta_rcpt *r = &m->rcpts[i];
    room += 2 + 5 * 10 + vstr_room(r->addr) + vstr_room(mta_queue_rcpt_dest(q, r)) +
            vstr_room(mta_rcpt_text(r)) + vstr_room(mta_rcpt_remote_mta(r)) +
            vstr_room(mta_rcpt_esc(r));
  }
  guint start = o->len;
  g_byte_array_set_size(o, (guint)(start + room));
  uint8_t *p = o->data + start;
  GArray *offs = ((mta_queue *)q)->enc.offs; /* the rebase cache (see mta_queue_int.h) */
  g_array_set_size(offs, m->nrcpts + 1);
  uint32_t *off = (uint32_t *)(void *)offs->data;
  memcpy(p, MSG_MAGIC, 4);
  p += 4;
  p = w_var(p, m->qid);
  p = w_var(p, m->attempts);
  p = w_svar(p, m->arrival);
  /* A message caught in an attempt is due again at once after a crash. */
  p = w_time(p, m->in_attempt ? m->arrival : m->due, m->arrival);
  p = w_var(p, m->size);
  p = w_var(p, m->body_id);
  p = w_var(p, m->dsn_of);
  p = w_var(p, m->dsn_qid);
  /* The retry memory only when it is not zero (Exim's; the other
   * profiles never set it). */
  const mta_retry_state *rs = mta_queue_msg_retry(m);
  bool retry = rs && (rs->last_try || rs->next_try);
  *p++ = (uint8_t)((body ? 1 : 0) | (m->expire_pending ? 2 : 0) | (m->in_attempt ? 4 : 0) |
                   (retry ? 8 : 0));
  *p++ = m->warnings;
  if (retry) {
    p = w_time(p, rs->last_try, m->arrival);
    p = w_time(p, rs->next_try, rs->last_try);
  }
  p = w_zstr(p, sender);
  off[0] = (uint32_t)(p - (o->data + start)) - (uint32_t)strlen(sender) - 1;
  p = w_var(p, m->nrcpts);
  for (uint32_t i = 0; i < m->nrcpts; i++) {
    const mta_rcpt *r = &m->rcpts[i];
    const mta_rcpt *prev = i ? &m->rcpts[i - 1] : NULL;
    uint8_t f = (uint8_t)(r->flags & MTA_RCPT_F_REPORTED);
    const char *dest = mta_queue_rcpt_dest(q, r), *text = mta_rcpt_text(r),
               *remote = mta_rcpt_remote_mta(r);
    if (strcmp(dest, addr_domain(r->addr)) == 0)
      f |= REC_DEST_DOMAIN;
    if (prev && str_same(text, mta_rcpt_text(prev)))
      f |= REC_TEXT_PREV;
    if (prev && str_same(remote, mta_rcpt_remote_mta(prev)))
      f |= REC_MTA_PREV;
    *p++ = f;
    p = w_zstr(p, r->addr);
    off[1 + i] = (uint32_t)(p - (o->data + start)) - (uint32_t)strlen(r->addr) - 1;
    if (!(f & REC_DEST_DOMAIN))
      p = w_vstr(p, dest);
    if (!(f & REC_TEXT_PREV))
      p = w_vstr(p, text);
    if (!(f & REC_MTA_PREV))
      p = w_vstr(p, remote);
    /* after the previous recipient's: the same attempt, mostly */
    p = w_time(p, r->last_try, prev ? prev->last_try : m->arrival);
    p = w_var(p, mta_rcpt_code(r));
    *p++ = r->state;
    p = w_vstr(p, mta_rcpt_esc(r));
    p = w_var(p, r->attempts);
  }
  g_assert((size_t)(p - (o->data + start)) <= room);
  g_byte_array_set_size(o, (guint)(p - o->data));
  ((mta_queue *)q)->enc.qid = m->qid;
  ((mta_queue *)q)->enc.len = (uint32_t)(o->len - start);
  if (body) {
    gsize n;
    const guint8 *b = g_bytes_get_data(body, &n);
    put_var(o, n);
    g_byte_array_append(o, b, (guint)n);
  }
}

/* A recipient as read from a record, its strings owned until the message
 * is inserted. */
typedef struct {
  char *addr, *dest, *text, *remote_mta;
  char esc[10];
  uint16_t code, attempts;
  uint8_t state, flags;
  int64_t last_try;
} tmp_rcpt;

/* Frees the N recipients read so far. */
static void tmp_rcpts_free(tmp_rcpt *rs, uint32_t n) {
  for (uint32_t i = 0; rs && i < n; i++) {
    g_free(rs[i].addr);
    g_free(rs[i].dest);
    g_free(rs[i].text);
    g_free(rs[i].remote_mta);
  }
  g_free(rs);
}

/* Reads one record into a message block labelled TAG; its recipients as
 * read in *RSP (N of them, freed by the caller with tmp_rcpts_free once
 * mta_queue__msg_insert interned their replies and destinations). The
 * header and recipients are read into temporaries first: the block's
 * size is known only at the end. */
static mta_msg *msg_read(rd *r, tmp_rcpt **rsp, const char *tag, bool borrow, bool retry_room,
                         GBytes **bodyp, char **err) {
  *rsp = NULL;
  const uint8_t *magic;
  if (!take(r, 4, &magic) || memcmp(magic, MSG_MAGIC, 4) != 0) {
    *err = g_strdup("message record: bad magic");
    return NULL;
  }
  mta_msg h = {0};
  mta_retry_state retry = {0, 0};
  h.qid = get_var32(r);
  h.attempts = get_var32(r);
  h.arrival = get_svar(r);
  h.due = get_time(r, h.arrival);
  h.size = get_var32(r);
  h.body_id = get_var32(r);
  h.dsn_of = get_var32(r);
  h.dsn_qid = get_var32(r);
  uint8_t flags = (uint8_t)get_uint(r, 1);
  h.expire_pending = (flags & 2) != 0;
  h.warnings = (uint8_t)get_uint(r, 1);
  if (flags & 8) {
    retry.last_try = get_time(r, h.arrival);
    retry.next_try = get_time(r, retry.last_try);
  }
  bool absent;
  const char *raw_sender = get_zraw(r, &absent);
  uint32_t n = get_var32(r);
  /* Each recipient takes at least 8 octets: bound N before allocating. */
  if (r->bad || absent || h.qid == 0 || h.qid == UINT32_MAX || n == 0 || n > r->left / 8 ||
      (flags & ~15u) || (h.dsn_of && *raw_sender)) {
    *err = g_strdup("message record: bad header");
    return NULL;
  }
  tmp_rcpt *rs = g_new0(tmp_rcpt, n);
  const char **raw = g_new0(const char *, n); /* the addresses inside the record */
  uint32_t got = 0;
  const char *why = NULL;
  for (uint32_t i = 0; i < n && !r->bad && !why; i++) {
    tmp_rcpt *rc = &rs[i];
    got = i + 1;
    bool a1, a2 = false, a3, a4, a5;
    uint8_t f = (uint8_t)get_uint(r, 1);
    if (!r->bad && (i == 0 && (f & (REC_TEXT_PREV | REC_MTA_PREV)))) {
      why = "message record: bad recipient";
      break;
    }
    raw[i] = get_zraw(r, &a1);
    rc->addr = raw[i] ? g_strdup(raw[i]) : NULL;
    rc->dest = (f & REC_DEST_DOMAIN) ? (rc->addr ? g_strdup(addr_domain(rc->addr)) : NULL)
                                     : get_vstr(r, &a2);
    rc->text = (f & REC_TEXT_PREV) ? g_strdup(rs[i - 1].text) : get_vstr(r, &a3);
    rc->remote_mta = (f & REC_MTA_PREV) ? g_strdup(rs[i - 1].remote_mta) : get_vstr(r, &a4);
    rc->last_try = get_time(r, i ? rs[i - 1].last_try : h.arrival);
    uint64_t code = get_var(r);
    rc->code = (uint16_t)code;
    rc->state = (uint8_t)get_uint(r, 1);
    rc->flags = (uint8_t)(f & MTA_RCPT_F_REPORTED);
    char *esc = get_vstr(r, &a5);
    uint64_t attempts = get_var(r);
    rc->attempts = (uint16_t)attempts;
    if (!r->bad && (a1 || a2 || a5 || rc->state >= MTA_RCPT__COUNT || code > UINT16_MAX ||
                    attempts > UINT16_MAX ||
                    (f & ~(MTA_RCPT_F_REPORTED | REC_DEST_DOMAIN | REC_TEXT_PREV | REC_MTA_PREV)) ||
                    strlen(esc) >= sizeof rc->esc))
      why = "message record: bad recipient";
    else if (esc)
      g_strlcpy(rc->esc, esc, sizeof rc->esc);
    g_free(esc);
    if (!rc->dest)
      rc->dest = g_strdup("");
  }
  GBytes *body = NULL;
  if (!r->bad && !why && (flags & 1)) {
    uint64_t blen = get_var(r);
    const uint8_t *b;
    if (blen > r->left || !take(r, (size_t)blen, &b))
      why = "message record: truncated body";
    else
      body = g_bytes_new(b, (gsize)blen);
  }
  if (r->bad || why) {
    *err = g_strdup(why ? why : "message record: truncated");
    tmp_rcpts_free(rs, got);
    g_free(raw);
    return NULL;
  }
  /* Borrowing finds the sender from the first address: a sender too long
   * for that is copied (and so are the addresses). */
  if ((size_t)(raw[0] - raw_sender) > MTA_QUEUE_BORROW_MAX)
    borrow = false;
  const char **addrs = g_new(const char *, n);
  for (uint32_t i = 0; i < n; i++)
    addrs[i] = borrow ? raw[i] : rs[i].addr;
  bool keep_retry = retry_room || (flags & 8);
  mta_msg *m = mta_queue__msg_alloc(raw_sender, addrs, n, tag, borrow, keep_retry);
  g_free(addrs);
  g_free(raw);
  unsigned layout = m->layout;
  uint16_t back = m->sender_back;
  *m = h; /* the header only: the recipients and strings stay */
  m->layout = layout;
  m->sender_back = back;
  m->nrcpts = n;
  m->heap_idx = -1;
  if (keep_retry)
    memcpy(&m->rcpts[n], &retry, sizeof retry);
  *bodyp = body;
  for (uint32_t i = 0; i < n; i++) {
    mta_rcpt *mr = &m->rcpts[i];
    mr->last_try = rs[i].last_try;
    mr->attempts = rs[i].attempts;
    mr->state = rs[i].state;
    mr->flags = rs[i].flags;
  }
  *rsp = rs;
  return m;
}

static uint32_t decode(mta_queue *q, const uint8_t *data, size_t len, const char *tag, bool borrow,
                       char **err) {
  rd r = {data, len, false};
  tmp_rcpt *rs = NULL;
  GBytes *body = NULL;
  mta_msg *m = msg_read(&r, &rs, tag, borrow, q->retry_room, &body, err);
  uint32_t qid = 0, n = m ? m->nrcpts : 0;
  if (m && r.left) {
    *err = g_strdup("message record: trailing octets");
    g_free(m);
  } else if (m && mta_queue_get(q, m->qid)) {
    *err = g_strdup_printf("message record: queue id %u is already queued", m->qid);
    g_free(m);
  } else if (m) {
    mta_queue__rcpt_in ibuf[8];
    mta_queue__rcpt_in *in = m->nrcpts <= G_N_ELEMENTS(ibuf) ? ibuf : g_new(mta_queue__rcpt_in, m->nrcpts);
    for (uint32_t i = 0; i < m->nrcpts; i++)
      in[i] = (mta_queue__rcpt_in){rs[i].dest, rs[i].text, rs[i].remote_mta, rs[i].esc, rs[i].code};
    mta_queue__msg_insert(q, m, body, in);
    if (in != ibuf)
      g_free(in);
    body = NULL;
    qid = m->qid;
  }
  tmp_rcpts_free(rs, n);
  if (body)
    g_bytes_unref(body);
  return qid;
}

uint32_t mta_queue_msg_decode_tagged(mta_queue *q, const uint8_t *data, size_t len,
                                     const char *tag, char **err) {
  return decode(q, data, len, tag, false, err);
}

uint32_t mta_queue_msg_decode_borrowed(mta_queue *q, const uint8_t *data, size_t len,
                                       const char *tag, char **err) {
  return decode(q, data, len, tag, true, err);
}

uint32_t mta_queue_msg_decode(mta_queue *q, const uint8_t *data, size_t len, char **err) {
  return decode(q, data, len, NULL, false, err);
}

/* The places of the sender and of the NRCPTS addresses in record DATA of
 * message QID (as mta_queue_msg_encode wrote it); false when DATA is not
 * such a record. Walks what msg_read reads, keeping nothing. */
static bool rec_envelope(const uint8_t *data, size_t len, uint32_t qid, uint32_t nrcpts,
                         const char **sender, const char **addrs) {
  rd r = {data, len, false};
  const uint8_t *magic;
  bool absent;
  if (!take(&r, 4, &magic) || memcmp(magic, MSG_MAGIC, 4) != 0 || get_var32(&r) != qid)
    return false;
  for (int k = 0; k < 7; k++) /* attempts, arrival, due, size, body_id, dsn_of, dsn_qid */
    get_var(&r);
  uint64_t flags = get_uint(&r, 1);
  get_uint(&r, 1); /* warnings */
  if (flags & 8) {  /* the retry memory */
    get_var(&r);
    get_var(&r);
  }
  *sender = get_zraw(&r, &absent);
  if (r.bad || !*sender || get_var32(&r) != nrcpts)
    return false;
  for (uint32_t i = 0; i < nrcpts && !r.bad; i++) {
    uint64_t f = get_uint(&r, 1);
    addrs[i] = get_zraw(&r, &absent);
    if (!addrs[i])
      return false;
    if (!(f & REC_DEST_DOMAIN))
      skip_vstr(&r);
    if (!(f & REC_TEXT_PREV))
      skip_vstr(&r);
    if (!(f & REC_MTA_PREV))
      skip_vstr(&r);
    get_var(&r); /* last_try, code */
    get_var(&r);
    get_uint(&r, 1); /* state */
    skip_vstr(&r);   /* esc */
    get_var(&r);     /* attempts */
  }
  return !r.bad;
}

void mta_queue_msg_rebase(mta_queue *q, uint32_t qid, const uint8_t *rec, size_t len) {
  mta_msg *m = mta_queue__msg_get(q, qid, "mta_queue_msg_rebase");
  if (!(m->layout & MTA_MSG_BORROWED))
    return; /* its own copies */
  if (q->enc.qid == qid && q->enc.len == len && q->enc.offs->len == m->nrcpts + 1 &&
      len >= 4 && memcmp(rec, MSG_MAGIC, 4) == 0) { /* the record just encoded: no parse */
    const uint32_t *off = (const uint32_t *)(void *)q->enc.offs->data;
    g_assert(off[1] - off[0] <= UINT16_MAX); /* the sender was short enough to borrow */
    m->sender_back = (uint16_t)(off[1] - off[0]);
    for (uint32_t i = 0; i < m->nrcpts; i++)
      m->rcpts[i].addr = (const char *)rec + off[1 + i];
    return;
  }
  const char *sender, *stack[8];
  const char **addrs = m->nrcpts <= G_N_ELEMENTS(stack) ? stack : g_new(const char *, m->nrcpts);
  if (!rec_envelope(rec, len, qid, m->nrcpts, &sender, addrs))
    g_error("mta_queue_msg_rebase: not a record of message %u", qid);
  g_assert(addrs[0] > sender && (size_t)(addrs[0] - sender) <= UINT16_MAX);
  m->sender_back = (uint16_t)(addrs[0] - sender);
  for (uint32_t i = 0; i < m->nrcpts; i++)
    m->rcpts[i].addr = addrs[i];
  if (addrs != stack)
    g_free(addrs);
}

bool mta_queue_msg_peek_body_id(const uint8_t *data, size_t len, uint64_t *body_id) {
  rd r = {data, len, false};
  const uint8_t *magic;
  if (!take(&r, 4, &magic) || memcmp(magic, MSG_MAGIC, 4) != 0)
    return false;
  get_var(&r); /* qid, attempts */
  get_var(&r);
  get_svar(&r); /* arrival, due */
  get_svar(&r);
  get_var(&r); /* size */
  *body_id = get_var(&r);
  return !r.bad;
}

GBytes *mta_queue_encode(const mta_queue *q) {
  GByteArray *o = g_byte_array_new();
  g_byte_array_append(o, (const guint8 *)QUEUE_MAGIC, 4);
  put_u32(o, q->next_qid);
  const uint64_t *sv = (const uint64_t *)&q->st;
  for (size_t i = 0; i < sizeof q->st / sizeof(uint64_t); i++)
    put_u64(o, sv[i]);
  put_u32(o, q->ledger->len);
  for (guint i = 0; i < q->ledger->len; i++) {
    const ledger_ent *e = &g_array_index(q->ledger, ledger_ent, i);
    put_u32(o, e->qid);
    put_u32(o, e->delivered);
    put_u32(o, e->bounced);
    put_u32(o, e->dsn_qid);
    put_u32(o, e->dsn_of);
    put_u32(o, e->flags);
  }
  GArray *qids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  for (guint i = 0; i < q->slots->len; i++) /* in id order */
    if (q->slots->pdata[i]) {
      uint32_t id = ((const mta_msg *)q->slots->pdata[i])->qid;
      g_array_append_val(qids, id);
    }
  put_u32(o, qids->len);
  GByteArray *rec = g_byte_array_new();
  for (guint i = 0; i < qids->len; i++) {
    g_byte_array_set_size(rec, 0);
    mta_queue_msg_encode(q, g_array_index(qids, uint32_t, i), rec);
    put_u32(o, rec->len);
    g_byte_array_append(o, rec->data, rec->len);
  }
  g_byte_array_free(rec, TRUE);
  g_array_free(qids, TRUE);
  return g_byte_array_free_to_bytes(o);
}

mta_queue *mta_queue_decode(const uint8_t *data, size_t len, char **err) {
  rd r = {data, len, false};
  const uint8_t *magic;
  if (!take(&r, 4, &magic) || memcmp(magic, QUEUE_MAGIC, 4) != 0) {
    *err = g_strdup("queue: bad magic");
    return NULL;
  }
  mta_queue *q = mta_queue_new();
  uint32_t next_qid = (uint32_t)get_uint(&r, 4);
  mta_queue_stats st;
  uint64_t *sv = (uint64_t *)&st;
  for (size_t i = 0; i < sizeof st / sizeof(uint64_t); i++)
    sv[i] = get_uint(&r, 8);
  uint32_t nled = (uint32_t)get_uint(&r, 4);
  if (r.bad || nled > r.left / 24 || next_qid == 0) {
    *err = g_strdup("queue: bad header");
    mta_queue_free(q);
    return NULL;
  }
  for (uint32_t i = 0; i < nled; i++) {
    ledger_ent e;
    e.qid = (uint32_t)get_uint(&r, 4);
    e.delivered = (uint32_t)get_uint(&r, 4);
    e.bounced = (uint32_t)get_uint(&r, 4);
    e.dsn_qid = (uint32_t)get_uint(&r, 4);
    e.dsn_of = (uint32_t)get_uint(&r, 4);
    e.flags = (uint32_t)get_uint(&r, 4);
    g_array_append_val(q->ledger, e);
  }
  uint32_t nmsg = (uint32_t)get_uint(&r, 4);
  for (uint32_t i = 0; i < nmsg && !r.bad; i++) {
    uint32_t rl = (uint32_t)get_uint(&r, 4);
    const uint8_t *b;
    if (!take(&r, rl, &b))
      break;
    if (!mta_queue_msg_decode(q, b, rl, err)) {
      mta_queue_free(q);
      return NULL;
    }
  }
  if (r.bad || r.left) {
    *err = g_strdup(r.bad ? "queue: truncated" : "queue: trailing octets");
    mta_queue_free(q);
    return NULL;
  }
  /* Statistics as saved, except what the restored messages define. */
  mta_queue_stats now = q->st;
  q->st = st;
  q->st.queued = now.queued;
  q->st.queued_rcpts = now.queued_rcpts;
  q->st.queued_bytes = now.queued_bytes;
  if (next_qid > q->next_qid)
    q->next_qid = next_qid;
  return q;
}
