/* mta_route.c — routing decisions of an MTA.
 *
 * RFC 5321 §5.1: MX records in preference order, equal preferences in
 * random order; no MX → the domain itself is the one host (implicit MX,
 * its A/AAAA); if this host is in the list, drop it and every entry of
 * lower or equal preference (Postfix smtp_addr.c smtp_truncate_self), and if nothing
 * is left the mail loops back to us (5.4.6, RFC 3463 "routing loop
 * detected"). RFC 7505: a single MX "0 ." means the domain takes no mail:
 * bounce 556 5.1.10 without connecting. Address lookups failing
 * temporarily defer (4.4.3); names that do not exist bounce (5.1.2 for the
 * domain, 5.4.4 when no host has an address). A connection failure or a
 * 4xx/5xx greeting moves to the next candidate (RFC 5321 §5.1 "try the
 * next"; Postfix smtp_skip_5xx_greeting). Session limits and reuse follow
 * Postfix's default_destination_concurrency_limit and connection cache.
 */
#include "mta_route.h"

#include <stdlib.h>
#include <string.h>

static const char *const plan_names[MTA_ROUTE_PLAN__COUNT] = {"local", "lookup-mx", "lookup-host"};
static const char *const dns_names[MTA_DNS__COUNT] = {"ok", "nodata", "nxdomain", "tempfail"};
static const char *const decision_names[MTA_ROUTE_DECISION__COUNT] = {"try", "bounce", "defer"};

const char *mta_route_plan_kind_name(mta_route_plan_kind k) {
  g_assert((unsigned)k < MTA_ROUTE_PLAN__COUNT);
  return plan_names[k];
}
const char *mta_dns_status_name(mta_dns_status s) {
  g_assert((unsigned)s < MTA_DNS__COUNT);
  return dns_names[s];
}
const char *mta_route_decision_kind_name(mta_route_decision_kind k) {
  g_assert((unsigned)k < MTA_ROUTE_DECISION__COUNT);
  return decision_names[k];
}

typedef struct {
  uint64_t sid;
  const char *nexthop; /* the caller's (mta_route_opened): compared ignoring case */
  int64_t opened;
  bool idle;
} session;

struct mta_route {
  GPtrArray *self_names, *self_addrs; /* lower-cased, no trailing dot */
  GPtrArray *local_dom, *local_host;
  GArray *local_port;                      /* uint16_t */
  GPtrArray *ovr_dom, *ovr_hop, *ovr_name; /* name: the hop without brackets */
  GArray *ovr_port;
  unsigned max_candidates, dest_concurrency;
  int64_t reuse_time_limit;
  GArray *sessions; /* session, in opening order */
};

void mta_route_config_init(mta_route_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->max_candidates = 5;
  cfg->dest_concurrency = 20;
  cfg->reuse_time_limit = INT64_C(300000000000);
}

/* Lower case, without one trailing dot. */
static char *norm_name(const char *s) {
  char *n = g_ascii_strdown(s ? s : "", -1);
  size_t len = strlen(n);
  if (len > 0 && n[len - 1] == '.')
    n[len - 1] = 0;
  return n;
}

/* NAME (any case, one trailing dot ignored) in LIST (lower-cased, no
 * trailing dot): compared in place, not copied. */
static bool in_list(GPtrArray *list, const char *name) {
  if (!name)
    name = "";
  size_t len = strlen(name);
  if (len > 0 && name[len - 1] == '.')
    len--;
  for (guint i = 0; i < list->len; i++) {
    const char *e = list->pdata[i];
    if (g_ascii_strncasecmp(e, name, len) == 0 && e[len] == 0)
      return true;
  }
  return false;
}

