/* dns_zone.c — in-memory authoritative zones and the answer algorithm of
 * RFC 1034 §4.3.2 (steps 3a–3c: exact match, zone cut, CNAME, wildcard),
 * negative answers with the SOA per RFC 2308 §2–3, wildcards per RFC 4592
 * §3.3.1 (closest encloser, source of synthesis), CNAME chains and rcode per
 * RFC 6604, EDNS per RFC 6891 (BADVERS, echoing DO per RFC 3225 §3), and
 * additional-section processing for NS, MX and SRV targets (RFC 1035 §3.3.9,
 * §6.3; RFC 2782).
 *
 * Nodes are kept in a GHashTable used for lookup only; every output follows
 * the order records were added, so answers never depend on hash order. */
#include "dns_zone.h"

#include <string.h>

typedef struct {
  dns_name name;
  GArray *rrs; /* of dns_rr, in insertion order */
} znode;

struct dns_zone {
  dns_name origin;
  int origin_labels;
  GHashTable *nodes; /* dns_name* (inside the znode) -> znode* */
};

enum { CNAME_CHAIN_MAX = 8 };

static void rr_clear_cb(gpointer p) { dns_rr_clear(p); }

static void znode_free(gpointer p) {
  znode *n = p;
  g_array_free(n->rrs, TRUE);
  g_free(n);
}

static znode *node_get(dns_zone *z, const dns_name *name, bool create) {
  znode *n = g_hash_table_lookup(z->nodes, name);
  if (n || !create)
    return n;
  n = g_new0(znode, 1);
  n->name = *name;
  n->rrs = g_array_new(FALSE, FALSE, sizeof(dns_rr));
  g_array_set_clear_func(n->rrs, rr_clear_cb);
  g_hash_table_insert(z->nodes, &n->name, n);
  return n;
}

static const znode *node_find(const dns_zone *z, const dns_name *name) {
  return g_hash_table_lookup(z->nodes, name);
}

dns_zone *dns_zone_new(const dns_name *origin) {
  dns_zone *z = g_new0(dns_zone, 1);
  z->origin = *origin;
  z->origin_labels = dns_name_labels(origin);
  z->nodes = g_hash_table_new_full(dns_name_hash, dns_name_hash_equal, NULL, znode_free);
  node_get(z, origin, true);
  return z;
}

void dns_zone_free(dns_zone *z) {
  if (!z)
    return;
  g_hash_table_destroy(z->nodes);
  g_free(z);
}

const dns_name *dns_zone_origin(const dns_zone *z) { return &z->origin; }

static bool node_has(const znode *n, uint16_t type) {
  for (guint i = 0; i < n->rrs->len; i++)
    if (g_array_index(n->rrs, dns_rr, i).type == type)
      return true;
  return false;
}

const dns_rr *dns_zone_soa(const dns_zone *z) {
  const znode *n = node_find(z, &z->origin);
  for (guint i = 0; i < n->rrs->len; i++)
    if (g_array_index(n->rrs, dns_rr, i).type == DNS_T_SOA)
      return &g_array_index(n->rrs, dns_rr, i);
  return NULL;
}

