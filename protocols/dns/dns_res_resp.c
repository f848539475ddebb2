/* dns_res_resp.c — what the resolver does with a response (RFC 1034 §5.3.3
 * step 4): match it (RFC 5452 §9.1, via dns_resp_classify), retry over TCP
 * on TC (RFC 7766 §5), skip broken and lame servers, follow referrals with
 * their in-bailiwick glue, follow CNAMEs (RFC 1034 §3.6.2, §5.3.3 step 4c),
 * and cache what the response teaches: answers, CNAMEs, negative answers
 * with the SOA's TTL (RFC 2308 §5), delegations and glue, each with its
 * credibility (RFC 2181 §5.4.1).
 *
 * Bailiwick: in recursive mode a server for zone Z is believed only about
 * names at or below Z; a chain that leaves Z is resumed by a new search for
 * the name where it left, and glue outside Z is ignored. A forwarder (stub
 * mode) is asked about everything, so its zone is the root. */
#include "dns_res_int.h"

#include <string.h>

static void rr_clear_cb(gpointer p) { dns_rr_clear(p); }

static GArray *rr_array(void) {
  GArray *a = g_array_new(FALSE, FALSE, sizeof(dns_rr));
  g_array_set_clear_func(a, rr_clear_cb);
  return a;
}

static bool stub(const dns_res *r) { return r->cfg.mode == DNS_RES_STUB; }

static bool trusted(const dns_res *r, const dns_res__task *t, const dns_name *n) {
  if (stub(r))
    return true;
  dns_name zone;
  dns_res__zone(t, &zone);
  return dns_name_is_under(n, &zone);
}

/* Caches the records of A as RRsets grouped by (owner, type), in order of
 * first appearance. */
static void cache_sets(dns_res *r, const GArray *a, dns_cache_rank rank, int64_t now) {
  if (!r->cache || a->len == 0)
    return;
  /* The usual answer is one RRset: cached as it lies, without the
   * grouping's scratch arrays (the same records in the same order). */
  const dns_rr *first = &g_array_index(a, dns_rr, 0);
  guint same = 1;
  while (same < a->len) {
    const dns_rr *rr = &g_array_index(a, dns_rr, same);
    if (rr->type != first->type || rr->rclass != first->rclass ||
        !dns_name_equal(&rr->owner, &first->owner))
      break;
    same++;
  }
  if (same == a->len) {
    dns_cache_put(r->cache, first, a->len, rank, now);
    return;
  }
  gboolean *used = g_new0(gboolean, a->len);
  GArray *set = g_array_new(FALSE, FALSE, sizeof(dns_rr)); /* shallow copies */
  for (guint i = 0; i < a->len; i++) {
    if (used[i])
      continue;
    first = &g_array_index(a, dns_rr, i);
    g_array_set_size(set, 0);
    for (guint j = i; j < a->len; j++) {
      const dns_rr *rr = &g_array_index(a, dns_rr, j);
      if (!used[j] && rr->type == first->type && rr->rclass == first->rclass &&
          dns_name_equal(&rr->owner, &first->owner)) {
        used[j] = TRUE;
        g_array_append_val(set, *rr);
      }
    }
    dns_cache_put(r->cache, (const dns_rr *)(void *)set->data, set->len, rank, now);
  }
  g_array_free(set, TRUE);
  g_free(used);
}

/* Copies the records of section S of M that match OWNER (any owner when
 * NULL) and TYPE (any when DNS_T_ANY) into DST; class IN only, the class
 * every query asks for. */
static void select_rrs(const dns_msg *m, dns_section s, const dns_name *owner, uint16_t type,
                       GArray *dst) {
  for (guint i = 0; i < dns_msg_count(m, s); i++) {
    const dns_rr *rr = dns_msg_rr(m, s, i);
    if ((owner && !dns_name_equal(&rr->owner, owner)) || (type != DNS_T_ANY && rr->type != type) ||
        rr->rclass != DNS_C_IN)
      continue;
    dns_rr c;
    dns_rr_copy(&c, rr);
    g_array_append_val(dst, c);
  }
}

