/* dns_wire.c — the DNS message model and its wire codec.
 *
 * Decoding follows RFC 1035 §4.1 and is hardened per RFC 9267: counts are
 * checked against the smallest size their entries could take before any
 * allocation (§4), every read is bounds-checked, names go through
 * dns_name_decode (pointer loops, forward and out-of-bounds pointers,
 * reserved label types, length limits), and each RDATA must be consumed
 * exactly by its RDLENGTH (§5). EDNS(0) follows RFC 6891 §6.1: one OPT, in
 * the additional section, owner root; its extended RCODE forms the upper 8
 * bits of the 12-bit RCODE.
 *
 * Encoding compresses names (RFC 1035 §4.1.4) by remembering the offset of
 * every label written (below 0x4000) and reusing the longest suffix already
 * present, compared octet for octet so that case is preserved (RFC 4343 §4). Names inside RDATA are
 * compressed only for the RFC 1035 types (RFC 3597 §4); SRV targets never (RFC 2782). Truncation
 * follows RFC 1035 §4.2.1 and RFC 2181 §9: whole RRsets are dropped, TC is set only when an answer
 * or authority RRset did not fit, and the OPT record always stays (RFC 6891 §7). */
#include "dns_wire.h"
#include "dns_wire_int.h"

#include <string.h>

/* ---- model ------------------------------------------------------------ */

void dns_rr_init(dns_rr *rr, const dns_name *owner, uint16_t type, uint32_t ttl) {
  memset(rr, 0, sizeof *rr);
  rr->owner = *owner;
  rr->type = type;
  rr->rclass = DNS_C_IN;
  rr->ttl = ttl;
}

void dns_rr_clear(dns_rr *rr) {
  if (!rr)
    return;
  g_free(rr->raw);
  rr->raw = NULL;
  rr->rawlen = 0;
}

void dns_rr_copy(dns_rr *dst, const dns_rr *src) {
  *dst = *src;
  dst->raw = src->rawlen ? g_memdup2(src->raw, src->rawlen) : NULL;
}

void dns_rr_set_raw(dns_rr *rr, const uint8_t *data, size_t len) {
  g_assert(len <= 65535);
  g_free(rr->raw);
  rr->raw = len ? g_memdup2(data, len) : NULL;
  rr->rawlen = (uint16_t)len;
}

dns_err dns_rr_txt_add(dns_rr *rr, const uint8_t *s, size_t len) {
  if (len > 255 || (size_t)rr->rawlen + 1 + len > 65535)
    return DNS_ERR_SYNTAX;
  rr->raw = g_realloc(rr->raw, (size_t)rr->rawlen + 1 + len);
  rr->raw[rr->rawlen] = (uint8_t)len;
  if (len)
    memcpy(rr->raw + rr->rawlen + 1, s, len);
  rr->rawlen = (uint16_t)(rr->rawlen + 1 + len);
  return DNS_OK;
}

size_t dns_rr_txt_count(const dns_rr *rr) {
  size_t n = 0;
  for (size_t i = 0; i < rr->rawlen; i += (size_t)rr->raw[i] + 1)
    n++;
  return n;
}

const uint8_t *dns_rr_txt_get(const dns_rr *rr, size_t idx, size_t *len) {
  size_t n = 0;
  for (size_t i = 0; i < rr->rawlen; i += (size_t)rr->raw[i] + 1, n++) {
    if (n == idx) {
      *len = rr->raw[i];
      return rr->raw + i + 1;
    }
  }
  g_error("dns_rr_txt_get: index %zu out of range", idx);
}