mta_route *mta_route_new(const mta_route_config *cfg) {
  mta_route *r = g_new0(mta_route, 1);
  r->self_names = g_ptr_array_new_with_free_func(g_free);
  r->self_addrs = g_ptr_array_new_with_free_func(g_free);
  r->local_dom = g_ptr_array_new_with_free_func(g_free);
  r->local_host = g_ptr_array_new_with_free_func(g_free);
  r->local_port = g_array_new(FALSE, FALSE, sizeof(uint16_t));
  r->ovr_dom = g_ptr_array_new_with_free_func(g_free);
  r->ovr_hop = g_ptr_array_new_with_free_func(g_free);
  r->ovr_name = g_ptr_array_new_with_free_func(g_free);
  r->ovr_port = g_array_new(FALSE, FALSE, sizeof(uint16_t));
  r->sessions = g_array_new(FALSE, FALSE, sizeof(session));
  for (size_t i = 0; i < cfg->nself_names; i++)
    g_ptr_array_add(r->self_names, norm_name(cfg->self_names[i]));
  for (size_t i = 0; i < cfg->nself_addrs; i++)
    g_ptr_array_add(r->self_addrs, norm_name(cfg->self_addrs[i]));
  for (size_t i = 0; i < cfg->nlocals; i++) {
    g_ptr_array_add(r->local_dom, norm_name(cfg->locals[i].domain));
    g_ptr_array_add(r->local_host, g_strdup(cfg->locals[i].mailbox_host));
    uint16_t port = cfg->locals[i].port ? cfg->locals[i].port : 24;
    g_array_append_val(r->local_port, port);
  }
  for (size_t i = 0; i < cfg->noverrides; i++) {
    g_ptr_array_add(r->ovr_dom, norm_name(cfg->overrides[i].domain));
    char *hop = g_ascii_strdown(cfg->overrides[i].nexthop, -1);
    size_t n = strlen(hop);
    g_ptr_array_add(r->ovr_hop, hop);
    if (n >= 2 && hop[0] == '[' && hop[n - 1] == ']')
      g_ptr_array_add(r->ovr_name, g_strndup(hop + 1, n - 2));
    else
      g_ptr_array_add(r->ovr_name, g_strdup(hop));
    uint16_t port = cfg->overrides[i].port ? cfg->overrides[i].port : 25;
    g_array_append_val(r->ovr_port, port);
  }
  r->max_candidates = cfg->max_candidates;
  r->dest_concurrency = cfg->dest_concurrency;
  r->reuse_time_limit = cfg->reuse_time_limit;
  return r;
}

void mta_route_free(mta_route *r) {
  if (!r)
    return;
  g_ptr_array_free(r->self_names, TRUE);
  g_ptr_array_free(r->self_addrs, TRUE);
  g_ptr_array_free(r->local_dom, TRUE);
  g_ptr_array_free(r->local_host, TRUE);
  g_array_free(r->local_port, TRUE);
  g_ptr_array_free(r->ovr_dom, TRUE);
  g_ptr_array_free(r->ovr_hop, TRUE);
  g_ptr_array_free(r->ovr_name, TRUE);
  g_array_free(r->ovr_port, TRUE);
  g_array_free(r->sessions, TRUE); /* nexthops: the callers' */
  g_free(r);
}

/* ---- plans ---- */

/* The entry for DOM (lower-cased, no trailing dot): a local domain's
 * (*LOCAL), an override's (exact, else "*"), or -1. */
static int plan_find(const mta_route *r, const char *dom, bool *local) {
  *local = false;
  for (guint i = 0; i < r->local_dom->len; i++)
    if (strcmp(r->local_dom->pdata[i], dom) == 0) {
      *local = true;
      return (int)i;
    }
  int hit = -1;
  for (guint i = 0; i < r->ovr_dom->len; i++) {
    if (strcmp(r->ovr_dom->pdata[i], dom) == 0)
      return (int)i;
    if (hit < 0 && strcmp(r->ovr_dom->pdata[i], "*") == 0)
      hit = (int)i; /* keep looking for an exact entry */
  }
  return hit;
}