/* RFC 1034 §5.3.3 step 4b: a referral to CHILD. */
static void take_referral(dns_res *r, dns_res__task *t, const dns_msg *m, const dns_name *child,
                          int64_t now) {
  GArray *ns = rr_array();
  select_rrs(m, DNS_SEC_AUTHORITY, child, DNS_T_NS, ns);
  /* Glue: addresses of the NS targets, believed only inside the zone of
   * the server that sent them. */
  GArray *glue = rr_array();
  dns_name zone;
  dns_res__zone(t, &zone);
  for (guint i = 0; i < ns->len; i++) {
    const dns_name *target = &g_array_index(ns, dns_rr, i).rd.name;
    if (!dns_name_is_under(target, &zone))
      continue;
    select_rrs(m, DNS_SEC_ADDITIONAL, target, DNS_T_A, glue);
    select_rrs(m, DNS_SEC_ADDITIONAL, target, DNS_T_AAAA, glue);
  }
  cache_sets(r, ns, DNS_CACHE_RANK_REFERRAL, now);
  cache_sets(r, glue, DNS_CACHE_RANK_GLUE, now);
  dns_res__close_attempt(r, t);
  dns_res__set_delegation(r, t, child, ns, glue, now);
  g_array_free(ns, TRUE);
  g_array_free(glue, TRUE);
  dns_res__next_server(r, t, now);
}

/* Appends SRC's records to *DST and frees SRC: when *DST is NULL or
 * empty (as it is before a task finishes) SRC takes its place, no copy. */
static void rrs_move(GArray **dst, GArray *src) {
  if (!*dst || (*dst)->len == 0) {
    GArray *empty = *dst;
    *dst = src;
    src = empty;
  } else {
    dns_res__rrs_append(*dst, src);
  }
  if (src)
    g_array_free(src, TRUE);
}

/* The answer section of M, taken out of M (M's answer is then empty),
 * if every record in it is OWNER's of TYPE and class IN, as select_rrs
 * would copy them all: the usual answer, moved instead of copied. */
static GArray *take_whole_answer(dns_msg *m, const dns_name *owner, uint16_t type) {
  GArray *a = m->sec[DNS_SEC_ANSWER];
  if (!a || a->len == 0 || type == DNS_T_ANY)
    return NULL;
  for (guint i = 0; i < a->len; i++) {
    const dns_rr *rr = &g_array_index(a, dns_rr, i);
    if (rr->type != type || rr->rclass != DNS_C_IN || !dns_name_equal(&rr->owner, owner))
      return NULL;
  }
  m->sec[DNS_SEC_ANSWER] = NULL; /* its clear function is rr_array's */
  return a;
}

/* Answers, CNAMEs and negative answers (step 4a and 4c). */
static void take_answer(dns_res *r, dns_res__task *t, dns_msg *m, dns_resp_kind kind,
                        const dns_resp_info *info, int64_t now) {
  dns_cache_rank rank = m->aa && !stub(r) ? DNS_CACHE_RANK_AUTH_ANSWER : DNS_CACHE_RANK_ANSWER;
  dns_name start, sn; /* sn: T's name, read again after each CNAME */
  dns_res__sname(t, &start);
  sn = start;
  while (trusted(r, t, &sn)) {
    GArray *data = take_whole_answer(m, &sn, t->qtype);
    if (data) {
      cache_sets(r, data, rank, now);
      rrs_move(&t->answer, data);
      dns_res__finish(r, t, DNS_RCODE_NOERROR, NULL, now);
      return;
    }
    data = rr_array();
    select_rrs(m, DNS_SEC_ANSWER, &sn, t->qtype, data);
    if (data->len) {
      cache_sets(r, data, rank, now);
      rrs_move(&t->answer, data);
      dns_res__finish(r, t, DNS_RCODE_NOERROR, NULL, now);
      return;
    }
    select_rrs(m, DNS_SEC_ANSWER, &sn, DNS_T_CNAME, data);
    if (data->len == 0) {
      g_array_free(data, TRUE);
      break;
    }
    g_array_set_size(data, 1); /* a CNAME stands alone, RFC 2181 §10.1 */
    cache_sets(r, data, rank, now);
    bool go = dns_res__follow_cname(r, t, &g_array_index(data, dns_rr, 0), now);
    g_array_free(data, TRUE);
    if (!go)
      return;
    dns_res__sname(t, &sn);
  }
  if ((kind == DNS_RESP_NXDOMAIN || kind == DNS_RESP_NODATA) && trusted(r, t, &sn) &&
      dns_name_equal(&sn, &info->final_name)) {
    bool nx = kind == DNS_RESP_NXDOMAIN;
    GArray *soa = rr_array();
    select_rrs(m, DNS_SEC_AUTHORITY, NULL, DNS_T_SOA, soa);
    if (soa->len) {
      g_array_set_size(soa, 1);
      g_array_index(soa, dns_rr, 0).ttl = info->neg_ttl; /* RFC 2308 §3 */
    }
    if (r->cache && info->neg_ttl > 0)
      dns_cache_put_negative(r->cache, &sn, t->qtype, DNS_C_IN, nx,
                             soa->len ? &g_array_index(soa, dns_rr, 0) : NULL, info->neg_ttl, rank,
                             now);
    rrs_move(&t->authority, soa);
    dns_res__finish(r, t, nx ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR, NULL, now);
    return;
  }
  if (dns_name_equal(&sn, &start)) { /* no progress: a broken answer */
    r->st.lame++;
    dns_res__server_failed(r, t, now);
    return;
  }
  /* The chain goes on outside what this server may tell: search again. */
  dns_res__close_attempt(r, t);
  dns_res__enter(r, t, DNS_RES__START);
  dns_res__step(r, t, now);
}