bool dns_rr_same_data(const dns_rr *a, const dns_rr *b) {
  if (a->type != b->type || a->rclass != b->rclass || !dns_name_equal(&a->owner, &b->owner))
    return false;
  switch (a->type) {
  case DNS_T_A:
    return memcmp(a->rd.a, b->rd.a, 4) == 0;
  case DNS_T_AAAA:
    return memcmp(a->rd.aaaa, b->rd.aaaa, 16) == 0;
  case DNS_T_NS:
  case DNS_T_CNAME:
  case DNS_T_PTR:
    return dns_name_equal(&a->rd.name, &b->rd.name);
  case DNS_T_MX:
    return a->rd.mx.pref == b->rd.mx.pref && dns_name_equal(&a->rd.mx.exchange, &b->rd.mx.exchange);
  case DNS_T_SOA:
    return dns_name_equal(&a->rd.soa.mname, &b->rd.soa.mname) &&
           dns_name_equal(&a->rd.soa.rname, &b->rd.soa.rname) &&
           a->rd.soa.serial == b->rd.soa.serial && a->rd.soa.refresh == b->rd.soa.refresh &&
           a->rd.soa.retry == b->rd.soa.retry && a->rd.soa.expire == b->rd.soa.expire &&
           a->rd.soa.minimum == b->rd.soa.minimum;
  case DNS_T_SRV:
    return a->rd.srv.priority == b->rd.srv.priority && a->rd.srv.weight == b->rd.srv.weight &&
           a->rd.srv.port == b->rd.srv.port && dns_name_equal(&a->rd.srv.target, &b->rd.srv.target);
  default:
    return a->rawlen == b->rawlen && (a->rawlen == 0 || memcmp(a->raw, b->raw, a->rawlen) == 0);
  }
}

static void rr_clear_cb(gpointer p) { dns_rr_clear(p); }

/* The question and section arrays are made when their first entry comes:
 * most messages leave two or three of the four empty, and an array is a
 * block of its own (made and freed per message on a resolver's path). */
void dns_msg_init(dns_msg *m) { memset(m, 0, sizeof *m); }

static GArray *sec_array(dns_msg *m, dns_section s) {
  if (!m->sec[s]) {
    m->sec[s] = g_array_new(FALSE, FALSE, sizeof(dns_rr));
    g_array_set_clear_func(m->sec[s], rr_clear_cb);
  }
  return m->sec[s];
}

/* Appends question Q: the first in place, the others in a block. */
static void question_push(dns_msg *m, const dns_question *q) {
  if (m->qdcount == 0) {
    m->q0 = *q;
  } else {
    if (!m->more_questions)
      m->more_questions = g_array_new(FALSE, FALSE, sizeof(dns_question));
    g_array_append_vals(m->more_questions, q, 1);
  }
  m->qdcount++;
}

void dns_msg_clear(dns_msg *m) {
  if (m->more_questions)
    g_array_free(m->more_questions, TRUE);
  for (int s = 0; s < DNS_SEC_COUNT; s++)
    if (m->sec[s])
      g_array_free(m->sec[s], TRUE);
  if (m->edns.options)
    g_byte_array_free(m->edns.options, TRUE);
  memset(m, 0, sizeof *m);
}

dns_msg *dns_msg_new(void) {
  dns_msg *m = g_new(dns_msg, 1);
  dns_msg_init(m);
  return m;
}

void dns_msg_free(dns_msg *m) {
  if (!m)
    return;
  dns_msg_clear(m);
  g_free(m);
}

void dns_msg_add_question(dns_msg *m, const dns_name *name, uint16_t type, uint16_t rclass) {
  dns_question q = {.name = *name, .type = type, .rclass = rclass};
  question_push(m, &q);
}

dns_rr *dns_msg_add_rr(dns_msg *m, dns_section s, const dns_rr *rr) {
  dns_rr c;
  dns_rr_copy(&c, rr);
  return dns_msg_take_rr(m, s, &c);
}

dns_rr *dns_msg_take_rr(dns_msg *m, dns_section s, dns_rr *rr) {
  g_assert((unsigned)s < DNS_SEC_COUNT);
  g_assert(rr->type != DNS_T_OPT);
  g_array_append_vals(sec_array(m, s), rr, 1);
  rr->raw = NULL;
  rr->rawlen = 0;
  return &g_array_index(m->sec[s], dns_rr, m->sec[s]->len - 1);
}

