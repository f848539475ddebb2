/* mta.c — the MTA host's queue on disk, its life across crashes, DSNs and
 * the account behind the end-of-run invariant (see mta.h).
 *
 * Disk layout (host disk, survives crashes):
 *   mta/seq             the next message number (8 octets, little-endian)
 *   mta/q/<seq>         one blob a message: the queue record's length (a
 *                       LEB128 varint), the record (mta_queue_msg_encode),
 *                       then the message as stored (Received prepended)
 * (<seq> is lower-case hex after a letter giving its digit count, 'a' for
 * one: mta__key.)
 * A message is acknowledged only once its blob is written (RFC 5321 §6.1:
 * "the receiver-SMTP MUST NOT lose the message" once it said 250). The
 * blob is rewritten, the body copied along, after every transaction that
 * changed a recipient, and removed when the message leaves the queue. One
 * blob rather than a record and a body apart: a disk entry's key, length,
 * malloc header and hash slot once a message, not twice (issue #6). The
 * body therefore moves at a rewrite: whoever reads it (mta__body) copies
 * what it keeps (smtp_cli_send copies the data it is given).
 *
 * DSNs (RFC 3464, RFC 5321 §4.5.5): a failure report goes back to the
 * reverse path with a null reverse path; never about a null-sender message
 * (mta_queue enforces it). Delay warnings use the profile's
 * delay_warning (postfix: off).
 */
#include "mta_int.h"

#include <inttypes.h>
#include <string.h>

#include "mail_trace.h"
#include "mime_date.h"
#include "mime_hdr.h"

void mta_host_config_init(mta_host_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->hostname = "localhost";
  cfg->submission = true;
  cfg->mx = true;
  cfg->mailbox_port = 25;
  cfg->retry_profile = "postfix";
  mta_policy_config_init(&cfg->policy);
  cfg->rcpt_limit = 50;
  cfg->conn_cache_time = 2 * SIM_S;
  cfg->verify_local_rcpt = true;
  cfg->epoch_unix = INT64_C(1767225600); /* 2026-01-01T00:00:00Z */
}

const char *mta_filter_stage_name(mta_filter_stage s) {
  static const char *const names[MTA_FILTER__COUNT] = {"rcpt", "data"};
  g_assert((unsigned)s < MTA_FILTER__COUNT);
  return names[s];
}

const char *mta_host_name(const mta_host *m) { return m->hostname; }

const char *mta_tls_policy_name(mta_tls_policy p) {
  static const char *const names[MTA_TLS__COUNT] = {"may", "encrypt"};
  g_assert((unsigned)p < MTA_TLS__COUNT);
  return names[p];
}

const char *mta_stage_name(mta_stage s) {
  static const char *const names[MTA_STAGE__COUNT] = {"connect", "helo", "mail", "rcpt", "dot"};
  g_assert((unsigned)s < MTA_STAGE__COUNT);
  return names[s];
}

void mta_host_set_fault_hooks(mta_host *m, const mta_fault_hooks *hooks) {
  if (hooks)
    m->faults = *hooks;
  else
    memset(&m->faults, 0, sizeof m->faults);
}

/* ---- disk ---- */

/* Keys and queue ids are written by hand: g_snprintf was ~1,200
 * instructions a key, and every store, read and removal builds one. */
static char *put_hex(char *p, uint64_t v, int min_digits, const char *digits) {
  char tmp[16];
  int n = 0;
  do {
    tmp[n++] = digits[v & 15];
    v >>= 4;
  } while (v);
  while (n < min_digits)
    tmp[n++] = '0';
  while (n)
    *p++ = tmp[--n];
  *p = 0;
  return p;
}

void mta__key(char *buf, size_t n, const char *kind, uint64_t seq) {
  size_t k = strlen(kind);
  g_assert(n >= 4 + k + 2 + 16 + 1);
  memcpy(buf, "mta/", 4);
  memcpy(buf + 4, kind, k);
  buf[4 + k] = '/';
  /* The digits' count as a letter ('a' one .. 'p' sixteen), then the
   * digits without leading zeros: keys sort as the numbers do (a listing
   * is in seq order, as with the 16 fixed digits it replaced) at ~9
   * octets a key instead of 22, twice a queued message. */
  char *end = put_hex(buf + 6 + k, seq, 1, "0123456789abcdef");
  buf[5 + k] = (char)('a' + (end - (buf + 6 + k)) - 1);
}

void mta__queue_id(char *buf, size_t n, uint64_t seq) {
  g_assert(n >= 17);
  put_hex(buf, seq, 6, "0123456789ABCDEF"); /* "%06" PRIX64 */
}

const char *mta__qid_text(const mta_msg *qm, char *buf) {
  mta__queue_id(buf, MTA__QID_BUFSZ, qm->body_id);
  return buf;
}

/* A message blob's parts: its record and the body after it; false when
 * the head is malformed (blobs are ours: only a damaged disk). */
static bool blob_split(const uint8_t *p, size_t n, const uint8_t **rec, size_t *rlen,
                       const uint8_t **body, size_t *blen) {
  uint64_t v = 0;
  size_t i = 0;
  for (int shift = 0; i < n && shift < 35; shift += 7) {
    uint8_t b = p[i++];
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      if (v > n - i)
        return false;
      *rec = p + i;
      *rlen = (size_t)v;
      *body = p + i + v;
      *blen = n - i - (size_t)v;
      return true;
    }
  }
  return false;
}

/* The head of a blob: the record's length as a varint (at most 5 octets). */
static size_t blob_head(uint8_t *buf, size_t rlen) {
  size_t n = 0;
  g_assert(rlen <= UINT32_MAX);
  while (rlen >= 0x80) {
    buf[n++] = (uint8_t)(rlen | 0x80);
    rlen >>= 7;
  }
  buf[n++] = (uint8_t)rlen;
  return n;
}