void mta_route_plan_for(const mta_route *r, const char *domain, mta_route_plan *p) {
  memset(p, 0, sizeof *p);
  char *dom = norm_name(domain);
  bool local;
  int hit = plan_find(r, dom, &local);
  if (hit >= 0 && local) {
    p->kind = MTA_ROUTE_LOCAL;
    p->host = r->local_host->pdata[hit];
    p->lookup = p->host;
    p->port = g_array_index(r->local_port, uint16_t, hit);
    p->nexthop = g_strconcat("local:", p->host, NULL);
    g_free(dom);
    return;
  }
  if (hit >= 0) {
    const char *hop = r->ovr_hop->pdata[hit];
    p->port = g_array_index(r->ovr_port, uint16_t, hit);
    p->nexthop = g_strdup(hop);
    p->lookup = r->ovr_name->pdata[hit];
    p->kind = hop[0] == '[' ? MTA_ROUTE_LOOKUP_HOST : MTA_ROUTE_LOOKUP_MX;
    g_free(dom);
    return;
  }
  p->kind = MTA_ROUTE_LOOKUP_MX;
  p->nexthop = dom;
  p->lookup = p->nexthop;
  p->port = 25;
}

static inline char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c; }

char *mta_route_nexthop_into(const mta_route *r, const char *domain, char *buf, size_t n) {
  const char *s = domain ? domain : "";
  size_t len = strlen(s);
  if (len > 0 && s[len - 1] == '.') /* one trailing dot ignored */
    len--;
  char *dom = len < n ? buf : g_malloc(len + 1);
  for (size_t i = 0; i < len; i++)
    dom[i] = lower(s[i]);
  dom[len] = 0;
  bool local;
  int hit = plan_find(r, dom, &local);
  if (hit < 0)
    return dom;
  if (dom != buf)
    g_free(dom);
  const char *pre = local ? "local:" : "";
  const char *name = local ? r->local_host->pdata[hit] : r->ovr_hop->pdata[hit];
  size_t pl = strlen(pre), nl = strlen(name);
  char *out = pl + nl < n ? buf : g_malloc(pl + nl + 1);
  memcpy(out, pre, pl);
  memcpy(out + pl, name, nl + 1);
  return out;
}

void mta_route_plan_clear(mta_route_plan *p) {
  g_free(p->nexthop);
  memset(p, 0, sizeof *p);
}

/* ---- decisions ---- */

enum { OWN_ESC = 1, OWN_TEXT = 2, OWN_CANDS = 4 };

/* Sets the reason: ESC static, TEXT static or (OWNED) taken. */
static void set_reason(mta_route_decision *d, mta_route_decision_kind kind, int code,
                       const char *esc, const char *text, bool owned) {
  d->kind = kind;
  d->code = code;
  if (d->owns & OWN_ESC)
    g_free((char *)d->esc);
  if (d->owns & OWN_TEXT)
    g_free((char *)d->text);
  d->owns = (uint8_t)((d->owns & ~(OWN_ESC | OWN_TEXT)) | (owned ? OWN_TEXT : 0));
  d->esc = esc;
  d->text = text;
}

/* A uniform index in [0, n) by rejection (no modulo bias). */
static uint64_t rand_below(mta_rand_fn rand, void *user, uint64_t n) {
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  for (;;) {
    uint64_t v = rand(user);
    if (v < limit)
      return v % n;
  }
}

static bool is_self(const mta_route *r, const mta_route_mx *mx) {
  if (in_list(r->self_names, mx->name))
    return true;
  for (size_t i = 0; mx->addr_status == MTA_DNS_OK && i < mx->naddrs; i++)
    if (in_list(r->self_addrs, mx->addrs[i]))
      return true;
  return false;
}

static gint mx_pref_cmp(gconstpointer a, gconstpointer b) {
  const mta_route_mx *x = *(const mta_route_mx *const *)a, *y = *(const mta_route_mx *const *)b;
  if (x->pref != y->pref)
    return x->pref < y->pref ? -1 : 1;
  return x < y ? -1 : x > y; /* the answer's order: both point into one array */
}

/* The candidates: every address of each exchange of MX[0..N) whose lookup
 * succeeded, in that order, the first max_candidates of them; one block
 * holds the array, then each exchange's name once and the addresses. */
