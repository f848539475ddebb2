/* spf_check.c — RFC 7208 check_host() as a sans-I/O engine.
 *
 * Followed: §2.3/§2.4 identities (HELO, MAIL FROM, null path uses
 * postmaster@HELO), §4.3 initial processing (malformed or single-label
 * domain: none; empty local-part: postmaster), §4.4 record lookup (DNS
 * error: temperror; no records: none), §4.5 selection (more than one
 * record: permerror), §4.6 evaluation (syntax anywhere: permerror), §4.6.4
 * limits (10 DNS-querying terms, 10 MX names, first 10 PTR names, 2 void
 * lookups), §5 mechanisms, §6.1 redirect (no record at the target:
 * permerror), §6.2 exp (any failure: default explanation; includes do not
 * propagate it), §7 macros, §9.1 Received-SPF.
 *
 * How it waits: evaluation is a pure function of the request and of the DNS
 * answers received so far. When it reaches a lookup that has no answer yet,
 * it stops and asks for it; when the answer arrives, it evaluates again
 * from the start, replaying the stored answers. Counting (lookup and void
 * limits) is therefore exactly that of one uninterrupted evaluation, and the
 * questions asked are deterministic. The cost, a few re-evaluations of at
 * most a few dozen terms, is negligible next to a DNS round trip. */
#include "spf_check.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>

#include "spf_macro.h"
#include "spf_record.h"

/* Internal check_host() outcome: a result, or "need a lookup first". */
#define SPF__NEED SPF_RESULT_COUNT

static const char *const result_names[SPF_RESULT_COUNT] = {
    "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror",
};

const char *spf_result_name(spf_result r) {
  g_assert((unsigned)r < SPF_RESULT_COUNT);
  return result_names[r];
}

bool spf_result_from_name(const char *name, spf_result *out) {
  for (unsigned i = 0; i < SPF_RESULT_COUNT; i++) {
    if (g_ascii_strcasecmp(name, result_names[i]) == 0) {
      *out = (spf_result)i;
      return true;
    }
  }
  return false;
}

const char *spf_identity_name(spf_identity id) {
  g_assert((unsigned)id < SPF_ID_COUNT);
  return id == SPF_ID_HELO ? "helo" : "mailfrom";
}

static const char *const state_names[SPF_ST_COUNT] = {"evaluate", "wait-dns", "done"};

const char *spf_state_name(spf_state s) {
  g_assert((unsigned)s < SPF_ST_COUNT);
  return state_names[s];
}

const char *spf_event_kind_name(spf_event_kind k) {
  g_assert((unsigned)k < SPF_EV_COUNT);
  return k == SPF_EV_DNS_QUERY ? "dns-query" : "done";
}

struct spf_check {
  spf_state state;
  auth_env env;
  /* request */
  char *ip_text, *helo, *mailfrom, *receiver, *default_exp;
  spf_identity identity;
  int64_t now_unix;
  unsigned max_lookups, max_void;
  bool v6;
  uint8_t addr[16];
  char *ip_dotted;
  /* identity */
  char *sender, *local, *domain;
  /* DNS */
  auth_dns_cache *cache;
  uint32_t next_id;
  bool has_pending;
  auth_dns_query pending;
  bool done_reported;
  /* outcome */
  spf_result result;
  char *explanation, *mechanism, *problem;
  unsigned lookups;
};

/* One evaluation pass (see the file comment). */
typedef struct {
  spf_check *c;
  unsigned lookups, voids;
  char *mechanism; /* top-level matched term */
  const char *problem;
  char *explanation; /* from exp= */
  char *ptr_name;    /* %{p}, once computed */
} spf_eval;