guint dns_msg_count(const dns_msg *m, dns_section s) { return m->sec[s] ? m->sec[s]->len : 0; }

guint dns_msg_qdcount(const dns_msg *m) { return m->qdcount; }

dns_rr *dns_msg_rr(const dns_msg *m, dns_section s, guint i) {
  g_assert(i < dns_msg_count(m, s));
  return &g_array_index(m->sec[s], dns_rr, i);
}

const dns_question *dns_msg_question(const dns_msg *m) { return m->qdcount ? &m->q0 : NULL; }

dns_question *dns_msg_question_at(dns_msg *m, guint i) {
  g_assert(i < m->qdcount);
  return i == 0 ? &m->q0 : &g_array_index(m->more_questions, dns_question, i - 1);
}

void dns_msg_set_edns(dns_msg *m, uint16_t udp_size, bool do_bit) {
  m->edns.present = true;
  m->edns.udp_size = udp_size;
  m->edns.version = 0;
  m->edns.do_bit = do_bit;
  m->edns.z = 0;
}

size_t dns_msg_udp_limit(const dns_msg *q, size_t server_max) {
  if (!q->edns.present)
    return DNS_UDP_MIN;
  size_t want = q->edns.udp_size < DNS_UDP_MIN ? DNS_UDP_MIN : q->edns.udp_size;
  if (server_max < DNS_UDP_MIN)
    server_max = DNS_UDP_MIN;
  return want < server_max ? want : server_max;
}

/* ---- decoding ---------------------------------------------------------- */

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t get32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

bool dns_header_peek(const uint8_t *buf, size_t len, dns_header *h) {
  if (len < DNS_HEADER_LEN)
    return false;
  h->id = get16(buf);
  h->flags = get16(buf + 2);
  h->qdcount = get16(buf + 4);
  h->ancount = get16(buf + 6);
  h->nscount = get16(buf + 8);
  h->arcount = get16(buf + 10);
  return true;
}

/* Decodes the RDATA of RR, which occupies BUF[off, off + rdlen). */
dns_err dns__rdata_decode(const uint8_t *buf, size_t len, size_t off, uint16_t rdlen, dns_rr *rr) {
  size_t end = off + rdlen;
  dns_err e;
  switch (rr->type) {
  case DNS_T_A:
    if (rdlen != 4)
      return DNS_ERR_RDLENGTH;
    memcpy(rr->rd.a, buf + off, 4);
    return DNS_OK;
  case DNS_T_AAAA:
    if (rdlen != 16)
      return DNS_ERR_RDLENGTH;
    memcpy(rr->rd.aaaa, buf + off, 16);
    return DNS_OK;
  case DNS_T_NS:
  case DNS_T_CNAME:
  case DNS_T_PTR:
    if ((e = dns_name_decode(buf, len, &off, &rr->rd.name)))
      return e;
    break;
  case DNS_T_MX:
    if (rdlen < 3)
      return DNS_ERR_RDLENGTH;
    rr->rd.mx.pref = get16(buf + off);
    off += 2;
    if ((e = dns_name_decode(buf, len, &off, &rr->rd.mx.exchange)))
      return e;
    break;
  case DNS_T_SRV:
    if (rdlen < 7)
      return DNS_ERR_RDLENGTH;
    rr->rd.srv.priority = get16(buf + off);
    rr->rd.srv.weight = get16(buf + off + 2);
    rr->rd.srv.port = get16(buf + off + 4);
    off += 6;
    if ((e = dns_name_decode(buf, len, &off, &rr->rd.srv.target)))
      return e;
    break;
  case DNS_T_SOA:
    if ((e = dns_name_decode(buf, len, &off, &rr->rd.soa.mname)))
      return e;
    if (off > end)
      return DNS_ERR_RDLENGTH;
    if ((e = dns_name_decode(buf, len, &off, &rr->rd.soa.rname)))
      return e;
    if (off + 20 != end)
      return DNS_ERR_RDLENGTH;
    rr->rd.soa.serial = get32(buf + off);
    rr->rd.soa.refresh = get32(buf + off + 4);
    rr->rd.soa.retry = get32(buf + off + 8);
    rr->rd.soa.expire = get32(buf + off + 12);
    rr->rd.soa.minimum = get32(buf + off + 16);
    return DNS_OK;
  case DNS_T_TXT: {
    /* One or more <character-string>s exactly filling RDATA (RFC 1035 §3.3.14). */
    if (rdlen == 0)
      return DNS_ERR_RDLENGTH;
    size_t i = off;
    while (i < end)
      i += (size_t)buf[i] + 1;
    if (i != end)
      return DNS_ERR_RDLENGTH;
    dns_rr_set_raw(rr, buf + off, rdlen);
    return DNS_OK;
  }
  default:
    dns_rr_set_raw(rr, buf + off, rdlen);
    return DNS_OK;
  }
  return off == end ? DNS_OK : DNS_ERR_RDLENGTH;
}