static void set_candidates(const mta_route *r, mta_route_decision *d, const mta_route_mx *const *mx,
                           size_t n, uint16_t port) {
  size_t limit = r->max_candidates ? r->max_candidates : SIZE_MAX;
  size_t count = 0, chars = 0;
  for (size_t i = 0; i < n && count < limit; i++) {
    if (mx[i]->addr_status != MTA_DNS_OK || mx[i]->naddrs == 0)
      continue;
    chars += strlen(mx[i]->name) + 1;
    for (size_t j = 0; j < mx[i]->naddrs && count < limit; j++, count++)
      chars += strlen(mx[i]->addrs[j]) + 1;
  }
  if (count == 0)
    return;
  size_t need = count * sizeof(mta_route_candidate) + chars;
  mta_route_candidate *c;
  if (d->room && d->room_size >= need) { /* the block kept (mta_route_redecide) */
    c = d->room;
    d->cand_room = d->room_size;
    d->room = NULL;
    d->room_size = 0;
  } else { /* in 64-octet steps, so that a later decision's usually fits */
    if (d->room) /* too small: one block a decision */
      g_free(d->room);
    d->room = NULL;
    d->room_size = 0;
    d->cand_room = (need + 63) & ~(size_t)63;
    c = g_malloc(d->cand_room);
  }
  char *p = (char *)(c + count);
  size_t k = 0;
  for (size_t i = 0; i < n && k < count; i++) {
    if (mx[i]->addr_status != MTA_DNS_OK || mx[i]->naddrs == 0)
      continue;
    size_t len = strlen(mx[i]->name) + 1;
    const char *host = memcpy(p, mx[i]->name, len);
    p += len;
    for (size_t j = 0; j < mx[i]->naddrs && k < count; j++, k++) {
      len = strlen(mx[i]->addrs[j]) + 1;
      c[k] = (mta_route_candidate){host, memcpy(p, mx[i]->addrs[j], len), mx[i]->pref, port};
      p += len;
    }
  }
  d->candidates = c;
  d->ncandidates = (guint)count;
  d->owns |= OWN_CANDS;
}

static void finish_candidates(mta_route_decision *d, bool temp, const char *name) {
  if (d->ncandidates > 0) {
    /* Until a candidate fails, exhaustion means "no answer from host". */
    set_reason(d, MTA_ROUTE_TRY, 451, "4.4.1", "no answer from any host", false);
    return;
  }
  char *text = g_strdup_printf(temp ? "Host or domain name lookup failed for %s (temporary)"
                                    : "Host or domain name not found: no address for %s",
                               name);
  set_reason(d, temp ? MTA_ROUTE_DEFER : MTA_ROUTE_BOUNCE, temp ? 451 : 554,
             temp ? "4.4.3" : "5.4.4", text, true);
}

void mta_route_decide(const mta_route *r, const mta_route_plan *plan, const mta_route_answer *a,
                      mta_rand_fn rand, void *user, mta_route_decision *d) {
  memset(d, 0, sizeof *d);
  mta_route_redecide(r, plan, a, rand, user, d);
}