static void trace(spf_check *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void trace(spf_check *c, const char *fmt, ...) {
  if (!c->env.trace)
    return;
  va_list ap;
  va_start(ap, fmt);
  char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  c->env.trace(c->env.ud, s);
  g_free(s);
}

static void spf_enter(spf_check *c, spf_state s) {
  switch (s) {
  case SPF_ST_EVALUATE:
  case SPF_ST_WAIT_DNS:
  case SPF_ST_DONE:
    break;
  default:
    g_assert_not_reached();
  }
  if (c->env.trace) {
    if (s == SPF_ST_WAIT_DNS) {
      char *n = dns_name_to_text(&c->pending.name);
      char tb[16];
      trace(c, "spf: %s -> %s (query %u %s %s)", spf_state_name(c->state), spf_state_name(s),
            c->pending.id, n, dns_type_to_text(c->pending.type, tb));
      g_free(n);
    } else if (s == SPF_ST_DONE) {
      trace(c, "spf: %s -> %s (%s)", spf_state_name(c->state), spf_state_name(s),
            spf_result_name(c->result));
    } else {
      trace(c, "spf: %s -> %s", spf_state_name(c->state), spf_state_name(s));
    }
  }
  c->state = s;
}

/* ---- addresses ---- */

static bool addr_in(const uint8_t *a, const uint8_t *net, int bits) {
  int full = bits / 8, rest = bits % 8;
  if (memcmp(a, net, (size_t)full) != 0)
    return false;
  if (rest == 0)
    return true;
  uint8_t mask = (uint8_t)(0xff << (8 - rest));
  return (a[full] & mask) == (net[full] & mask);
}

/* Does record RR (A or AAAA) match the client under CIDR4/CIDR6? */
static bool rr_matches(const spf_check *c, const dns_rr *rr, int cidr4, int cidr6) {
  if (!c->v6 && rr->type == DNS_T_A)
    return addr_in(c->addr, rr->rd.a, cidr4 < 0 ? 32 : cidr4);
  if (c->v6 && rr->type == DNS_T_AAAA)
    return addr_in(c->addr, rr->rd.aaaa, cidr6 < 0 ? 128 : cidr6);
  return false;
}

static uint16_t addr_type(const spf_check *c) { return c->v6 ? DNS_T_AAAA : DNS_T_A; }

/* "in-addr.arpa" / "ip6.arpa" name of the client. */
static void reverse_name(const spf_check *c, dns_name *out) {
  GString *s = g_string_new(NULL);
  if (!c->v6) {
    g_string_printf(s, "%u.%u.%u.%u.in-addr.arpa", c->addr[3], c->addr[2], c->addr[1], c->addr[0]);
  } else {
    for (int i = 15; i >= 0; i--)
      g_string_append_printf(s, "%x.%x.", c->addr[i] & 0xf, c->addr[i] >> 4);
    g_string_append(s, "ip6.arpa");
  }
  bool ok = auth_dns_name_from_domain(s->str, out);
  g_assert(ok);
  g_string_free(s, TRUE);
}

/* A name as plain text without escapes or the final dot ("" for root). */
static char *name_plain(const dns_name *n) {
  GString *s = g_string_new(NULL);
  size_t i = 0;
  while (i < n->len && n->wire[i] != 0) {
    uint8_t l = n->wire[i++];
    if (s->len)
      g_string_append_c(s, '.');
    g_string_append_len(s, (const char *)n->wire + i, l);
    i += l;
  }
  return g_string_free(s, FALSE);
}

/* ---- DNS through the replay cache ---- */

/* True with the answer if known; false after making it the pending query. */
static bool lookup(spf_eval *e, const dns_name *n, uint16_t type, auth_dns_status *st,
                   const GArray **rrs) {
  spf_check *c = e->c;
  if (auth_dns_cache_get(c->cache, n, type, st, rrs))
    return true;
  c->has_pending = true;
  c->pending.id = ++c->next_id;
  c->pending.name = *n;
  c->pending.type = type;
  return false;
}

static bool is_dns_error(auth_dns_status st) {
  return st == AUTH_DNS_TIMEOUT || st == AUTH_DNS_SERVFAIL;
}

static void set_problem(spf_eval *e, const char *p) {
  if (!e->problem)
    e->problem = p;
}

/* §4.6.4: one more DNS-querying term. False (and permerror) past the limit. */
static bool count_lookup(spf_eval *e) {
  if (++e->lookups > e->c->max_lookups) {
    set_problem(e, "too many DNS lookups");
    return false;
  }
  return true;
}

/* §4.6.4: a void answer (NXDOMAIN or no records). False past the limit. */
static bool count_void(spf_eval *e) {
  if (++e->voids > e->c->max_void) {
    set_problem(e, "too many void DNS lookups");
    return false;
  }
  return true;
}

/* ---- macros ---- */

typedef enum { M_NOMATCH, M_MATCH, M_TEMPERR, M_PERMERR, M_NEED } mres;

static void macro_ctx(spf_eval *e, const char *domain, spf_macro_ctx *m) {
  spf_check *c = e->c;
  memset(m, 0, sizeof *m);
  m->sender = c->sender;
  m->local = c->local;
  m->sender_domain = strchr(c->sender, '@') ? strrchr(c->sender, '@') + 1 : c->sender;
  m->domain = domain;
  m->ip_dotted = c->ip_dotted;
  m->ip_text = c->ip_text;
  m->ip_version = c->v6 ? "ip6" : "in-addr";
  m->helo = c->helo;
  m->receiver = c->receiver;
  m->ptr_name = e->ptr_name;
  m->now_unix = c->now_unix;
}

static bool name_under(const char *name, const char *target) {
  size_t nl = strlen(name), tl = strlen(target);
  if (nl == tl)
    return g_ascii_strcasecmp(name, target) == 0;
  return nl > tl && name[nl - tl - 1] == '.' && g_ascii_strcasecmp(name + nl - tl, target) == 0;
}

/* Validated names of the client (§5.5 steps): PTR names (first 10) whose
 * forward lookup contains the client address. Appends to NAMES. DNS errors
 * skip a name; returns M_NEED when an answer is missing. When ONLY_UNDER is
 * given, names not at or below it are skipped before their forward lookup. */
static mres validated_names(spf_eval *e, const char *only_under, GPtrArray *names,
                            bool count_void_ptr) {
  dns_name rev;
  reverse_name(e->c, &rev);
  auth_dns_status st;
  const GArray *rrs;
  if (!lookup(e, &rev, DNS_T_PTR, &st, &rrs))
    return M_NEED;
  if (is_dns_error(st))
    return M_NOMATCH; /* §5.5: a DNS error on the PTR lookup: no match */
  if (st == AUTH_DNS_NXDOMAIN || rrs->len == 0) {
    if (count_void_ptr && !count_void(e))
      return M_PERMERR;
    return M_NOMATCH;
  }
  guint n = MIN(rrs->len, 10u); /* §4.6.4: only the first 10 PTR names */
  for (guint i = 0; i < n; i++) {
    const dns_rr *p = &g_array_index(rrs, dns_rr, i);
    char *pn = name_plain(&p->rd.name);
    if (only_under && !name_under(pn, only_under)) {
      g_free(pn);
      continue;
    }
    auth_dns_status ast;
    const GArray *arrs;
    if (!lookup(e, &p->rd.name, addr_type(e->c), &ast, &arrs)) {
      g_free(pn);
      return M_NEED;
    }
    bool ok = false;
    if (ast == AUTH_DNS_OK)
      for (guint k = 0; k < arrs->len && !ok; k++)
        ok = rr_matches(e->c, &g_array_index(arrs, dns_rr, k), -1, -1);
    if (ok)
      g_ptr_array_add(names, pn);
    else
      g_free(pn);
  }
  return M_NOMATCH;
}

/* §7.3 "p": a validated name, preferring DOMAIN, then a subdomain of it. */
static mres compute_p(spf_eval *e, const char *domain) {
  if (e->ptr_name)
    return M_MATCH;
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  mres r = validated_names(e, NULL, names, false);
  if (r == M_NEED) {
    g_ptr_array_free(names, TRUE);
    return M_NEED;
  }
  const char *best = NULL;
  for (guint i = 0; i < names->len && !best; i++)
    if (g_ascii_strcasecmp(names->pdata[i], domain) == 0)
      best = names->pdata[i];
  for (guint i = 0; i < names->len && !best; i++)
    if (name_under(names->pdata[i], domain))
      best = names->pdata[i];
  if (!best && names->len)
    best = names->pdata[0];
  e->ptr_name = g_strdup(best ? best : "unknown");
  g_ptr_array_free(names, TRUE);
  return M_MATCH;
}

/* Expands a domain-spec (or takes DOMAIN when SPEC is NULL) into *OUT. */
static mres expand_domain(spf_eval *e, const char *spec, const char *domain, char **out) {
  *out = NULL;
  if (!spec) {
    *out = g_strdup(domain);
    return M_MATCH;
  }
  if (spf_macro_uses(spec, 'p') && compute_p(e, domain) == M_NEED)
    return M_NEED;
  spf_macro_ctx m;
  macro_ctx(e, domain, &m);
  char *x = spf_macro_expand(spec, &m, false);
  g_assert(x); /* the record parser validated it */
  GString *g = g_string_new(x);
  g_free(x);
  spf_macro_truncate_domain(g);
  if (g->len && g->str[g->len - 1] == '.')
    g_string_truncate(g, g->len - 1);
  *out = g_string_free(g, FALSE);
  return M_MATCH;
}

/* ---- mechanisms (§5) ---- */

static spf_result check_host(spf_eval *e, const char *domain, bool want_exp, char **mech_out);

static mres mech_a(spf_eval *e, const spf_term *t, const char *target) {
  dns_name n;
  if (!auth_dns_name_from_domain(target, &n))
    return M_NOMATCH; /* not a name DNS can ask for: nothing exists there */
  auth_dns_status st;
  const GArray *rrs;
  if (!lookup(e, &n, addr_type(e->c), &st, &rrs))
    return M_NEED;
  if (is_dns_error(st)) {
    set_problem(e, "DNS error looking up an address");
    return M_TEMPERR;
  }
  if (st == AUTH_DNS_NXDOMAIN || rrs->len == 0)
    return count_void(e) ? M_NOMATCH : M_PERMERR;
  for (guint i = 0; i < rrs->len; i++)
    if (rr_matches(e->c, &g_array_index(rrs, dns_rr, i), t->cidr4, t->cidr6))
      return M_MATCH;
  return M_NOMATCH;
}

static mres mech_mx(spf_eval *e, const spf_term *t, const char *target) {
  dns_name n;
  if (!auth_dns_name_from_domain(target, &n))
    return M_NOMATCH;
  auth_dns_status st;
  const GArray *rrs;
  if (!lookup(e, &n, DNS_T_MX, &st, &rrs))
    return M_NEED;
  if (is_dns_error(st)) {
    set_problem(e, "DNS error looking up MX");
    return M_TEMPERR;
  }
  if (st == AUTH_DNS_NXDOMAIN || rrs->len == 0)
    return count_void(e) ? M_NOMATCH : M_PERMERR;
  if (rrs->len > 10) { /* §4.6.4 */
    set_problem(e, "more than 10 MX records");
    return M_PERMERR;
  }
  bool temp = false;
  for (guint i = 0; i < rrs->len; i++) {
    const dns_rr *mx = &g_array_index(rrs, dns_rr, i);
    if (dns_name_labels(&mx->rd.mx.exchange) == 0)
      continue; /* RFC 7505 null MX */
    auth_dns_status ast;
    const GArray *arrs;
    if (!lookup(e, &mx->rd.mx.exchange, addr_type(e->c), &ast, &arrs))
      return M_NEED;
    if (is_dns_error(ast)) {
      temp = true;
      continue;
    }
    if (ast != AUTH_DNS_OK)
      continue;
    for (guint k = 0; k < arrs->len; k++)
      if (rr_matches(e->c, &g_array_index(arrs, dns_rr, k), t->cidr4, t->cidr6))
        return M_MATCH;
  }
  if (temp) {
    set_problem(e, "DNS error looking up an MX host");
    return M_TEMPERR;
  }
  return M_NOMATCH;
}

static mres mech_ptr(spf_eval *e, const char *target) {
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  mres r = validated_names(e, target, names, true);
  if (r == M_NOMATCH && names->len > 0)
    r = M_MATCH;
  g_ptr_array_free(names, TRUE);
  return r;
}

static mres mech_exists(spf_eval *e, const char *target) {
  dns_name n;
  if (!auth_dns_name_from_domain(target, &n))
    return M_NOMATCH;
  auth_dns_status st;
  const GArray *rrs;
  if (!lookup(e, &n, DNS_T_A, &st, &rrs)) /* §5.7: always A */
    return M_NEED;
  if (is_dns_error(st)) {
    set_problem(e, "DNS error in exists");
    return M_TEMPERR;
  }
  if (st == AUTH_DNS_NXDOMAIN || rrs->len == 0)
    return count_void(e) ? M_NOMATCH : M_PERMERR;
  return M_MATCH;
}

static mres mech_include(spf_eval *e, const char *target) {
  spf_result r = check_host(e, target, false, NULL);
  switch ((int)r) {
  case SPF__NEED:
    return M_NEED;
  case SPF_PASS:
    return M_MATCH;
  case SPF_FAIL:
  case SPF_SOFTFAIL:
  case SPF_NEUTRAL:
    return M_NOMATCH;
  case SPF_TEMPERROR:
    return M_TEMPERR;
  case SPF_NONE: /* §5.2: no record at the include target */
    set_problem(e, "included domain has no SPF record");
    return M_PERMERR;
  default:
    return M_PERMERR;
  }
}

static mres eval_term(spf_eval *e, const spf_term *t, const char *domain) {
  spf_check *c = e->c;
  switch (t->kind) {
  case SPF_TERM_ALL:
    return M_MATCH;
  case SPF_TERM_IP4:
    if (c->v6)
      return M_NOMATCH;
    return addr_in(c->addr, t->addr, t->cidr4 < 0 ? 32 : t->cidr4) ? M_MATCH : M_NOMATCH;
  case SPF_TERM_IP6:
    if (!c->v6)
      return M_NOMATCH;
    return addr_in(c->addr, t->addr, t->cidr6 < 0 ? 128 : t->cidr6) ? M_MATCH : M_NOMATCH;
  case SPF_TERM_A:
  case SPF_TERM_MX:
  case SPF_TERM_PTR:
  case SPF_TERM_EXISTS:
  case SPF_TERM_INCLUDE: {
    if (!count_lookup(e))
      return M_PERMERR;
    char *target;
    if (expand_domain(e, t->domain_spec, domain, &target) == M_NEED)
      return M_NEED;
    mres r;
    if (t->kind == SPF_TERM_A)
      r = mech_a(e, t, target);
    else if (t->kind == SPF_TERM_MX)
      r = mech_mx(e, t, target);
    else if (t->kind == SPF_TERM_PTR)
      r = mech_ptr(e, target);
    else if (t->kind == SPF_TERM_EXISTS)
      r = mech_exists(e, target);
    else
      r = mech_include(e, target);
    g_free(target);
    return r;
  }
  default:
    g_assert_not_reached();
  }
}

static spf_result qualifier_result(char q) {
  switch (q) {
  case '-':
    return SPF_FAIL;
  case '~':
    return SPF_SOFTFAIL;
  case '?':
    return SPF_NEUTRAL;
  default:
    return SPF_PASS;
  }
}

/* §6.2: the explanation of a fail from record R at DOMAIN. Leaves
 * e->explanation NULL (default) on any failure. Returns false if a lookup
 * is needed. */
static bool explain(spf_eval *e, const spf_record *r, const char *domain) {
  const spf_term *t = &g_array_index(r->terms, spf_term, r->exp_idx);
  char *target;
  if (expand_domain(e, t->domain_spec, domain, &target) == M_NEED)
    return false;
  dns_name n;
  bool ok = auth_dns_name_from_domain(target, &n);
  g_free(target);
  if (!ok)
    return true;
  auth_dns_status st;
  const GArray *rrs;
  if (!lookup(e, &n, DNS_T_TXT, &st, &rrs))
    return false;
  if (st != AUTH_DNS_OK || rrs->len != 1)
    return true;
  size_t len;
  char *text = auth_dns_txt_join(&g_array_index(rrs, dns_rr, 0), &len);
  if (strlen(text) != len || !spf_macro_valid(text, len, true, NULL)) {
    g_free(text);
    return true;
  }
  if (spf_macro_uses(text, 'p') && compute_p(e, domain) == M_NEED) {
    g_free(text);
    return false;
  }
  spf_macro_ctx m;
  macro_ctx(e, domain, &m);
  g_free(e->explanation);
  e->explanation = spf_macro_expand(text, &m, true);
  g_free(text);
  return true;
}

/* check_host(<ip>, DOMAIN, <sender>) of §4. WANT_EXP: a fail here may carry
 * an explanation (not inside include). MECH_OUT (may be NULL) receives the
 * matched term's text. Returns a result or SPF__NEED. */
static spf_result check_host(spf_eval *e, const char *domain, bool want_exp, char **mech_out) {
  dns_name n;
  /* §4.3: malformed or single-label domains have no policy. */
  if (!auth_dns_name_from_domain(domain, &n) || dns_name_labels(&n) < 2)
    return SPF_NONE;
  auth_dns_status st;
  const GArray *rrs;
  if (!lookup(e, &n, DNS_T_TXT, &st, &rrs))
    return SPF__NEED;
  if (is_dns_error(st)) {
    set_problem(e, "DNS error looking up the SPF record");
    return SPF_TEMPERROR;
  }
  if (st == AUTH_DNS_NXDOMAIN)
    return SPF_NONE;
  char *text = NULL;
  size_t text_len = 0;
  unsigned nrec = 0;
  for (guint i = 0; i < rrs->len; i++) {
    size_t len;
    char *s = auth_dns_txt_join(&g_array_index(rrs, dns_rr, i), &len);
    if (spf_record_is_spf(s, len)) {
      nrec++;
      g_free(text);
      text = s;
      text_len = len;
    } else {
      g_free(s);
    }
  }
  if (nrec == 0)
    return SPF_NONE;
  if (nrec > 1) { /* §4.5 */
    g_free(text);
    set_problem(e, "more than one SPF record");
    return SPF_PERMERROR;
  }
  const char *problem = NULL;
  spf_record *r = spf_record_parse(text, text_len, &problem);
  g_free(text);
  if (!r) {
    set_problem(e, problem);
    return SPF_PERMERROR;
  }
  spf_result res = SPF__NEED;
  for (guint i = 0; i < r->terms->len && res == SPF__NEED; i++) {
    const spf_term *t = &g_array_index(r->terms, spf_term, i);
    if (t->kind >= SPF_TERM_REDIRECT)
      continue;
    mres m = eval_term(e, t, domain);
    switch (m) {
    case M_NOMATCH:
      continue;
    case M_NEED:
      spf_record_free(r);
      return SPF__NEED;
    case M_TEMPERR:
      res = SPF_TEMPERROR;
      break;
    case M_PERMERR:
      res = SPF_PERMERROR;
      break;
    case M_MATCH:
      res = qualifier_result(t->qualifier);
      if (mech_out) {
        g_free(*mech_out);
        *mech_out = g_strdup(t->text);
      }
      if (res == SPF_FAIL && want_exp && r->exp_idx >= 0 && !explain(e, r, domain)) {
        spf_record_free(r);
        return SPF__NEED;
      }
      break;
    }
  }
  if (res == SPF__NEED && r->redirect_idx >= 0) {
    /* §6.1: only when no mechanism matched; the target's result stands. */
    const spf_term *t = &g_array_index(r->terms, spf_term, r->redirect_idx);
    if (!count_lookup(e)) {
      res = SPF_PERMERROR;
    } else {
      char *target;
      if (expand_domain(e, t->domain_spec, domain, &target) == M_NEED) {
        spf_record_free(r);
        return SPF__NEED;
      }
      res = check_host(e, target, want_exp, mech_out);
      g_free(target);
      if (res == SPF_NONE) {
        set_problem(e, "redirect target has no SPF record");
        res = SPF_PERMERROR;
      }
    }
  } else if (res == SPF__NEED) {
    res = SPF_NEUTRAL; /* §4.7 */
  }
  spf_record_free(r);
  return res;
}

/* ---- the engine ---- */

static bool parse_ip(spf_check *c, const char *ip) {
  uint8_t a[16];
  if (inet_pton(AF_INET, ip, a) == 1) {
    memcpy(c->addr, a, 4);
    c->v6 = false;
  } else if (inet_pton(AF_INET6, ip, a) == 1) {
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, mapped, 12) == 0) {
      memcpy(c->addr, a + 12, 4);
      c->v6 = false;
    } else {
      memcpy(c->addr, a, 16);
      c->v6 = true;
    }
  } else {
    return false;
  }
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(c->v6 ? AF_INET6 : AF_INET, c->addr, buf, sizeof buf);
  c->ip_text = g_strdup(buf);
  GString *d = g_string_new(NULL);
  if (!c->v6) {
    g_string_append(d, buf);
  } else {
    /* §7.3: IPv6 "i" is the dot-separated nibbles (upper case as in the
     * RFC's examples and the test suite). */
    for (int i = 0; i < 16; i++)
      g_string_append_printf(d, "%s%X.%X", i ? "." : "", c->addr[i] >> 4, c->addr[i] & 0xf);
  }
  c->ip_dotted = g_string_free(d, FALSE);
  return true;
}