dns_err dns_zone_add(dns_zone *z, const dns_rr *rr) {
  if (!dns_name_is_under(&rr->owner, &z->origin))
    return DNS_ERR_OUT_OF_ZONE;
  if (rr->rclass != DNS_C_IN || rr->type == DNS_T_OPT || rr->type == DNS_T_ANY)
    return DNS_ERR_BAD_RR;
  bool apex = dns_name_equal(&rr->owner, &z->origin);
  if (rr->type == DNS_T_SOA && (!apex || dns_zone_soa(z)))
    return DNS_ERR_BAD_RR;
  znode *n = node_get(z, &rr->owner, false);
  if (n) {
    for (guint i = 0; i < n->rrs->len; i++)
      if (dns_rr_same_data(&g_array_index(n->rrs, dns_rr, i), rr))
        return DNS_OK;
    /* RFC 1034 §3.6.2 / RFC 2181 §10.1: a CNAME stands alone. */
    if (rr->type == DNS_T_CNAME ? n->rrs->len > 0 : node_has(n, DNS_T_CNAME))
      return DNS_ERR_BAD_RR;
  }
  n = node_get(z, &rr->owner, true);
  dns_rr c;
  dns_rr_copy(&c, rr);
  g_array_append_val(n->rrs, c);
  /* Empty non-terminals between the owner and the origin (RFC 4592 §2.2.2). */
  for (int k = dns_name_labels(&rr->owner) - 1; k > z->origin_labels; k--) {
    dns_name anc;
    dns_name_suffix(&rr->owner, k, &anc);
    node_get(z, &anc, true);
  }
  return DNS_OK;
}

dns_err dns_zone_add_text(dns_zone *z, const char *text) {
  dns_rr rr;
  dns_err e = dns_rr_from_text(&rr, text);
  if (e == DNS_OK)
    e = dns_zone_add(z, &rr);
  dns_rr_clear(&rr);
  return e;
}

/* ---- answering --------------------------------------------------------- */

/* True if R already holds RR (same data) in section S. */
static bool have(const dns_msg *r, dns_section s, const dns_rr *rr) {
  for (guint i = 0; i < dns_msg_count(r, s); i++)
    if (dns_rr_same_data(dns_msg_rr(r, s, i), rr))
      return true;
  return false;
}

/* Adds N's records of TYPE (all if DNS_T_ANY) to section S, with OWNER as
 * their owner when synthesising from a wildcard. Returns how many. */
static guint add_set(dns_msg *r, dns_section s, const znode *n, uint16_t type,
                     const dns_name *owner) {
  guint k = 0;
  for (guint i = 0; i < n->rrs->len; i++) {
    const dns_rr *rr = &g_array_index(n->rrs, dns_rr, i);
    if (type != DNS_T_ANY && rr->type != type)
      continue;
    dns_rr c;
    dns_rr_copy(&c, rr);
    if (owner)
      c.owner = *owner;
    if (!have(r, s, &c)) {
      dns_msg_take_rr(r, s, &c);
      k++;
    }
    dns_rr_clear(&c);
  }
  return k;
}

static void add_soa_negative(const dns_zone *z, dns_msg *r) {
  const dns_rr *soa = dns_zone_soa(z);
  dns_rr c;
  dns_rr_copy(&c, soa);
  /* RFC 2308 §3: the SOA's TTL is the negative-caching TTL. */
  if (soa->rd.soa.minimum < c.ttl)
    c.ttl = soa->rd.soa.minimum;
  dns_msg_take_rr(r, DNS_SEC_AUTHORITY, &c);
}

/* A/AAAA of TARGET, if it is a node of the zone, into the additional section. */
static void add_addresses(const dns_zone *z, dns_msg *r, const dns_name *target) {
  if (!dns_name_is_under(target, &z->origin))
    return;
  const znode *n = node_find(z, target);
  if (!n)
    return;
  static const uint16_t types[] = {DNS_T_A, DNS_T_AAAA};
  for (size_t t = 0; t < G_N_ELEMENTS(types); t++)
    for (guint i = 0; i < n->rrs->len; i++) {
      const dns_rr *rr = &g_array_index(n->rrs, dns_rr, i);
      if (rr->type != types[t] || have(r, DNS_SEC_ANSWER, rr) || have(r, DNS_SEC_ADDITIONAL, rr))
        continue;
      dns_msg_add_rr(r, DNS_SEC_ADDITIONAL, rr);
    }
}