void dns_res__on_message(dns_res *r, dns_res__task *t, const uint8_t *data, size_t len, bool tcp,
                         int64_t now) {
  dns_msg m;
  dns_err e = dns_msg_decode(&m, data, len);
  if (e != DNS_OK) {
    dns_msg_clear(&m);
    r->st.malformed++;
    dns_res__set_reason(dns_res__event(r, DNS_RES_EV_DROPPED, t, now), "malformed");
    if (tcp) /* a connection is not spoofable: the server is broken */
      dns_res__server_failed(r, t, now);
    return;
  }
  dns_resp_info info;
  dns_name sn, zone;
  dns_res__sname(t, &sn); /* unchanged since the query went out */
  dns_res__zone(t, &zone);
  dns_resp_kind kind = dns_resp_classify_query(t->qid, &sn, t->qtype, &m, &zone, &info);
  if (kind == DNS_RESP_MISMATCH) {
    dns_msg_clear(&m);
    r->st.mismatched++;
    dns_res__set_reason(dns_res__event(r, DNS_RES_EV_DROPPED, t, now), "mismatch");
    if (tcp)
      dns_res__server_failed(r, t, now);
    return;
  }
  dns_res_event *ev = dns_res__event(r, DNS_RES_EV_RESPONSE, t, now);
  if (ev) {
    ev->rcode = m.rcode;
    ev->resp = kind;
    ev->aa = m.aa;
    for (guint i = 0; i < dns_msg_count(&m, DNS_SEC_ANSWER); i++) { /* as received */
      dns_rr c;
      dns_rr_copy(&c, dns_msg_rr(&m, DNS_SEC_ANSWER, i));
      g_array_append_val(ev->rrs, c);
    }
  }
  switch (kind) {
  case DNS_RESP_TRUNCATED:
    if (tcp) {
      dns_res__server_failed(r, t, now);
    } else { /* RFC 7766 §5: ask the same server over TCP */
      dns_res__close_attempt(r, t);
      t->tr = DNS_RES_TCP;
      t->tries = 0;
      dns_res__send(r, t, now);
    }
    break;
  case DNS_RESP_ERROR:
    if ((m.rcode == DNS_RCODE_FORMERR || m.rcode == DNS_RCODE_NOTIMP) && dns_res__edns_sent(r, t) &&
        !m.edns.present) {
      /* RFC 6891 §7: a server that does not know EDNS; ask it without. */
      dns_res__close_attempt(r, t);
      t->no_edns = true;
      t->tries = 0;
      dns_res__send(r, t, now);
    } else {
      dns_res__server_failed(r, t, now);
    }
    break;
  case DNS_RESP_LAME:
    if (stub(r) && m.rcode == DNS_RCODE_NOERROR && dns_msg_count(&m, DNS_SEC_ANSWER) == 0 &&
        dns_msg_count(&m, DNS_SEC_AUTHORITY) == 0) {
      /* A forwarder's NODATA without SOA: true, but not to be cached. */
      take_answer(r, t, &m, DNS_RESP_NODATA, &info, now);
      break;
    }
    r->st.lame++;
    dns_res__server_failed(r, t, now);
    break;
  case DNS_RESP_REFERRAL:
    if (stub(r)) { /* a forwarder must answer, not refer */
      r->st.lame++;
      dns_res__server_failed(r, t, now);
    } else {
      take_referral(r, t, &m, &info.referral, now);
    }
    break;
  case DNS_RESP_ANSWER:
  case DNS_RESP_CNAME:
  case DNS_RESP_NXDOMAIN:
  case DNS_RESP_NODATA:
    take_answer(r, t, &m, kind, &info, now);
    break;
  case DNS_RESP_MISMATCH:
  case DNS_RESP_COUNT:
  default:
    g_error("dns_res__on_message: unexpected kind %d", (int)kind);
  }
  dns_msg_clear(&m);
}