spf_check *spf_check_new(const spf_request *req, const auth_env *env) {
  g_assert(req && req->ip && req->helo);
  spf_check *c = g_new0(spf_check, 1);
  if (!parse_ip(c, req->ip)) {
    g_free(c);
    return NULL;
  }
  if (env)
    c->env = *env;
  c->helo = g_strdup(req->helo);
  c->mailfrom = g_strdup(req->mailfrom ? req->mailfrom : "");
  c->receiver = g_strdup(req->receiver ? req->receiver : "unknown");
  c->default_exp = g_strdup(req->default_exp ? req->default_exp : "SPF fail - not authorized");
  c->identity = req->identity;
  c->now_unix = req->now_unix;
  c->max_lookups = req->max_lookups ? req->max_lookups : 10;
  c->max_void = req->max_void ? req->max_void : 2;
  /* §4.3 and §2.4: the sender, its local-part and the domain checked. */
  const char *at = strrchr(c->mailfrom, '@');
  if (c->identity == SPF_ID_HELO || c->mailfrom[0] == '\0') {
    c->local = g_strdup("postmaster");
    c->domain = g_strdup(c->helo);
  } else if (!at) {
    c->local = g_strdup("postmaster");
    c->domain = g_strdup(c->mailfrom);
  } else {
    c->local = at == c->mailfrom ? g_strdup("postmaster")
                                 : g_strndup(c->mailfrom, (gsize)(at - c->mailfrom));
    c->domain = g_strdup(at + 1);
  }
  c->sender = g_strdup_printf("%s@%s", c->local, c->domain);
  c->cache = auth_dns_cache_new();
  c->state = SPF_ST_EVALUATE;
  return c;
}

