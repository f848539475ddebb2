/* dns_resp.c — classification of a response for a resolver: matching per
 * RFC 5452 §9.1 (id, question), CNAME chains per RFC 1034 §3.6.2/§5.3.3,
 * negative answers and their TTL per RFC 2308 §2 and §5 (NXDOMAIN: rcode 3;
 * NODATA: NOERROR, no data, SOA or nothing in authority), referrals per RFC
 * 1034 §4.3.2 (NS in authority, no AA) and lameness (a referral must lead
 * strictly below the zone asked). */
#include "dns_resp.h"

#include <string.h>

enum { CHAIN_MAX = 16 };

const char *dns_resp_kind_name(dns_resp_kind k) {
  static const char *const n[DNS_RESP_COUNT] = {"mismatch", "truncated", "error",
                                                "answer",   "cname",     "nxdomain",
                                                "nodata",   "referral",  "lame"};
  return (unsigned)k < DNS_RESP_COUNT ? n[k] : "unknown";
}

void dns_resp_make_query(dns_msg *m, uint16_t id, const dns_name *name, uint16_t type, bool rd,
                         uint16_t edns_size) {
  dns_msg_init(m);
  m->id = id;
  m->rd = rd;
  dns_msg_add_question(m, name, type, DNS_C_IN);
  if (edns_size)
    dns_msg_set_edns(m, edns_size, false);
}

static uint32_t soa_neg_ttl(const dns_msg *r) {
  for (guint i = 0; i < dns_msg_count(r, DNS_SEC_AUTHORITY); i++) {
    const dns_rr *rr = dns_msg_rr(r, DNS_SEC_AUTHORITY, i);
    if (rr->type == DNS_T_SOA)
      return rr->ttl < rr->rd.soa.minimum ? rr->ttl : rr->rd.soa.minimum;
  }
  return 0;
}

/* *DST = *SRC, copying only the octets in use (a dns_name is 256). */
static void name_set(dns_name *dst, const dns_name *src) {
  dst->len = src->len;
  memcpy(dst->wire, src->wire, src->len);
}

/* dns_resp_classify for a query of id ID, opcode OPCODE, type QTYPE,
 * class QCLASS and name QNAME. */
static dns_resp_kind classify(uint16_t id, uint8_t opcode, const dns_name *qname, uint16_t qtype,
                              uint16_t qclass, const dns_msg *r, const dns_name *zone,
                              dns_resp_info *info) {
  dns_resp_info dummy;
  if (!info)
    info = &dummy;
  info->cnames = 0;
  info->neg_ttl = 0;
  dns_name_set_root(&info->referral);
  name_set(&info->final_name, qname);
  const dns_question *rq = dns_msg_question(r);
  if (!r->qr || r->id != id || r->opcode != opcode || dns_msg_qdcount(r) != 1 || !rq ||
      rq->type != qtype || rq->rclass != qclass || !dns_name_equal(&rq->name, qname))
    return DNS_RESP_MISMATCH;
  if (r->tc)
    return DNS_RESP_TRUNCATED;
  if (r->rcode != DNS_RCODE_NOERROR && r->rcode != DNS_RCODE_NXDOMAIN)
    return DNS_RESP_ERROR;

  /* Follow the chain from the question name through the answer section
   * (NAME points at the question or at a record of R: no copies). */
  const dns_name *name = qname;
  for (;;) {
    bool data = false;
    const dns_rr *cname = NULL;
    for (guint i = 0; i < dns_msg_count(r, DNS_SEC_ANSWER); i++) {
      const dns_rr *rr = dns_msg_rr(r, DNS_SEC_ANSWER, i);
      if (!dns_name_equal(&rr->owner, name))
        continue;
      if (rr->type == qtype || qtype == DNS_T_ANY)
        data = true;
      else if (rr->type == DNS_T_CNAME && !cname)
        cname = rr;
    }
    if (name != qname)
      name_set(&info->final_name, name);
    if (data)
      return DNS_RESP_ANSWER;
    if (!cname)
      break;
    if (++info->cnames > CHAIN_MAX)
      return DNS_RESP_ERROR;
    name = &cname->rd.name;
  }
  if (r->rcode == DNS_RCODE_NXDOMAIN) {
    info->neg_ttl = soa_neg_ttl(r);
    return DNS_RESP_NXDOMAIN;
  }
  bool has_soa = false, has_ns = false;
  const dns_name *ns_owner = NULL;
  for (guint i = 0; i < dns_msg_count(r, DNS_SEC_AUTHORITY); i++) {
    const dns_rr *rr = dns_msg_rr(r, DNS_SEC_AUTHORITY, i);
    if (rr->type == DNS_T_SOA)
      has_soa = true;
    if (rr->type == DNS_T_NS && !has_ns) {
      has_ns = true;
      ns_owner = &rr->owner;
    }
  }
  if (has_soa || (r->aa && !has_ns)) {
    /* RFC 2308 §2.2: NODATA, type 1 (SOA+NS), 2 (SOA) or 3 (nothing, AA). */
    info->neg_ttl = soa_neg_ttl(r);
    return info->cnames && !has_soa ? DNS_RESP_CNAME : DNS_RESP_NODATA;
  }
  if (has_ns && !r->aa) {
    /* A referral must lead strictly below ZONE and cover the name sought. */
    if (!dns_name_is_under(name, ns_owner) || !dns_name_is_under(ns_owner, zone) ||
        dns_name_equal(ns_owner, zone))
      return info->cnames ? DNS_RESP_CNAME : DNS_RESP_LAME;
    name_set(&info->referral, ns_owner);
    return info->cnames ? DNS_RESP_CNAME : DNS_RESP_REFERRAL;
  }
  if (info->cnames)
    return DNS_RESP_CNAME;
  return DNS_RESP_LAME;
}

dns_resp_kind dns_resp_classify(const dns_msg *q, const dns_msg *r, const dns_name *zone,
                                dns_resp_info *info) {
  const dns_question *qq = dns_msg_question(q);
  g_assert(qq);
  return classify(q->id, q->opcode, &qq->name, qq->type, qq->rclass, r, zone, info);
}

dns_resp_kind dns_resp_classify_query(uint16_t id, const dns_name *name, uint16_t type,
                                      const dns_msg *r, const dns_name *zone, dns_resp_info *info) {
  return classify(id, DNS_OP_QUERY, name, type, DNS_C_IN, r, zone, info);
}