void mta_route_redecide(const mta_route *r, const mta_route_plan *plan, const mta_route_answer *a,
                        mta_rand_fn rand, void *user, mta_route_decision *d) {
  mta_route_decision_reset(d);
  const char *name = plan->lookup;
  if (plan->kind == MTA_ROUTE_LOCAL) {
    const char *addr[] = {plan->host};
    mta_route_mx local = {0, plan->host, MTA_DNS_OK, addr, 1};
    const mta_route_mx *one = &local;
    set_candidates(r, d, &one, 1, plan->port);
    finish_candidates(d, false, name);
    return;
  }
  const char *host = name;
  bool implicit = plan->kind == MTA_ROUTE_LOOKUP_HOST || a->mx_status == MTA_DNS_NODATA ||
                  (a->mx_status == MTA_DNS_OK && a->nmx == 0);
  if (!implicit && a->mx_status == MTA_DNS_TEMPFAIL) {
    set_reason(d, MTA_ROUTE_DEFER, 451, "4.4.3",
               g_strdup_printf("MX lookup for %s failed (temporary)", host), true);
  } else if (!implicit && a->mx_status == MTA_DNS_NXDOMAIN) {
    set_reason(d, MTA_ROUTE_BOUNCE, 550, "5.1.2",
               g_strdup_printf("Host or domain name not found: %s does not exist", host), true);
  } else if (implicit) {
    /* RFC 5321 §5.1: the domain is its own MX, preference 0. A [host]
     * override is never "implicit", but it is one host the same way. */
    d->implicit_mx = plan->kind == MTA_ROUTE_LOOKUP_MX;
    mta_route_mx self_mx = {0, host, a->host_status, a->host_addrs, a->nhost_addrs};
    if (is_self(r, &self_mx)) {
      set_reason(d, MTA_ROUTE_BOUNCE, 554, "5.4.6",
                 g_strdup_printf("mail for %s loops back to myself", host), true);
      d->self_dropped = true;
    } else {
      const mta_route_mx *one = &self_mx;
      set_candidates(r, d, &one, 1, plan->port);
      finish_candidates(d, a->host_status == MTA_DNS_TEMPFAIL, host);
    }
  } else if (a->nmx == 1 && a->mx[0].pref == 0 &&
             (strcmp(a->mx[0].name, ".") == 0 || a->mx[0].name[0] == 0)) {
    /* RFC 7505 §3-4: null MX. */
    set_reason(d, MTA_ROUTE_BOUNCE, 556, "5.1.10",
               g_strdup_printf("Domain %s does not accept mail (nullMX)", host), true);
  } else {
    /* The exchanges to sort, on the stack while they fit. */
    const mta_route_mx *mbuf[16];
    const mta_route_mx **mx =
        a->nmx <= G_N_ELEMENTS(mbuf) ? mbuf : g_new(const mta_route_mx *, a->nmx);
    size_t n = 0;
    for (size_t i = 0; i < a->nmx; i++)
      if (strcmp(a->mx[i].name, ".") != 0 && a->mx[i].name[0] != 0) /* a stray null MX */
        mx[n++] = &a->mx[i];
    qsort(mx, n, sizeof *mx, mx_pref_cmp); /* a total order: any sort gives it */
    /* Drop this host and everything not preferred to it. */
    for (size_t i = 0; i < n; i++) {
      const mta_route_mx *m = mx[i];
      if (is_self(r, m)) {
        d->self_dropped = true;
        size_t cut = i;
        while (cut > 0 && mx[cut - 1]->pref == m->pref)
          cut--;
        n = cut;
        break;
      }
    }
    if (d->self_dropped && n == 0) {
      set_reason(d, MTA_ROUTE_BOUNCE, 554, "5.4.6",
                 g_strdup_printf("mail for %s loops back to myself", host), true);
    } else {
      /* Shuffle each run of equal preference (Fisher-Yates). */
      for (size_t s = 0; rand && s < n;) {
        size_t e = s + 1;
        while (e < n && mx[e]->pref == mx[s]->pref)
          e++;
        for (size_t i = e - 1; i > s; i--) {
          size_t j = s + (size_t)rand_below(rand, user, i - s + 1);
          const mta_route_mx *t = mx[i];
          mx[i] = mx[j];
          mx[j] = t;
        }
        s = e;
      }
      bool temp = false;
      for (size_t i = 0; i < n; i++)
        temp |= mx[i]->addr_status == MTA_DNS_TEMPFAIL;
      set_candidates(r, d, mx, n, plan->port);
      finish_candidates(d, temp, host);
    }
    if (mx != mbuf)
      g_free(mx);
  }
}

void mta_route_decision_reset(mta_route_decision *d) {
  void *room = d->room;
  size_t room_size = d->room_size;
  if (d->owns & OWN_CANDS) { /* the larger of the two blocks stays */
    if (d->cand_room > room_size) {
      if (room)
        g_free(room);
      room = d->candidates;
      room_size = d->cand_room;
    } else {
      g_free(d->candidates);
    }
  }
  if (d->owns & OWN_ESC)
    g_free((char *)d->esc);
  if (d->owns & OWN_TEXT)
    g_free((char *)d->text);
  memset(d, 0, sizeof *d);
  d->room = room;
  d->room_size = room_size;
}

void mta_route_decision_clear(mta_route_decision *d) {
  mta_route_decision_reset(d);
  if (d->room)
    g_free(d->room);
  d->room = NULL;
  d->room_size = 0;
}