/* The OPT record of owner OWNER (its CLASS and TTL fields as read). */
static dns_err decode_opt(dns_msg *m, const dns_name *owner, uint16_t rclass, uint32_t ttl,
                          const uint8_t *rdata, uint16_t rdlen) {
  /* RFC 6891 §6.1.1: one OPT, owner root; options must tile the RDATA. */
  if (m->edns.present || owner->len != 1)
    return DNS_ERR_OPT;
  for (size_t i = 0; i < rdlen;) {
    if (i + 4 > rdlen)
      return DNS_ERR_OPT;
    i += 4 + (size_t)get16(rdata + i + 2);
    if (i > rdlen)
      return DNS_ERR_OPT;
  }
  m->edns.present = true;
  m->edns.udp_size = rclass;
  m->edns.version = (uint8_t)(ttl >> 16);
  m->edns.do_bit = (ttl & 0x8000u) != 0;
  m->edns.z = (uint16_t)(ttl & 0x7FFFu);
  m->rcode = (uint16_t)(m->rcode | ((ttl >> 24) << 4));
  if (rdlen) {
    m->edns.options = g_byte_array_sized_new(rdlen);
    g_byte_array_append(m->edns.options, rdata, rdlen);
  }
  return DNS_OK;
}

static dns_err decode_body(dns_msg *m, const uint8_t *buf, size_t len, const dns_header *h) {
  /* RFC 9267 §4: a question takes at least 5 octets, a record at least 11. */
  size_t nrr = (size_t)h->ancount + h->nscount + h->arcount;
  if (DNS_HEADER_LEN + (size_t)h->qdcount * 5 + nrr * 11 > len)
    return DNS_ERR_COUNT;
  size_t off = DNS_HEADER_LEN;
  dns_err e;
  for (unsigned i = 0; i < h->qdcount; i++) {
    dns_question q;
    if ((e = dns_name_decode(buf, len, &off, &q.name)))
      return e;
    if (off + 4 > len)
      return DNS_ERR_SHORT;
    q.type = get16(buf + off);
    q.rclass = get16(buf + off + 2);
    off += 4;
    question_push(m, &q);
  }
  const uint16_t counts[DNS_SEC_COUNT] = {h->ancount, h->nscount, h->arcount};
  for (int s = 0; s < DNS_SEC_COUNT; s++) {
    for (unsigned i = 0; i < counts[s]; i++) {
      dns_name owner;
      if ((e = dns_name_decode(buf, len, &off, &owner)))
        return e;
      if (off + 10 > len)
        return DNS_ERR_SHORT;
      uint16_t type = get16(buf + off), rclass = get16(buf + off + 2);
      uint32_t ttl = get32(buf + off + 4);
      uint16_t rdlen = get16(buf + off + 8);
      off += 10;
      if (off + rdlen > len)
        return DNS_ERR_SHORT;
      if (type == DNS_T_OPT) {
        if (s != DNS_SEC_ADDITIONAL)
          return DNS_ERR_OPT;
        if ((e = decode_opt(m, &owner, rclass, ttl, buf + off, rdlen)))
          return e;
        off += rdlen;
        continue;
      }
      /* Decoded in its place in the section (made at its first record
       * with room for the rest): no copy of the ~800-octet record. */
      GArray *a = m->sec[s];
      if (!a) {
        a = m->sec[s] = g_array_sized_new(FALSE, FALSE, sizeof(dns_rr), counts[s] - i);
        g_array_set_clear_func(a, rr_clear_cb);
      }
      g_array_set_size(a, a->len + 1);
      dns_rr *rr = &g_array_index(a, dns_rr, a->len - 1);
      memset(rr, 0, sizeof *rr);
      rr->owner.len = owner.len;
      memcpy(rr->owner.wire, owner.wire, owner.len);
      rr->type = type;
      rr->rclass = rclass;
      rr->ttl = ttl;
      if ((e = dns__rdata_decode(buf, len, off, rdlen, rr))) {
        g_array_set_size(a, a->len - 1); /* clears it */
        return e;
      }
      off += rdlen;
    }
  }
  return off == len ? DNS_OK : DNS_ERR_TRAILING;
}