static void additional_processing(const dns_zone *z, dns_msg *r) {
  for (int s = DNS_SEC_ANSWER; s <= DNS_SEC_AUTHORITY; s++)
    for (guint i = 0; i < dns_msg_count(r, (dns_section)s); i++) {
      const dns_rr *rr = dns_msg_rr(r, (dns_section)s, i);
      dns_name target;
      switch (rr->type) {
      case DNS_T_NS:
        target = rr->rd.name;
        break;
      case DNS_T_MX:
        target = rr->rd.mx.exchange;
        break;
      case DNS_T_SRV:
        target = rr->rd.srv.target;
        break;
      default:
        continue;
      }
      add_addresses(z, r, &target);
    }
}

/* RFC 1034 §4.3.2 step 3 for QNAME in zone Z, appending to R. */
static void answer_name(const dns_zone *z, dns_name qname, uint16_t qtype, dns_msg *r) {
  for (int chain = 0;; chain++) {
    int ql = dns_name_labels(&qname);
    const znode *closest = node_find(z, &z->origin);
    bool exact = ql == z->origin_labels;
    for (int k = z->origin_labels + 1; k <= ql; k++) {
      dns_name cur;
      dns_name_suffix(&qname, k, &cur);
      const znode *n = node_find(z, &cur);
      if (!n)
        break;
      if (node_has(n, DNS_T_NS)) { /* step 3b: a zone cut, refer */
        add_set(r, DNS_SEC_AUTHORITY, n, DNS_T_NS, NULL);
        r->aa = dns_msg_count(r, DNS_SEC_ANSWER) > 0;
        return;
      }
      closest = n;
      exact = k == ql;
    }
    const znode *src = closest;
    const dns_name *owner = NULL;
    if (!exact) { /* step 3c: wildcard at the closest encloser (RFC 4592 §3.3.1) */
      dns_name wild;
      const uint8_t star = '*';
      src = NULL;
      if (dns_name_prepend(&closest->name, &star, 1, &wild) == DNS_OK)
        src = node_find(z, &wild);
      if (!src) {
        r->rcode = DNS_RCODE_NXDOMAIN;
        add_soa_negative(z, r);
        return;
      }
      owner = &qname;
    }
    if (add_set(r, DNS_SEC_ANSWER, src, qtype, owner) > 0 || qtype == DNS_T_ANY) {
      if (dns_msg_count(r, DNS_SEC_ANSWER) == 0)
        add_soa_negative(z, r);
      return;
    }
    if (qtype != DNS_T_CNAME && node_has(src, DNS_T_CNAME)) {
      add_set(r, DNS_SEC_ANSWER, src, DNS_T_CNAME, owner);
      const dns_rr *cn = NULL;
      for (guint i = 0; i < src->rrs->len && !cn; i++)
        if (g_array_index(src->rrs, dns_rr, i).type == DNS_T_CNAME)
          cn = &g_array_index(src->rrs, dns_rr, i);
      qname = cn->rd.name;
      if (!dns_name_is_under(&qname, &z->origin) || chain + 1 >= CNAME_CHAIN_MAX)
        return;
      continue;
    }
    add_soa_negative(z, r); /* NODATA, RFC 2308 §2.2 */
    return;
  }
}

/* False when N cannot be at or under P: N's last P->len octets differ
 * from P's (ASCII case ignored). A cheap test before dns_name_is_under
 * (a server with a hundred zones tries each for every query). */
static bool tail_may_match(const dns_name *n, const dns_name *p) {
  if (n->len < p->len)
    return false;
  const uint8_t *a = n->wire + (n->len - p->len);
  if (p->len >= 8) { /* the first word differs beyond the case bit: the usual no, no call */
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, p->wire, 8);
    if ((x ^ y) & ~UINT64_C(0x2020202020202020))
      return false;
  }
  return dns_name_octets_ieq(a, p->wire, p->len);
}

static const dns_zone *zone_for(dns_zone *const *zones, size_t n, const dns_name *qname) {
  const dns_zone *best = NULL;
  for (size_t i = 0; i < n; i++)
    if (tail_may_match(qname, &zones[i]->origin) && dns_name_is_under(qname, &zones[i]->origin) &&
        (!best || zones[i]->origin_labels > best->origin_labels))
      best = zones[i];
  return best;
}