const uint8_t *mta__body(mta_host *m, uint64_t seq, size_t *len) {
  char key[64];
  mta__key(key, sizeof key, "q", seq);
  size_t n = 0, rlen;
  const uint8_t *p = disk_peek(host_disk(m->h), key, &n), *rec, *body;
  if (!p || !blob_split(p, n, &rec, &rlen, &body, len))
    return NULL;
  return body;
}

static mta__acc *acc_at(mta_host *m, uint64_t seq);

/* Octet I of the body written as the N PARTS one after the other. */
typedef struct {
  const disk_part *parts;
  size_t n;
} body_parts;

/* Do the octets of BP from part K, offset OFF on equal S (LEN octets)? */
static bool parts_equal(const body_parts *bp, size_t k, size_t off, const char *s, size_t len) {
  while (len) {
    if (k >= bp->n)
      return false;
    size_t have = bp->parts[k].len - off;
    size_t take = have < len ? have : len;
    if (take && memcmp((const char *)bp->parts[k].data + off, s, take) != 0)
      return false;
    s += take;
    len -= take;
    k++;
    off = 0;
  }
  return true;
}

/* Where the body (its parts BP, one after the other) holds MSGID: kept in
 * the account entry *AC, so the queue need not copy it (the Message-ID is
 * in the body anyway: a field the message came with, or the one store
 * added). False when it is not there verbatim, too long, or further in
 * than the account's 16 bits: the queue keeps it. The parts are searched
 * as the one body they make. */
static bool tag_place(mta__acc *ac, const body_parts *bp, const char *msgid) {
  ac->tag_off = ac->tag_len = 0;
  size_t n = strlen(msgid), total = 0, off = 0;
  for (size_t k = 0; k < bp->n; k++)
    total += bp->parts[k].len;
  if (!bp->n || n == 0 || n >= MTA__TAG_BUFSZ)
    return false;
  /* "<id>" first: a '<' is rare in a message, so this is a few memchr
   * (g_strstr_len tried every octet: ~3,700 instructions a message). */
  size_t base = 0;
  bool found = false;
  for (size_t k = 0; k < bp->n && !found; base += bp->parts[k].len, k++) {
    const char *p0 = bp->parts[k].data, *p = p0, *end = p0 + bp->parts[k].len;
    while (!found && p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
      size_t at = base + (size_t)(p - p0);
      bool here = (size_t)(end - p) >= n + 2; /* "<id>" inside this part: one memcmp */
      if (here ? memcmp(p + 1, msgid, n) == 0 && p[n + 1] == '>'
               : total - at >= n + 2 && parts_equal(bp, k, (size_t)(p - p0) + 1, msgid, n) &&
                     parts_equal(bp, k, (size_t)(p - p0) + 1 + n, ">", 1)) {
        off = at + 1;
        found = true;
      }
      p++;
    }
  }
  if (!found) {
    /* (a stored body has no NUL: smtp_srv refuses one; if it had, the
     * search would stop there and the queue keep the tag) */
    char *whole = NULL;
    const char *b = bp->parts[0].data;
    if (bp->n > 1) {
      whole = g_malloc(total ? total : 1);
      for (size_t k = 0, o = 0; k < bp->n; o += bp->parts[k].len, k++)
        if (bp->parts[k].len)
          memcpy(whole + o, bp->parts[k].data, bp->parts[k].len);
      b = whole;
    }
    const char *at = b ? g_strstr_len(b, (gssize)total, msgid) : NULL;
    if (at) {
      off = (size_t)(at - b);
      found = true;
    }
    g_free(whole);
  }
  if (found && off > MTA__ACC_TAG_OFF_MAX)
    found = false;
  if (found) {
    ac->tag_off = (unsigned)off;
    ac->tag_len = (unsigned)n;
  }
  return found;
}

const char *mta__tag(mta_host *m, const mta_msg *qm, char *buf) {
  const char *tag = mta_queue_msg_tag(qm);
  if (tag)
    return tag;
  const mta__acc *ac = acc_at(m, qm->body_id);
  size_t len = 0;
  const uint8_t *b = mta__body(m, qm->body_id, &len);
  g_assert(b && ac->tag_len && ac->tag_off + ac->tag_len <= len);
  memcpy(buf, b + ac->tag_off, ac->tag_len);
  buf[ac->tag_len] = 0;
  return buf;
}

static void put_seq(mta_host *m) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(m->seq >> (8 * i));
  /* Same size as before: a full disk never refuses it. */
  disk_put_data(host_disk(m->h), "mta/seq", b, 8);
}

uint64_t mta__next_seq(mta_host *m) {
  if (m->seq > UINT32_MAX) /* the queue keeps a message's number in 32 bits */
    g_error("mta: %s: message numbers exhausted", m->hostname);
  uint64_t s = m->seq++;
  put_seq(m);
  return s;
}

char *mta__make_msgid(mta_host *m, uint64_t seq) { return mta__make_msgid_buf(m, seq, NULL, 0); }

char *mta__make_msgid_buf(mta_host *m, uint64_t seq, char *buf, size_t bufsz) {
  int64_t secs = m->epoch + host_now(m->h) / SIM_S;
  /* "%" PRId64 ".%" PRIX64 "@%s", written by hand (g_strdup_printf was
   * ~1,200 instructions and a malloc a message without a Message-ID) */
  char num[48], *p = num + sizeof num;
  uint64_t u = secs < 0 ? -(uint64_t)secs : (uint64_t)secs;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (secs < 0)
    *--p = '-';
  size_t dl = (size_t)(num + sizeof num - p);
  char hex[17];
  size_t hl = (size_t)(put_hex(hex, seq, 1, "0123456789ABCDEF") - hex);
  size_t nl = strlen(m->hostname), total = dl + 1 + hl + 1 + nl;
  char *out = total < bufsz ? buf : g_malloc(total + 1);
  memcpy(out, p, dl);
  out[dl] = '.';
  memcpy(out + dl + 1, hex, hl);
  out[dl + 1 + hl] = '@';
  memcpy(out + dl + 2 + hl, m->hostname, nl + 1);
  return out;
}