dns_err dns_msg_decode(dns_msg *m, const uint8_t *buf, size_t len) {
  dns_msg_init(m);
  dns_header h;
  if (!dns_header_peek(buf, len, &h))
    return DNS_ERR_SHORT;
  m->id = h.id;
  m->qr = (h.flags & 0x8000) != 0;
  m->opcode = (uint8_t)((h.flags >> 11) & 0xF);
  m->aa = (h.flags & 0x0400) != 0;
  m->tc = (h.flags & 0x0200) != 0;
  m->rd = (h.flags & 0x0100) != 0;
  m->ra = (h.flags & 0x0080) != 0;
  m->z = (h.flags & 0x0040) != 0;
  m->ad = (h.flags & 0x0020) != 0;
  m->cd = (h.flags & 0x0010) != 0;
  m->rcode = h.flags & 0xF;
  dns_err e = decode_body(m, buf, len, &h);
  if (e != DNS_OK) {
    /* Keep the header (for a FORMERR reply), drop every partial section. */
    dns_msg hdr = *m;
    dns_msg_clear(m);
    dns_msg_init(m);
    m->id = hdr.id;
    m->qr = hdr.qr;
    m->opcode = hdr.opcode;
    m->aa = hdr.aa;
    m->tc = hdr.tc;
    m->rd = hdr.rd;
    m->ra = hdr.ra;
    m->z = hdr.z;
    m->ad = hdr.ad;
    m->cd = hdr.cd;
    m->rcode = h.flags & 0xF;
  }
  return e;
}

/* ---- encoding ---------------------------------------------------------- */

typedef struct {
  uint8_t *buf;
  size_t len, limit;
  /* offsets of labels written, for compression: in offs_inline until it
   * is full, then in a block of offs_cap entries (an encode makes no
   * allocation for an ordinary message) */
  guint16 *offs;
  guint noffs, offs_cap;
  bool compress;
  guint16 offs_inline[64];
} enc;

typedef struct {
  size_t len;
  guint noffs;
} enc_mark;

static enc_mark enc_mark_get(const enc *e) { return (enc_mark){e->len, e->noffs}; }
static void enc_rollback(enc *e, enc_mark mk) {
  e->len = mk.len;
  e->noffs = mk.noffs;
}

static void enc_add_off(enc *e, guint16 off) {
  if (e->noffs == e->offs_cap) {
    e->offs_cap *= 2;
    if (e->offs == e->offs_inline)
      e->offs = g_memdup2(e->offs_inline, sizeof e->offs_inline);
    e->offs = g_renew(guint16, e->offs, e->offs_cap);
  }
  e->offs[e->noffs++] = off;
}