void spf_check_free(spf_check *c) {
  if (!c)
    return;
  g_free(c->ip_text);
  g_free(c->ip_dotted);
  g_free(c->helo);
  g_free(c->mailfrom);
  g_free(c->receiver);
  g_free(c->default_exp);
  g_free(c->sender);
  g_free(c->local);
  g_free(c->domain);
  auth_dns_cache_free(c->cache);
  g_free(c->explanation);
  g_free(c->mechanism);
  g_free(c->problem);
  g_free(c);
}

spf_state spf_check_state(const spf_check *c) { return c->state; }

/* The domain must look like a host name (last label a toplabel) to be
 * checked at all: "[192.0.2.1]" and similar have no policy (§4.3). */
static bool initial_domain_ok(const char *d) {
  size_t len = strlen(d);
  if (len && d[len - 1] == '.')
    len--;
  size_t s = len;
  while (s > 0 && d[s - 1] != '.')
    s--;
  if (s == 0 || s == len)
    return false;
  for (size_t i = s; i < len; i++)
    if (!g_ascii_isalnum(d[i]) && d[i] != '-')
      return false;
  return true;
}

static void evaluate(spf_check *c, spf_event *ev) {
  spf_eval e = {.c = c};
  c->has_pending = false;
  spf_result r =
      initial_domain_ok(c->domain) ? check_host(&e, c->domain, true, &e.mechanism) : SPF_NONE;
  if (r == SPF__NEED) {
    g_assert(c->has_pending);
    g_free(e.mechanism);
    g_free(e.explanation);
    g_free(e.ptr_name);
    spf_enter(c, SPF_ST_WAIT_DNS);
    ev->kind = SPF_EV_DNS_QUERY;
    ev->query = c->pending;
    return;
  }
  c->result = r;
  c->lookups = e.lookups;
  c->mechanism = r == SPF_PASS || r == SPF_FAIL || r == SPF_SOFTFAIL || r == SPF_NEUTRAL
                     ? e.mechanism
                     : (g_free(e.mechanism), NULL);
  if (r == SPF_FAIL)
    c->explanation = e.explanation ? e.explanation : g_strdup(c->default_exp);
  else
    g_free(e.explanation);
  g_free(e.ptr_name);
  c->problem = g_strdup(r == SPF_TEMPERROR || r == SPF_PERMERROR ? e.problem : NULL);
  spf_enter(c, SPF_ST_DONE);
  ev->kind = SPF_EV_DONE;
  ev->result = r;
  c->done_reported = true;
}