G_STATIC_ASSERT(sizeof(mta__acc) == 8);
G_STATIC_ASSERT(MTA__TAG_BUFSZ <= 256); /* a tag's length fits mta__acc.tag_len */

static mta__acc *acc_at(mta_host *m, uint64_t seq) {
  g_assert(seq > 0);
  if (m->acc->len < seq)
    g_array_set_size(m->acc, (guint)seq);
  return &g_array_index(m->acc, mta__acc, seq - 1);
}

const mta_msg *mta__msg_get(mta_host *m, uint32_t qid) {
  const mta_msg *qm = mta_queue_get(m->q, qid);
  g_assert(qm);
  return qm;
}

/* Writes message QID's blob under KEY: its record (encoded now), then the
 * body from NBODY parts. The queue borrows the message's sender and
 * addresses from the record: pointed at the new blob once it is written
 * (a blob not written leaves the old one, and the pointers, as they were). */
static bool write_blob(mta_host *m, uint32_t qid, const char *key, const disk_part *body,
                       size_t nbody) {
  g_byte_array_set_size(m->rec, 0);
  mta_queue_msg_encode(m->q, qid, m->rec);
  uint8_t head[8];
  disk_part stack[8], *parts = nbody + 2 <= G_N_ELEMENTS(stack) ? stack : g_new(disk_part, nbody + 2);
  parts[0] = (disk_part){head, blob_head(head, m->rec->len)};
  parts[1] = (disk_part){m->rec->data, m->rec->len};
  for (size_t i = 0; i < nbody; i++)
    parts[2 + i] = body[i];
  bool ok = disk_put_parts(host_disk(m->h), key, parts, nbody + 2) == DISK_OK;
  if (ok) {
    size_t n = 0;
    const uint8_t *blob = disk_peek(host_disk(m->h), key, &n);
    mta_queue_msg_rebase(m->q, qid, blob + parts[0].len, m->rec->len);
  }
  if (parts != stack)
    g_free(parts);
  return ok;
}

void mta__rewrite(mta_host *m, uint32_t qid) {
  /* A record that cannot grow on a full disk stays as it was: after a
   * crash its recipients are tried again (a duplicate, never a loss). */
  uint64_t seq = mta__msg_get(m, qid)->body_id;
  char key[64];
  mta__key(key, sizeof key, "q", seq);
  size_t n = 0, rlen;
  const uint8_t *old = disk_peek(host_disk(m->h), key, &n), *rec;
  const uint8_t *body;
  size_t blen;
  bool split = old && blob_split(old, n, &rec, &rlen, &body, &blen);
  g_assert(split); /* written by store */
  /* the old blob stays until the new one is written (disk_put_parts) */
  disk_part part = {body, blen};
  write_blob(m, qid, key, &part, 1);
}

static const char *domain_of(const char *addr) {
  const char *at = strrchr(addr, '@');
  return at ? at + 1 : addr;
}

uint32_t mta__store(mta_host *m, const mta__store_args *a) {
  uint64_t size = 0;
  for (size_t i = 0; i < a->nbody; i++)
    size += a->body[i].len;
  body_parts bp = {a->body, a->nbody};
  mta__acc place;
  bool in_body = tag_place(&place, &bp, a->msgid);
  /* The next hops on the stack for the usual few recipients. */
  char *dbuf[16], names[4][128]; /* the first few names written in place */
  char **dests = a->nrcpts <= G_N_ELEMENTS(dbuf) ? dbuf : g_new(char *, a->nrcpts);
  for (size_t i = 0; i < a->nrcpts; i++)
    dests[i] = i < G_N_ELEMENTS(names)
                   ? mta_route_nexthop_into(m->route, domain_of(a->rcpts[i]), names[i], sizeof names[i])
                   : mta_route_nexthop_into(m->route, domain_of(a->rcpts[i]), NULL, 0);
  /* The envelope laid out as a record holds it (the sender, then the
   * first address right after its NUL: the queue finds the sender from
   * there and keeps no pointer), borrowed until write_blob points the
   * message at its record. */
  const char *sender = a->sender ? a->sender : "";
  size_t slen = strlen(sender), r0len = strlen(a->rcpts[0]);
  char ebuf[256], *env = slen + r0len + 2 <= sizeof ebuf ? ebuf : g_malloc(slen + r0len + 2);
  memcpy(env, sender, slen + 1);
  memcpy(env + slen + 1, a->rcpts[0], r0len + 1);
  const char *rbuf[16], **rcpts = a->nrcpts <= G_N_ELEMENTS(rbuf) ? rbuf : g_new(const char *, a->nrcpts);
  rcpts[0] = env + slen + 1;
  for (size_t i = 1; i < a->nrcpts; i++)
    rcpts[i] = a->rcpts[i];
  mta_queue_add_args qa = {.sender = env,
                           .rcpts = rcpts,
                           .dests = (const char *const *)dests,
                           .nrcpts = a->nrcpts,
                           .body_id = a->seq,
                           .size = size,
                           .arrival = host_now(m->h),
                           .dsn_of = a->dsn_of,
                           .tag = in_body ? NULL : a->msgid,
                           .borrow = true}; /* until write_blob points it at the record */
  uint32_t qid = mta_queue_add(m->q, &qa);
  for (size_t i = 0; i < a->nrcpts; i++)
    if (i >= G_N_ELEMENTS(names) || dests[i] != names[i])
      g_free(dests[i]);
  if (dests != dbuf)
    g_free(dests);
  char key[64];
  mta__key(key, sizeof key, "q", a->seq);
  bool stored = write_blob(m, qid, key, a->body, a->nbody);
  if (!stored)
    mta_queue_withdraw(m->q, qid);
  if (env != ebuf)
    g_free(env);
  if (rcpts != rbuf)
    g_free(rcpts);
  if (!stored)
    return 0;
  mta__acc *ac = acc_at(m, a->seq);
  ac->tag_off = place.tag_off;
  ac->tag_len = place.tag_len;
  ac->qid = qid;
  ac->state = MTA__ACC_QUEUED;
  ac->null_sender = !a->sender || !*a->sender;
  ac->is_dsn = a->dsn_of != 0;
  mta__kick_runner(m, host_now(m->h));
  return qid;
}