void mta_route_decision_borrow(mta_route_decision *dst, const mta_route_decision *src) {
  *dst = *src;
  dst->cand_room = 0; /* the candidates and SRC's kept block stay SRC's */
  dst->room = NULL;
  dst->room_size = 0;
  dst->owns = src->owns & (OWN_ESC | OWN_TEXT);
  if (dst->owns & OWN_ESC)
    dst->esc = g_strdup(src->esc);
  if (dst->owns & OWN_TEXT)
    dst->text = g_strdup(src->text);
  dst->next = 0;
}

const mta_route_candidate *mta_route_next(mta_route_decision *d) {
  if (d->kind != MTA_ROUTE_TRY)
    return NULL;
  if (d->next >= d->ncandidates) {
    d->kind = MTA_ROUTE_DEFER; /* every candidate failed: the last reason stands */
    return NULL;
  }
  return &d->candidates[d->next++];
}

void mta_route_failed(mta_route_decision *d, int code, const char *esc, const char *text) {
  g_assert(d->kind == MTA_ROUTE_TRY && d->next > 0);
  const mta_route_candidate *c = &d->candidates[d->next - 1];
  /* Whatever the greeting said, the recipient is deferred, not bounced:
   * another host may take it later (Postfix smtp_skip_5xx_greeting). */
  char *t = g_strdup_printf("%s[%s]: %s", c->host, c->addr, text ? text : "connection failed");
  set_reason(d, d->kind, code >= 400 && code < 500 ? code : 451, "4.4.1", t, true);
  if (esc && esc[0] == '4') {
    d->esc = g_strdup(esc);
    d->owns |= OWN_ESC;
  }
}

/* ---- sessions ---- */

static session *find_session(const mta_route *r, uint64_t sid, guint *idx) {
  for (guint i = 0; i < r->sessions->len; i++) {
    session *s = &g_array_index(r->sessions, session, i);
    if (s->sid == sid) {
      if (idx)
        *idx = i;
      return s;
    }
  }
  return NULL;
}

unsigned mta_route_open_count(const mta_route *r, const char *nexthop) {
  unsigned n = 0;
  for (guint i = 0; i < r->sessions->len; i++)
    n += g_ascii_strcasecmp(g_array_index(r->sessions, session, i).nexthop, nexthop) == 0;
  return n;
}

bool mta_route_may_open(const mta_route *r, const char *nexthop) {
  return r->dest_concurrency == 0 || mta_route_open_count(r, nexthop) < r->dest_concurrency;
}

void mta_route_opened(mta_route *r, const char *nexthop, uint64_t sid, int64_t now) {
  g_assert(sid > 0 && !find_session(r, sid, NULL));
  session s = {sid, nexthop, now, false};
  g_array_append_val(r->sessions, s);
}

void mta_route_set_idle(mta_route *r, uint64_t sid, bool idle) {
  session *s = find_session(r, sid, NULL);
  g_assert(s);
  s->idle = idle;
}

void mta_route_closed(mta_route *r, uint64_t sid) {
  guint i;
  session *s = find_session(r, sid, &i);
  g_assert(s);
  g_array_remove_index(r->sessions, i);
}

static bool reusable(const mta_route *r, const session *s, int64_t now) {
  return r->reuse_time_limit <= 0 || now - s->opened < r->reuse_time_limit;
}

uint64_t mta_route_reuse(mta_route *r, const char *nexthop, int64_t now) {
  session *best = NULL;
  for (guint i = 0; i < r->sessions->len; i++) {
    session *s = &g_array_index(r->sessions, session, i);
    if (s->idle && reusable(r, s, now) && g_ascii_strcasecmp(s->nexthop, nexthop) == 0 &&
        (!best || s->sid < best->sid))
      best = s;
  }
  if (!best)
    return 0;
  best->idle = false;
  return best->sid;
}

static gint u64_cmp(gconstpointer a, gconstpointer b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

size_t mta_route_expired_idle(const mta_route *r, int64_t now, GArray *sids) {
  guint start = sids->len;
  for (guint i = 0; i < r->sessions->len; i++) {
    const session *s = &g_array_index(r->sessions, session, i);
    if (s->idle && !reusable(r, s, now))
      g_array_append_val(sids, s->sid);
  }
  size_t n = sids->len - start;
  if (n > 1)
    qsort(&g_array_index(sids, uint64_t, start), n, sizeof(uint64_t), u64_cmp);
  return n;
}