static bool put(enc *e, const void *p, size_t n) {
  if (e->len + n > e->limit)
    return false;
  memcpy(e->buf + e->len, p, n);
  e->len += n;
  return true;
}
static bool put16(enc *e, uint16_t v) {
  uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  return put(e, b, 2);
}
static bool put32(enc *e, uint32_t v) {
  uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
  return put(e, b, 4);
}

/* Offset of an earlier copy of the name whose wire form is W (W_LEN octets,
 * uncompressed), or -1. Candidates are label starts already written; each is
 * decoded from our own output, which is well formed. */
static int find_suffix(const enc *e, const uint8_t *w, size_t w_len) {
  dns_name want = {.len = (uint8_t)w_len};
  memcpy(want.wire, w, w_len);
  for (guint i = 0; i < e->noffs; i++) {
    size_t o = e->offs[i];
    if (e->buf[o] != w[0])
      continue; /* first label lengths differ: cheap reject */
    dns_name got;
    /* Exact octets, not RFC 4343 equality: a name's case must survive the
     * trip (0x20 query-name checks and traces rely on it). */
    if (dns_name_decode(e->buf, e->len, &o, &got) == DNS_OK && got.len == want.len &&
        memcmp(got.wire, want.wire, want.len) == 0)
      return (int)e->offs[i];
  }
  return -1;
}

/* RFC 1035 §4.1.4: the name, or its labels up to the longest suffix already
 * in the message followed by a pointer to it. */
static bool put_name(enc *e, const dns_name *n, bool compress) {
  size_t i = 0;
  while (n->wire[i] != 0) {
    if (compress && e->compress) {
      int p = find_suffix(e, n->wire + i, n->len - i);
      if (p >= 0)
        return put16(e, (uint16_t)(0xC000 | p));
    }
    size_t here = e->len;
    if (!put(e, n->wire + i, (size_t)n->wire[i] + 1))
      return false;
    if (here < 0x4000) {
      enc_add_off(e, (guint16)here);
    }
    i += (size_t)n->wire[i] + 1;
  }
  return put(e, "", 1);
}

static bool put_rdata(enc *e, const dns_rr *rr) {
  switch (rr->type) {
  case DNS_T_A:
    return put(e, rr->rd.a, 4);
  case DNS_T_AAAA:
    return put(e, rr->rd.aaaa, 16);
  case DNS_T_NS:
  case DNS_T_CNAME:
  case DNS_T_PTR:
    return put_name(e, &rr->rd.name, true);
  case DNS_T_MX:
    return put16(e, rr->rd.mx.pref) && put_name(e, &rr->rd.mx.exchange, true);
  case DNS_T_SOA:
    return put_name(e, &rr->rd.soa.mname, true) && put_name(e, &rr->rd.soa.rname, true) &&
           put32(e, rr->rd.soa.serial) && put32(e, rr->rd.soa.refresh) &&
           put32(e, rr->rd.soa.retry) && put32(e, rr->rd.soa.expire) &&
           put32(e, rr->rd.soa.minimum);
  case DNS_T_SRV:
    return put16(e, rr->rd.srv.priority) && put16(e, rr->rd.srv.weight) &&
           put16(e, rr->rd.srv.port) && put_name(e, &rr->rd.srv.target, false);
  default:
    return rr->rawlen == 0 || put(e, rr->raw, rr->rawlen);
  }
}

static bool put_rr(enc *e, const dns_rr *rr) {
  if (!put_name(e, &rr->owner, true) || !put16(e, rr->type) || !put16(e, rr->rclass) ||
      !put32(e, rr->ttl))
    return false;
  size_t at = e->len;
  if (!put16(e, 0) || !put_rdata(e, rr))
    return false;
  size_t rdlen = e->len - at - 2;
  g_assert(rdlen <= 65535);
  e->buf[at] = (uint8_t)(rdlen >> 8);
  e->buf[at + 1] = (uint8_t)rdlen;
  return true;
}