/* The longest wait between two tries (or the last try and the bounce) of
 * the profile's schedule, for a message whose every attempt fails at once,
 * plus one queue run: what the end-of-run liveness check waits for. */
static int64_t longest_gap(const mta_retry_profile *p, bool null_sender) {
  int64_t times[512], bounce_at = 0;
  size_t n = mta_retry_schedule(p, 0, null_sender, times, G_N_ELEMENTS(times), &bounce_at);
  int64_t gap = 0;
  for (size_t i = 0; i + 1 < n; i++)
    gap = MAX(gap, times[i + 1] - times[i]);
  if (n && bounce_at > times[n - 1])
    gap = MAX(gap, bounce_at - times[n - 1]);
  return gap + p->queue_run;
}

void mta__trace_queue(mta_host *m, const char *msgid, const char *queue_id, mail_rcpts r,
                      const char *sender) {
  bool null = !sender || !*sender;
  mail_queue_info qi = {null ? "" : sender, null ? m->retry.bounce_lifetime : m->retry.lifetime,
                        null ? m->null_retry_gap : m->retry_gap, m->policy_cfg.max_hops};
  mail_trace_queue(m->h, msgid, queue_id, r, &qi);
}

/* ---- departures ---- */

typedef struct {
  unsigned delivered, bounced;
} tally;

static tally count_states(const mta_msg *qm) {
  tally t = {0, 0};
  for (uint32_t i = 0; i < qm->nrcpts; i++) {
    t.delivered += qm->rcpts[i].state == MTA_RCPT_DELIVERED;
    t.bounced += qm->rcpts[i].state == MTA_RCPT_BOUNCED;
  }
  return t;
}

/* What the host needs of a message after the queue let it go (the queue
 * frees a message as it leaves): taken before the call that may retire it. */
typedef struct {
  uint64_t seq;
  char *msgid; /* buf, or a new string for a tag that does not fit */
  char queue_id[MTA__QID_BUFSZ];
  char buf[MTA__TAG_BUFSZ];
} ident;

static void ident_take(mta_host *m, ident *id, const mta_msg *qm) {
  id->seq = qm->body_id;
  const char *tag = mta__tag(m, qm, id->buf); /* in buf, or the queue's */
  size_t n = strlen(tag);
  if (tag == id->buf)
    id->msgid = id->buf;
  else if (n < sizeof id->buf)
    id->msgid = memcpy(id->buf, tag, n + 1);
  else
    id->msgid = g_strdup(tag);
  mta__qid_text(qm, id->queue_id);
}

static void ident_clear(ident *id) {
  if (id->msgid != id->buf)
    g_free(id->msgid);
  id->msgid = NULL;
}

/* The message of ID left the queue: trace, remove its files, account. */
static void departed(mta_host *m, const ident *id, tally t) {
  mail_trace_expire(m->h, id->msgid, id->queue_id);
  char key[64];
  mta__key(key, sizeof key, "q", id->seq);
  disk_remove(host_disk(m->h), key);
  mta__acc *ac = acc_at(m, id->seq);
  ac->state = MTA__ACC_DONE;
  ac->qid = 0;
  g_assert(t.bounced < 1u << 24); /* the account's field */
  ac->delivered = t.delivered;
  ac->bounced = t.bounced;
  m->st.left++;
}

static char *reason_of(const mta_rcpt *r) {
  unsigned code = mta_rcpt_code(r);
  const char *esc = mta_rcpt_esc(r), *text = mta_rcpt_text(r);
  if (code && esc[0])
    return g_strdup_printf("%u %s %s", code, esc, text ? text : "");
  if (code)
    return g_strdup_printf("%u %s", code, text ? text : "");
  return g_strdup(text ? text : "");
}

/* A DSN about QID: the bounced, unreported recipients (or, DELAYED, the
 * deferred ones). Returns false when it could not be stored. */