bool spf_check_next(spf_check *c, spf_event *ev) {
  memset(ev, 0, sizeof *ev);
  switch (c->state) {
  case SPF_ST_EVALUATE:
    evaluate(c, ev);
    return true;
  case SPF_ST_WAIT_DNS:
  case SPF_ST_DONE:
    return false;
  default:
    g_assert_not_reached();
  }
}

void spf_check_answer(spf_check *c, uint32_t id, auth_dns_status status, const dns_rr *rrs,
                      size_t n) {
  if (c->state != SPF_ST_WAIT_DNS || id != c->pending.id)
    g_error("spf_check_answer: no outstanding query %u (state %s)", id, spf_state_name(c->state));
  auth_dns_cache_put(c->cache, &c->pending.name, c->pending.type, status, rrs, n);
  c->has_pending = false;
  spf_enter(c, SPF_ST_EVALUATE);
}

static void assert_done(const spf_check *c, const char *fn) {
  if (c->state != SPF_ST_DONE)
    g_error("%s: check not done (state %s)", fn, spf_state_name(c->state));
}

spf_result spf_check_result(const spf_check *c) {
  assert_done(c, __func__);
  return c->result;
}
const char *spf_check_explanation(const spf_check *c) {
  assert_done(c, __func__);
  return c->explanation;
}
const char *spf_check_mechanism(const spf_check *c) {
  assert_done(c, __func__);
  return c->mechanism;
}
const char *spf_check_problem(const spf_check *c) {
  assert_done(c, __func__);
  return c->problem;
}
const char *spf_check_domain(const spf_check *c) { return c->domain; }
spf_identity spf_check_identity(const spf_check *c) { return c->identity; }
const char *spf_check_mailfrom(const spf_check *c) { return c->mailfrom; }
const char *spf_check_helo(const spf_check *c) { return c->helo; }
const char *spf_check_sender(const spf_check *c) { return c->sender; }
unsigned spf_check_lookups(const spf_check *c) {
  assert_done(c, __func__);
  return c->lookups;
}