static size_t opt_size(const dns_msg *m) {
  return m->edns.present ? 11 + (m->edns.options ? m->edns.options->len : 0) : 0;
}

static bool put_opt(enc *e, const dns_msg *m) {
  const dns_edns *x = &m->edns;
  uint32_t ttl = ((uint32_t)(m->rcode >> 4) << 24) | ((uint32_t)x->version << 16) |
                 (x->do_bit ? 0x8000u : 0) | (x->z & 0x7FFFu);
  size_t olen = x->options ? x->options->len : 0;
  return put(e, "", 1) && put16(e, DNS_T_OPT) && put16(e, x->udp_size) && put32(e, ttl) &&
         put16(e, (uint16_t)olen) && (olen == 0 || put(e, x->options->data, olen));
}

static bool same_rrset(const dns_rr *a, const dns_rr *b) {
  return a->type == b->type && a->rclass == b->rclass && dns_name_equal(&a->owner, &b->owner);
}

dns_err dns_msg_encode_parts(const dns_msg *m, const dns_question *qs, guint qdcount,
                             const dns_rr_runs secs[DNS_SEC_COUNT], uint8_t *buf, size_t limit,
                             unsigned flags, dns_enc_result *res) {
  g_assert(limit <= 65535);
  g_assert(m->edns.present || m->rcode < 16);
  size_t osz = opt_size(m);
  memset(res, 0, sizeof *res);
  if (limit < DNS_HEADER_LEN + osz)
    return DNS_ERR_NOSPACE;
  enc e = {.buf = buf,
           .len = 0,
           .limit = limit - osz,
           .noffs = 0,
           .offs_cap = G_N_ELEMENTS(e.offs_inline),
           .compress = !(flags & DNS_ENC_NO_COMPRESS)};
  e.offs = e.offs_inline;
  uint16_t fl = (uint16_t)((m->qr ? 0x8000 : 0) | ((m->opcode & 0xF) << 11) | (m->aa ? 0x0400 : 0) |
                           (m->tc ? 0x0200 : 0) | (m->rd ? 0x0100 : 0) | (m->ra ? 0x0080 : 0) |
                           (m->z ? 0x0040 : 0) | (m->ad ? 0x0020 : 0) | (m->cd ? 0x0010 : 0) |
                           (m->rcode & 0xF));
  uint16_t counts[DNS_SEC_COUNT] = {0, 0, 0};
  guint totals[DNS_SEC_COUNT] = {0, 0, 0};
  dns_err err = DNS_OK;
  put16(&e, m->id);
  put16(&e, fl);
  put16(&e, (uint16_t)qdcount);
  e.len += 6; /* counts, patched below */
  for (guint i = 0; i < qdcount; i++) {
    const dns_question *q = &qs[i];
    if (!put_name(&e, &q->name, true) || !put16(&e, q->type) || !put16(&e, q->rclass)) {
      err = DNS_ERR_NOSPACE;
      goto out;
    }
  }
  bool stop = false;
  for (int s = 0; s < DNS_SEC_COUNT; s++)
    totals[s] = secs[s].n[0] + secs[s].n[1];
  for (int s = 0; s < DNS_SEC_COUNT && !stop; s++) {
    enc_mark set_mark = enc_mark_get(&e);
    guint set_start = 0, i = 0;
    const dns_rr *prev = NULL;
    bool dropped = false;
    for (int run = 0; run < 2 && !dropped; run++) {
      for (guint k = 0; k < secs[s].n[run]; k++, i++) {
        const dns_rr *rr = &secs[s].rrs[run][k];
        if (!prev || !same_rrset(rr, prev)) {
          set_mark = enc_mark_get(&e);
          set_start = i;
        }
        prev = rr;
        enc_mark mk = enc_mark_get(&e);
        if (put_rr(&e, rr)) {
          counts[s]++;
          continue;
        }
        enc_rollback(&e, mk);
        if (!(flags & DNS_ENC_TRUNCATE)) {
          err = DNS_ERR_NOSPACE;
          goto out;
        }
        /* RFC 2181 §9: drop the whole RRset; TC only for answer/authority. */
        enc_rollback(&e, set_mark);
        counts[s] = (uint16_t)set_start;
        dropped = true;
        break;
      }
    }
    if (dropped && s != DNS_SEC_ADDITIONAL) {
      res->tc = true;
      stop = true;
    }
  }
  for (int s = 0; s < DNS_SEC_COUNT; s++)
    res->dropped += totals[s] - counts[s];
  if (m->edns.present) {
    e.limit = limit;
    if (!put_opt(&e, m))
      g_error("dns_msg_encode: OPT space was reserved");
  }
  if (res->tc)
    buf[2] |= 0x02;
  buf[6] = (uint8_t)(counts[0] >> 8), buf[7] = (uint8_t)counts[0];
  buf[8] = (uint8_t)(counts[1] >> 8), buf[9] = (uint8_t)counts[1];
  uint16_t ar = (uint16_t)(counts[2] + (m->edns.present ? 1 : 0));
  buf[10] = (uint8_t)(ar >> 8), buf[11] = (uint8_t)ar;
  res->len = e.len;
out:
  if (e.offs != e.offs_inline)
    g_free(e.offs);
  return err;
}