static bool make_dsn(mta_host *m, uint32_t qid, bool delayed) {
  const mta_msg *qm = mta__msg_get(m, qid);
  char qidbuf[MTA__QID_BUFSZ];
  const char *queue_id = mta__qid_text(qm, qidbuf);
  GArray *rs = g_array_new(FALSE, TRUE, sizeof(mta_dsn_rcpt));
  GPtrArray *which = g_ptr_array_new();
  int64_t until = qm->arrival + m->retry.lifetime;
  for (uint32_t i = 0; i < qm->nrcpts; i++) {
    const mta_rcpt *r = &qm->rcpts[i];
    bool pick = delayed ? r->state == MTA_RCPT_DEFERRED
                        : r->state == MTA_RCPT_BOUNCED && !(r->flags & MTA_RCPT_F_REPORTED);
    if (!pick)
      continue;
    mta_dsn_rcpt d = {0};
    d.rcpt = r->addr;
    d.action = delayed ? MTA_DSN_DELAYED : MTA_DSN_FAILED;
    const char *esc = mta_rcpt_esc(r), *text = mta_rcpt_text(r);
    unsigned code = mta_rcpt_code(r);
    d.status = esc[0] && (esc[0] == '4' || esc[0] == '5') ? esc
                                                          : (code >= 500 || !delayed ? "5.0.0" : "4.0.0");
    d.remote_mta = mta_rcpt_remote_mta(r);
    d.code = code >= 200 && code < 600 ? (int)code : 0;
    d.text = text ? text : "delivery failed";
    d.last_attempt = r->last_try;
    d.retry_until = delayed ? until : -1;
    g_array_append_val(rs, d);
    g_ptr_array_add(which, (gpointer)r);
  }
  if (rs->len == 0) {
    g_array_free(rs, TRUE);
    g_ptr_array_free(which, TRUE);
    return true;
  }
  uint64_t seq = m->seq; /* taken only if stored */
  char *msgid = mta__make_msgid(m, seq);
  char *from = g_strdup_printf("MAILER-DAEMON@%s", m->hostname);
  size_t olen = 0;
  const uint8_t *odata = mta__body(m, qm->body_id, &olen);
  if (!odata)
    olen = 0;
  mta_dsn_config c = {.reporting_mta = m->hostname,
                      .from = from,
                      .from_name = "Mail Delivery System",
                      .to = mta_queue_msg_sender(qm),
                      .message_id = msgid,
                      .date = host_now(m->h),
                      .epoch_unix = m->epoch,
                      .queue_id = queue_id,
                      .arrival = qm->arrival,
                      .rcpts = (const mta_dsn_rcpt *)rs->data,
                      .nrcpts = rs->len,
                      .original = odata,
                      .original_len = olen};
  char *err = NULL;
  GBytes *dsn = mta_dsn_build(&c, &err);
  if (!dsn) { /* an original header the report cannot quote: leave it out */
    g_free(err);
    err = NULL;
    c.original = NULL;
    c.original_len = 0;
    dsn = mta_dsn_build(&c, &err);
  }
  bool ok = false;
  if (dsn) {
    mta__next_seq(m);
    const char *to[] = {mta_queue_msg_sender(qm)};
    gsize dlen;
    const void *dp = g_bytes_get_data(dsn, &dlen);
    disk_part part = {dp, dlen};
    mta__store_args sa = {"", to, 1, &part, 1, seq, msgid, qid};
    uint32_t dq = mta__store(m, &sa);
    ok = dq != 0;
    if (ok) {
      m->st.dsns++;
      char dqid[MTA__QID_BUFSZ];
      mta__trace_queue(m, msgid, mta__qid_text(mta__msg_get(m, dq), dqid), (mail_rcpts){to, 1},
                       "");
      if (delayed) {
        mta_queue_warning_sent(m->q, qid);
      } else {
        for (guint i = 0; i < which->len; i++) {
          const mta_rcpt *r = which->pdata[i];
          char *why = reason_of(r);
          char tagbuf[MTA__TAG_BUFSZ];
          mail_trace_bounce(m->h, mta__tag(m, qm, tagbuf), queue_id, r->addr, why, msgid);
          g_free(why);
        }
        acc_at(m, qm->body_id)->dsn_sent = 1;
        tally t = count_states(qm);
        ident id;
        ident_take(m, &id, qm);
        mta_queue_dsn_queued(m->q, qid, dq);
        if (!mta_queue_get(m->q, qid))
          departed(m, &id, t);
        else
          mta__rewrite(m, qid);
        ident_clear(&id);
      }
    }
    g_bytes_unref(dsn);
  } else {
    g_free(err); /* cannot happen with a checked config; the message waits */
  }
  g_free(from);
  g_free(msgid);
  g_array_free(rs, TRUE);
  g_ptr_array_free(which, TRUE);
  return ok;
}

/* A DSN that could not be stored (full disk) is tried again this often. */
#define DSN_RETRY (60 * SIM_S)

static void dsn_or_wait(mta_host *m, uint32_t qid) {
  if (mta_queue_needs_dsn(m->q, qid) && !make_dsn(m, qid, false)) {
    g_array_append_val(m->dsn_retry, qid);
    mta__kick_runner(m, host_now(m->h) + DSN_RETRY);
  }
}

void mta__dsn_retry(mta_host *m) {
  if (!m->dsn_retry->len)
    return;
  GArray *again = m->dsn_retry;
  m->dsn_retry = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  for (guint i = 0; i < again->len; i++) {
    uint32_t qid = g_array_index(again, uint32_t, i);
    const mta_msg *qm = mta_queue_get(m->q, qid);
    if (qm && !qm->in_attempt)
      dsn_or_wait(m, qid);
  }
  g_array_free(again, TRUE);
}

/* A null-sender message's recipients that the profile is about to give
 * up on: their bounces are traced, never reported (RFC 3464 §2). */
static GPtrArray *null_sender_pending(const mta_msg *qm) {
  if (*mta_queue_msg_sender(qm))
    return NULL;
  GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
  for (uint32_t i = 0; i < qm->nrcpts; i++) {
    const mta_rcpt *r = &qm->rcpts[i];
    if (r->state != MTA_RCPT_DELIVERED && r->state != MTA_RCPT_BOUNCED) {
      g_ptr_array_add(v, g_strdup(r->addr));
      g_ptr_array_add(v, reason_of(r));
    }
  }
  return v;
}

static void trace_null_bounces(mta_host *m, const char *msgid, const char *queue_id, GPtrArray *v) {
  for (guint i = 0; v && i + 1 < v->len; i += 2)
    mail_trace_bounce(m->h, msgid, queue_id, v->pdata[i], v->pdata[i + 1], "");
}