/* RFC 5322 dot-atom text, else a quoted-string. */
static void append_value(GString *out, const char *v) {
  bool atom = v[0] != '\0' && v[0] != '.';
  for (const char *p = v; *p && atom; p++) {
    unsigned char ch = (unsigned char)*p;
    atom = g_ascii_isalnum(ch) || strchr("!#$%&'*+-/=?^_`{|}~", ch) ||
           (ch == '.' && p[1] != '.' && p[1] != '\0');
  }
  if (atom) {
    g_string_append(out, v);
    return;
  }
  g_string_append_c(out, '"');
  for (const char *p = v; *p; p++) {
    unsigned char ch = (unsigned char)*p;
    if (ch == '"' || ch == '\\')
      g_string_append_c(out, '\\');
    if (ch >= 0x20 && ch < 0x7f)
      g_string_append_c(out, (char)ch);
    else
      g_string_append_printf(out, "\\x%02x", ch); /* never raw controls in a header */
  }
  g_string_append_c(out, '"');
}

/* Comment text: parentheses and backslashes escaped. */
static void append_ctext(GString *out, const char *s) {
  for (const char *p = s; *p; p++) {
    if (*p == '(' || *p == ')' || *p == '\\')
      g_string_append_c(out, '\\');
    if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f)
      g_string_append_c(out, *p);
  }
}