bool dns_zone_respond(dns_zone *const *zones, size_t n, const dns_zone_cfg *cfg, const dns_msg *q,
                      dns_msg *r) {
  dns_msg_init(r);
  if (q->qr)
    return false;
  r->id = q->id;
  r->qr = true;
  r->opcode = q->opcode;
  r->rd = q->rd;
  r->cd = q->cd;
  if (q->edns.present && cfg->edns_size)
    dns_msg_set_edns(r, cfg->edns_size, q->edns.do_bit);
  if (q->opcode != DNS_OP_QUERY) {
    r->rcode = DNS_RCODE_NOTIMP;
    return true;
  }
  if (q->edns.present && q->edns.version > 0) {
    /* RFC 6891 §6.1.3: BADVERS needs an OPT even if we would not send one. */
    if (!r->edns.present)
      dns_msg_set_edns(r, DNS_UDP_MIN, q->edns.do_bit);
    r->rcode = DNS_RCODE_BADVERS;
    return true;
  }
  if (dns_msg_qdcount(q) != 1) {
    r->rcode = DNS_RCODE_FORMERR;
    return true;
  }
  const dns_question *qq = dns_msg_question(q);
  dns_msg_add_question(r, &qq->name, qq->type, qq->rclass);
  switch (qq->type) {
  case DNS_T_OPT:
    r->rcode = DNS_RCODE_FORMERR;
    return true;
  case 251:
  case 252:
  case 253:
  case 254: /* IXFR, AXFR, MAILB, MAILA */
    r->rcode = DNS_RCODE_NOTIMP;
    return true;
  default:
    break;
  }
  const dns_zone *z = zone_for(zones, n, &qq->name);
  if ((qq->rclass != DNS_C_IN && qq->rclass != DNS_C_ANY) || !z) {
    r->rcode = DNS_RCODE_REFUSED;
    return true;
  }
  if (!dns_zone_soa(z)) {
    r->rcode = DNS_RCODE_SERVFAIL;
    return true;
  }
  r->aa = true;
  answer_name(z, qq->name, qq->type, r);
  additional_processing(z, r);
  return true;
}

bool dns_zone_respond_wire(dns_zone *const *zones, size_t n, const dns_zone_cfg *cfg,
                           const uint8_t *pkt, size_t len, bool tcp, GByteArray *out,
                           dns_err *decode_err) {
  dns_msg q, r;
  dns_err e = dns_msg_decode(&q, pkt, len);
  if (decode_err)
    *decode_err = e;
  bool reply;
  if (e == DNS_OK) {
    reply = dns_zone_respond(zones, n, cfg, &q, &r);
  } else {
    /* RFC 1035 §4.1.1: FORMERR, echoing what the header told us. */
    dns_msg_init(&r);
    reply = len >= DNS_HEADER_LEN && !q.qr;
    r.id = q.id;
    r.qr = true;
    r.opcode = q.opcode;
    r.rd = q.rd;
    r.rcode = DNS_RCODE_FORMERR;
  }
  if (reply) {
    size_t limit = tcp ? 65535 : dns_msg_udp_limit(&q, cfg->edns_size);
    uint8_t ubuf[1232]; /* the usual UDP limit (RFC 6891 §6.2.5's advice) */
    uint8_t *buf = limit <= sizeof ubuf ? ubuf : g_malloc(limit);
    dns_enc_result res;
    dns_err ee = dns_msg_encode(&r, buf, limit, DNS_ENC_TRUNCATE, &res);
    if (ee != DNS_OK)
      g_error("dns_zone_respond_wire: response does not fit: %s", dns_err_name(ee));
    g_byte_array_append(out, buf, (guint)res.len);
    if (buf != ubuf)
      g_free(buf);
  }
  dns_msg_clear(&q);
  dns_msg_clear(&r);
  return reply;
}