void mta__finish_attempt(mta_host *m, uint32_t qid) {
  const mta_msg *qm = mta__msg_get(m, qid);
  sim_time now = host_now(m->h);
  GPtrArray *nullv = null_sender_pending(qm);
  ident id;
  ident_take(m, &id, qm);
  mta_queue_outcome out;
  mta_queue_end_attempt(m->q, qid, &m->retry, now, &out);
  bool gave_up = nullv && nullv->len && out.verdict == MTA_RETRY_BOUNCE;
  if (gave_up)
    trace_null_bounces(m, id.msgid, id.queue_id, nullv);
  if (nullv)
    g_ptr_array_free(nullv, TRUE);
  if (out.done) {
    tally t = {out.delivered, out.bounced};
    departed(m, &id, t);
    ident_clear(&id);
    return;
  }
  qm = mta_queue_get(m->q, qid);
  if (out.deferred && out.verdict != MTA_RETRY_BOUNCE) {
    for (uint32_t i = 0; i < qm->nrcpts; i++) {
      const mta_rcpt *r = &qm->rcpts[i];
      if (r->state != MTA_RCPT_DEFERRED)
        continue;
      char *why = reason_of(r);
      mail_trace_defer(m->h, id.msgid, id.queue_id, r->addr, why, out.next);
      g_free(why);
    }
  }
  ident_clear(&id);
  if (out.needs_dsn) {
    dsn_or_wait(m, qid);
    if (!mta_queue_get(m->q, qid))
      return;
  }
  if (mta_queue_warning_due(m->q, qid, &m->retry, now))
    make_dsn(m, qid, true);
  mta__rewrite(m, qid);
  mta__kick_runner(m, mta_queue_next_due(m->q));
}

bool mta__begin(mta_host *m, uint32_t qid) {
  sim_time now = host_now(m->h);
  const mta_msg *qm = mta_queue_get(m->q, qid);
  bool expiring =
      qm->expire_pending || mta_retry_expired(&m->retry, qm->arrival, !*mta_queue_msg_sender(qm), now);
  if (!expiring)
    return mta_queue_begin_attempt(m->q, qid, &m->retry, now);
  GPtrArray *nullv = null_sender_pending(qm);
  tally t = count_states(qm);
  unsigned n = qm->nrcpts;
  ident id;
  ident_take(m, &id, qm);
  bool began = mta_queue_begin_attempt(m->q, qid, &m->retry, now);
  g_assert(!began);
  trace_null_bounces(m, id.msgid, id.queue_id, nullv);
  if (nullv)
    g_ptr_array_free(nullv, TRUE);
  if (!mta_queue_get(m->q, qid)) {
    t.bounced = n - t.delivered;
    departed(m, &id, t);
    ident_clear(&id);
    return false;
  }
  ident_clear(&id);
  mta__rewrite(m, qid);
  dsn_or_wait(m, qid);
  return false;
}

/* ---- the queue runner ---- */

static void run_fire(void *a, void *b) {
  (void)b;
  mta_host *m = a;
  m->run_timer = 0;
  m->run_at = INT64_MAX;
  mta__run_queue(m);
  mta__kick_runner(m, mta_queue_next_due(m->q));
  if (m->up && m->dsn_retry->len)
    mta__kick_runner(m, host_now(m->h) + DSN_RETRY);
}

void mta__kick_runner(mta_host *m, sim_time at) {
  if (!m->up || at == INT64_MAX)
    return;
  sim_time now = host_now(m->h);
  if (at < now)
    at = now;
  if (m->run_timer && m->run_at <= at)
    return;
  if (m->run_timer)
    sim_world_cancel(host_world(m->h), m->run_timer);
  m->run_at = at;
  m->run_timer = sim_world_at(host_world(m->h), at, run_fire, m, NULL);
}

/* ---- life cycle ---- */

char *mta__msgid_of(const char *raw, size_t raw_len, char *buf, size_t bufsz) {
  if (!raw)
    return NULL;
  /* unfolded, stripped, its <> dropped (mime__unfold_into writes at most
   * RAW_LEN + 1 octets) */
  char *v = raw_len < bufsz ? buf : g_malloc(raw_len + 1);
  mime_hdr_unfold_into(raw, raw_len, v);
  char *s = g_strstrip(v);
  size_t n = strlen(s);
  if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
    s[n - 1] = 0;
    memmove(s, s + 1, n - 1);
  }
  if (*s)
    return s;
  if (v != buf)
    g_free(v);
  return NULL;
}

/* The Message-ID of the message P (LEN octets), as mta__msgid_of gives it. */
static char *parse_msgid(const char *p, size_t len, char *buf, size_t bufsz) {
  if (!p)
    return NULL;
  mta_policy_header hd;
  mta_policy_scan_header((const uint8_t *)p, len, &hd);
  return mta__msgid_of(hd.msgid, hd.msgid_len, buf, bufsz);
}

static void load(mta_host *m) {
  disk *d = host_disk(m->h);
  size_t sl = 0;
  const uint8_t *b = disk_peek(d, "mta/seq", &sl);
  if (b && sl == 8) {
    m->seq = 0;
    for (int i = 7; i >= 0; i--)
      m->seq = (m->seq << 8) | b[i];
  }
  GPtrArray *keys = disk_list(d, "mta/q/");
  for (guint i = 0; i < keys->len; i++) {
    size_t bn, n, blen;
    const uint8_t *blob = disk_peek(d, keys->pdata[i], &bn), *p, *body;
    uint64_t seq;
    /* blobs are ours; a bad one is kept for a person to see */
    if (!blob_split(blob, bn, &p, &n, &body, &blen) || !mta_queue_msg_peek_body_id(p, n, &seq))
      continue;
    char idbuf[MTA__ID_BUFSZ];
    char *id = parse_msgid((const char *)body, blen, idbuf, sizeof idbuf);
    char *gen = id ? NULL : mta__make_msgid(m, seq);
    disk_part whole = {body, blen};
    body_parts bp = {&whole, 1};
    mta__acc place;
    bool in_body = tag_place(&place, &bp, id ? id : gen);
    char *err = NULL;
    uint32_t qid =
        mta_queue_msg_decode_borrowed(m->q, p, n, in_body ? NULL : id ? id : gen, &err);
    if (id != idbuf)
      g_free(id);
    g_free(gen);
    if (!qid) {
      g_free(err);
      continue;
    }
    mta__acc *ac = acc_at(m, seq);
    ac->qid = qid;
    ac->tag_off = place.tag_off;
    ac->tag_len = place.tag_len;
    if (seq >= m->seq)
      m->seq = seq + 1;
    if (mta_queue_needs_dsn(m->q, qid))
      g_array_append_val(m->dsn_retry, qid);
  }
  g_ptr_array_unref(keys);
}