char *spf_check_received_spf(const spf_check *c) {
  assert_done(c, __func__);
  GString *o = g_string_new("Received-SPF: ");
  g_string_append(o, spf_result_name(c->result));
  GString *cm = g_string_new(NULL);
  const char *who = c->identity == SPF_ID_HELO ? c->helo : c->sender;
  switch (c->result) {
  case SPF_PASS:
    g_string_printf(cm, "domain of %s designates %s as permitted sender", who, c->ip_text);
    break;
  case SPF_FAIL:
    g_string_printf(cm, "domain of %s does not designate %s as permitted sender", who, c->ip_text);
    break;
  case SPF_SOFTFAIL:
    g_string_printf(cm, "domain of transitioning %s does not designate %s as permitted sender", who,
                    c->ip_text);
    break;
  case SPF_NEUTRAL:
    g_string_printf(cm, "%s is neither permitted nor denied by domain of %s", c->ip_text, who);
    break;
  case SPF_NONE:
    g_string_printf(cm, "domain of %s does not designate permitted sender hosts", who);
    break;
  case SPF_TEMPERROR:
    g_string_printf(cm, "error in processing during lookup of %s: %s", who,
                    c->problem ? c->problem : "DNS error");
    break;
  case SPF_PERMERROR:
    g_string_printf(cm, "permanent error in processing during lookup of %s: %s", who,
                    c->problem ? c->problem : "invalid record");
    break;
  default:
    g_assert_not_reached();
  }
  g_string_append_printf(o, " (%s: ", c->receiver);
  append_ctext(o, cm->str);
  g_string_append(o, ")");
  g_string_free(cm, TRUE);
  g_string_append(o, " client-ip=");
  append_value(o, c->ip_text);
  g_string_append(o, "; envelope-from=");
  append_value(o, c->mailfrom);
  g_string_append(o, "; helo=");
  append_value(o, c->helo);
  g_string_append(o, "; receiver=");
  append_value(o, c->receiver);
  g_string_append(o, "; identity=");
  g_string_append(o, spf_identity_name(c->identity));
  if (c->mechanism) {
    g_string_append(o, "; mechanism=");
    append_value(o, c->mechanism);
  }
  if (c->problem) {
    g_string_append(o, "; problem=");
    append_value(o, c->problem);
  }
  g_string_append_c(o, ';');
  return g_string_free(o, FALSE);
}