dns_err dns_msg_encode(const dns_msg *m, uint8_t *buf, size_t limit, unsigned flags,
                       dns_enc_result *res) {
  dns_rr_runs secs[DNS_SEC_COUNT];
  memset(secs, 0, sizeof secs);
  for (int s = 0; s < DNS_SEC_COUNT; s++)
    if (m->sec[s]) {
      secs[s].rrs[0] = (const dns_rr *)(const void *)m->sec[s]->data;
      secs[s].n[0] = m->sec[s]->len;
    }
  if (m->qdcount <= 1)
    return dns_msg_encode_parts(m, &m->q0, m->qdcount, secs, buf, limit, flags, res);
  /* several questions (rare): in one row for encode_parts */
  dns_question *qs = g_new(dns_question, m->qdcount);
  qs[0] = m->q0;
  memcpy(qs + 1, m->more_questions->data, (m->qdcount - 1) * sizeof *qs);
  dns_err e = dns_msg_encode_parts(m, qs, m->qdcount, secs, buf, limit, flags, res);
  g_free(qs);
  return e;
}

size_t dns_msg_encode_query(uint16_t id, const dns_name *name, uint16_t type, bool rd,
                            uint16_t edns_size, uint8_t *buf, size_t limit) {
  /* The first name of a message has nothing to point at: written whole
   * (RFC 1035 §4.1.4); the OPT record as put_opt writes it (RFC 6891 §6.1.2). */
  size_t n = DNS_HEADER_LEN + name->len + 4 + (edns_size ? 11 : 0);
  if (n > limit)
    return 0;
  uint8_t *p = buf;
  const uint8_t hdr[DNS_HEADER_LEN] = {(uint8_t)(id >> 8), (uint8_t)id, rd ? 0x01 : 0x00, 0,
                                       0, 1, 0, 0, 0, 0, 0, edns_size ? 1 : 0};
  memcpy(p, hdr, sizeof hdr);
  p += sizeof hdr;
  memcpy(p, name->wire, name->len);
  p += name->len;
  *p++ = (uint8_t)(type >> 8), *p++ = (uint8_t)type;
  *p++ = 0, *p++ = DNS_C_IN;
  if (edns_size) {
    const uint8_t opt[11] = {0, 0, DNS_T_OPT, (uint8_t)(edns_size >> 8), (uint8_t)edns_size,
                             0, 0, 0, 0, 0, 0};
    memcpy(p, opt, sizeof opt);
  }
  return n;
}