static void start(mta_host *m) {
  m->up = true;
  m->q = mta_queue_new_shared(m->texts);
  mta_queue_set_retry_room(m->q, mta_retry_keeps_state(&m->retry)); /* Exim only: 16 octets a message */
  m->policy = mta_policy_new(&m->policy_cfg);
  m->dest_idx = g_hash_table_new(g_str_hash, g_str_equal);
  m->dests = g_ptr_array_new();
  m->agents = g_ptr_array_new();
  m->blocked = g_ptr_array_new();
  m->busy = 0;
  m->conns = g_ptr_array_new();
  m->dsn_retry = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  m->run_at = INT64_MAX;
  load(m);
  put_seq(m);
  mta__smtpd_start(m);
  mta__kick_runner(m, host_now(m->h));
}

/* Drops everything the machine held in memory (its disk stays). */
static void stop(mta_host *m) {
  if (!m->up)
    return;
  m->up = false;
  mta__smtpd_drop(m);
  mta__deliver_drop(m);
  if (m->run_timer)
    sim_world_cancel(host_world(m->h), m->run_timer);
  m->run_timer = 0;
  g_hash_table_destroy(m->dest_idx);
  g_ptr_array_free(m->dests, TRUE);
  g_ptr_array_free(m->agents, TRUE);
  g_ptr_array_free(m->blocked, TRUE);
  g_ptr_array_free(m->conns, TRUE);
  g_array_free(m->dsn_retry, TRUE);
  mta_queue_free(m->q);
  mta_policy_free(m->policy);
  m->q = NULL;
  m->policy = NULL;
}

#ifdef MTA_TEST_FORGET_QUEUE_ON_CRASH
/* TEST-ONLY (meson -Dtest_forget_queue_on_crash=true): a deliberate bug
 * that loses every queued message at a crash, so that the invariant
 * checker can be shown to catch a loss. */
static void forget_queue(mta_host *m) {
  disk *d = host_disk(m->h);
  GPtrArray *keys = disk_list(d, "mta/");
  GPtrArray *copy = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < keys->len; i++)
    if (!g_str_equal(keys->pdata[i], "mta/seq"))
      g_ptr_array_add(copy, g_strdup(keys->pdata[i]));
  g_ptr_array_unref(keys);
  for (guint i = 0; i < copy->len; i++)
    disk_remove(d, copy->pdata[i]);
  g_ptr_array_unref(copy);
}
#endif

bool mta_host_test_forgets_queue(void) {
#ifdef MTA_TEST_FORGET_QUEUE_ON_CRASH
  return true;
#else
  return false;
#endif
}

static void on_crash(void *user, bool crashed) {
  mta_host *m = user;
  if (crashed) {
    /* The kernel already dropped the sockets and listeners. */
    m->lis25 = m->lis587 = NULL;
    stop(m);
#ifdef MTA_TEST_FORGET_QUEUE_ON_CRASH
    forget_queue(m);
#endif
  } else {
    m->st.restarts++;
    start(m);
  }
}

mta_host *mta_host_new(host *h, const mta_host_config *cfg, userdir *users, tls_host *tls,
                       dns_client *dns) {
  mta_host *m = g_new0(mta_host, 1);
  m->h = h;
  m->hostname = g_strdup(cfg->hostname ? cfg->hostname : host_name(h));
  m->locals = g_ptr_array_new_with_free_func(g_free);
  for (size_t i = 0; i < cfg->nlocal_domains; i++)
    g_ptr_array_add(m->locals, g_ascii_strdown(cfg->local_domains[i], -1));
  m->submission = cfg->submission;
  m->mx = cfg->mx;
  m->verify_local = cfg->verify_local_rcpt;
  m->ipv6 = cfg->ipv6;
  m->mailbox_host = g_strdup(cfg->mailbox_host);
  m->mailbox_port = cfg->mailbox_port ? cfg->mailbox_port : 25;
  mta_retry_kind kind = MTA_RETRY_POSTFIX;
  if (cfg->retry_profile && !mta_retry_kind_parse(cfg->retry_profile, &kind))
    g_error("mta_host_new: unknown retry profile %s", cfg->retry_profile);
  mta_retry_profile_init(&m->retry, kind);
  m->retry_gap = longest_gap(&m->retry, false);
  m->null_retry_gap = longest_gap(&m->retry, true);
  m->rcpt_limit = cfg->rcpt_limit ? cfg->rcpt_limit : 50;
  m->conn_cache_time = cfg->conn_cache_time;
  m->epoch = cfg->epoch_unix;
  m->tls_policy = cfg->tls_policy;
  m->texts = cfg->texts;
  m->users = users;
  m->tls = tls;
  m->dns = dns;
  m->policy_cfg = cfg->policy;
  m->acc = g_array_new(FALSE, TRUE, sizeof(mta__acc));
  m->rec = g_byte_array_new();
  m->seq = 1;

  /* Routes: local domains, the smarthost, and this host's own names and
   * addresses (MX-to-self). */
  mta_route_config rc;
  mta_route_config_init(&rc);
  GArray *locals = g_array_new(FALSE, FALSE, sizeof(mta_route_local));
  for (guint i = 0; m->mailbox_host && i < m->locals->len; i++) {
    mta_route_local l = {m->locals->pdata[i], m->mailbox_host, m->mailbox_port};
    g_array_append_val(locals, l);
  }
  rc.locals = (const mta_route_local *)locals->data;
  rc.nlocals = locals->len;
  mta_route_override ovr = {"*", cfg->smarthost, cfg->smarthost_port};
  if (cfg->smarthost) {
    rc.overrides = &ovr;
    rc.noverrides = 1;
  }
  const char *names[] = {m->hostname};
  rc.self_names = names;
  rc.nself_names = 1;
  GPtrArray *addrs = g_ptr_array_new_with_free_func(g_free);
  sim_node *n = host_node(h);
  for (size_t i = 0; i < sim_node_addr_count(n); i++) {
    char buf[SIM_ADDR_BUFSZ];
    g_ptr_array_add(addrs, g_strdup(sim_addr_format(sim_node_addr_at(n, i), buf)));
  }
  rc.self_addrs = (const char *const *)addrs->pdata;
  rc.nself_addrs = addrs->len;
  rc.dest_concurrency = cfg->dest_concurrency ? cfg->dest_concurrency : m->retry.dest_concurrency;
  m->process_limit = cfg->process_limit ? cfg->process_limit : m->retry.process_limit;
  m->reuse_time_limit = rc.reuse_time_limit;
  m->route = mta_route_new(&rc);
  g_array_free(locals, TRUE);
  g_ptr_array_free(addrs, TRUE);

  host_on_crash(h, on_crash, m);
  if (sim_node_is_up(n))
    start(m);
  return m;
}

void mta_host_free(mta_host *m) {
  if (!m)
    return;
  sim_tcp_unlisten(m->lis25);
  sim_tcp_unlisten(m->lis587);
  stop(m); /* cancels our events; the world frees the connections */
  mta_route_free(m->route);
  g_ptr_array_free(m->locals, TRUE);
  g_free(m->mailbox_host);
  g_free(m->hostname);
  g_array_free(m->acc, TRUE);
  g_byte_array_free(m->rec, TRUE);
  g_free(m);
}

/* ---- observation ---- */

void mta_host_get_stats(const mta_host *m, mta_host_stats *st) {
  *st = m->st;
  if (m->up) {
    mta_queue_stats qs;
    mta_queue_get_stats(m->q, &qs);
    st->queued = qs.queued;
  } else {
    GPtrArray *keys = disk_list(host_disk(m->h), "mta/q/");
    st->queued = keys->len;
    g_ptr_array_unref(keys);
  }
}

size_t mta_host_memory(const mta_host *m) {
  if (!m->up)
    return 0;
  return mta_queue_memory(m->q) + m->acc->len * sizeof(mta__acc);
}

static void viol(GPtrArray *v, size_t *count, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void viol(GPtrArray *v, size_t *count, const char *fmt, ...) {
  (*count)++;
  if (!v)
    return;
  va_list ap;
  va_start(ap, fmt);
  g_ptr_array_add(v, g_strdup_vprintf(fmt, ap));
  va_end(ap);
}

/* Is the account's message SEQ really held: in the queue (up), or its
 * record on the disk (down)? */
static bool acc_there(const mta_host *m, const mta__acc *a, uint64_t seq) {
  if (m->up)
    return a->qid && mta_queue_get(m->q, a->qid) && mta_queue_get(m->q, a->qid)->body_id == seq;
  char key[64];
  mta__key(key, sizeof key, "q", seq);
  size_t len;
  return disk_peek(host_disk(m->h), key, &len) != NULL;
}

void mta_host_queue_ids(const mta_host *m, GPtrArray *out) {
  for (guint i = 0; i < m->acc->len; i++) {
    const mta__acc *a = &g_array_index(m->acc, mta__acc, i);
    uint64_t seq = (uint64_t)i + 1;
    if (a->state == MTA__ACC_QUEUED && acc_there(m, a, seq))
      g_ptr_array_add(out, g_strdup_printf("%06" PRIX64, seq));
  }
}

size_t mta_host_check(const mta_host *m, GPtrArray *violations) {
  size_t count = 0;
  const char *hn = host_name(m->h);
  GArray *live = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  for (guint i = 0; i < m->acc->len; i++) {
    const mta__acc *a = &g_array_index(m->acc, mta__acc, i);
    uint64_t seq = (uint64_t)i + 1;
    if (a->state == MTA__ACC_QUEUED) {
      bool there = acc_there(m, a, seq);
      if (there && m->up)
        g_array_append_val(live, a->qid);
      if (!there)
        viol(violations, &count, "%s: message %06" PRIX64 ": accepted, then lost", hn, seq);
    } else if (a->state == MTA__ACC_DONE) {
      if (a->bounced && !a->null_sender && !a->dsn_sent)
        viol(violations, &count, "%s: message %06" PRIX64 ": %u recipient(s) bounced without a DSN",
             hn, seq, a->bounced);
      if (a->dsn_sent && a->null_sender)
        viol(violations, &count, "%s: message %06" PRIX64 ": a DSN about a null-sender message", hn,
             seq);
    }
  }
  if (m->up && live->len) {
    GPtrArray *qv = g_ptr_array_new_with_free_func(g_free);
    count += mta_queue_check(m->q, (const uint32_t *)live->data, live->len, qv);
    for (guint i = 0; violations && i < qv->len; i++)
      g_ptr_array_add(violations, g_strdup_printf("%s: %s", hn, (const char *)qv->pdata[i]));
    g_ptr_array_free(qv, TRUE);
  }
  g_array_free(live, TRUE);
  return count;
}
