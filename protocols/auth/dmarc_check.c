/* dmarc_check.c — RFC 7489 §6.6.2 (evaluate the From domain), §6.6.3
 * (policy discovery: _dmarc.<From domain>, then _dmarc.<organisational
 * domain>; several DMARC records or none: no policy; a DNS failure:
 * temperror), §3.1 (identifier alignment, relaxed by organisational
 * domain or strict by equality; DKIM counts only passing signatures, SPF
 * only a pass), §6.3 sp= for subdomains, §6.6.4 (pct: a message not
 * sampled gets the next weaker policy: reject -> quarantine ->
 * none). Reports (rua/ruf) are parsed, never sent. */
#include "dmarc_check.h"

#include <string.h>

static const char *const result_names[DMARC_RESULT_COUNT] = {"none", "pass", "fail", "temperror",
                                                             "permerror"};

const char *dmarc_result_name(dmarc_result r) {
  g_assert((unsigned)r < DMARC_RESULT_COUNT);
  return result_names[r];
}

static const char *const state_names[DMARC_ST_COUNT] = {"evaluate", "wait-dns", "done"};

const char *dmarc_state_name(dmarc_state s) {
  g_assert((unsigned)s < DMARC_ST_COUNT);
  return state_names[s];
}

const char *dmarc_event_kind_name(dmarc_event_kind k) {
  g_assert((unsigned)k < DMARC_EV_COUNT);
  return k == DMARC_EV_DNS_QUERY ? "dns-query" : "done";
}

typedef enum { STEP_FROM = 0, STEP_ORG, STEP_DECIDE } step;

struct dmarc_check {
  dmarc_state state;
  auth_env env;
  step step;
  char *from, *org, *spf_domain;
  spf_result spf;
  GPtrArray *dkim_pass; /* of char*: d= of passing signatures */
  GPtrArray *psl;
  uint32_t next_id;
  auth_dns_query pending;
  bool done_reported;
  /* outcome */
  dmarc_result result;
  dmarc_record *record;
  char *record_domain;
  dmarc_policy policy, disposition;
  bool spf_aligned, dkim_aligned;
  const char *reason;
};

static void dmarc_enter(dmarc_check *c, dmarc_state s) {
  switch (s) {
  case DMARC_ST_EVALUATE:
  case DMARC_ST_WAIT_DNS:
  case DMARC_ST_DONE:
    break;
  default:
    g_assert_not_reached();
  }
  if (c->env.trace) {
    char *line =
        g_strdup_printf("dmarc: %s -> %s", dmarc_state_name(c->state), dmarc_state_name(s));
    c->env.trace(c->env.ud, line);
    g_free(line);
  }
  c->state = s;
}

static char *lower_nodot(const char *s) {
  char *d = g_ascii_strdown(s, -1);
  size_t n = strlen(d);
  if (n && d[n - 1] == '.')
    d[n - 1] = '\0';
  return d;
}

dmarc_check *dmarc_check_new(const dmarc_request *req, const auth_env *env) {
  g_assert(req && req->from_domain);
  dmarc_check *c = g_new0(dmarc_check, 1);
  if (env)
    c->env = *env;
  c->from = lower_nodot(req->from_domain);
  c->psl = g_ptr_array_new_with_free_func(g_free);
  for (size_t i = 0; i < req->nsuffixes; i++)
    g_ptr_array_add(c->psl, g_strdup(req->public_suffixes[i]));
  c->org = dmarc_org_domain(c->from, (const char *const *)c->psl->pdata, c->psl->len);
  c->spf = req->spf;
  c->spf_domain = req->spf_domain ? lower_nodot(req->spf_domain) : NULL;
  c->dkim_pass = g_ptr_array_new_with_free_func(g_free);
  for (size_t i = 0; i < req->ndkim; i++)
    if (req->dkim[i].result == DKIM_PASS && req->dkim[i].domain)
      g_ptr_array_add(c->dkim_pass, lower_nodot(req->dkim[i].domain));
  c->state = DMARC_ST_EVALUATE;
  return c;
}

void dmarc_check_free(dmarc_check *c) {
  if (!c)
    return;
  g_free(c->from);
  g_free(c->org);
  g_free(c->spf_domain);
  g_ptr_array_free(c->dkim_pass, TRUE);
  g_ptr_array_free(c->psl, TRUE);
  dmarc_record_free(c->record);
  g_free(c->record_domain);
  g_free(c);
}

dmarc_state dmarc_check_state(const dmarc_check *c) { return c->state; }

/* §3.1.1 / §3.1.2 */
static bool aligned(dmarc_check *c, const char *d, bool strict) {
  if (!d)
    return false;
  if (strict)
    return strcmp(d, c->from) == 0;
  char *o = dmarc_org_domain(d, (const char *const *)c->psl->pdata, c->psl->len);
  bool ok = strcmp(o, c->org) == 0;
  g_free(o);
  return ok;
}

static void finish(dmarc_check *c, dmarc_result r, const char *reason) {
  c->result = r;
  c->reason = reason;
  dmarc_enter(c, DMARC_ST_DONE);
}

static void decide(dmarc_check *c) {
  dmarc_record *r = c->record;
  c->spf_aligned = c->spf == SPF_PASS && aligned(c, c->spf_domain, r->aspf_strict);
  for (guint i = 0; i < c->dkim_pass->len && !c->dkim_aligned; i++)
    c->dkim_aligned = aligned(c, c->dkim_pass->pdata[i], r->adkim_strict);
  /* §6.3 sp: the policy for subdomains when the record is the
   * organisational domain's and the From domain is below it. */
  c->policy = strcmp(c->record_domain, c->from) != 0 ? r->sp : r->p;
  if (c->spf_aligned || c->dkim_aligned) {
    c->disposition = DMARC_POLICY_NONE;
    finish(c, DMARC_PASS, c->dkim_aligned ? "aligned DKIM pass" : "aligned SPF pass");
    return;
  }
  c->disposition = c->policy;
  if (c->policy != DMARC_POLICY_NONE && r->pct < 100) {
    bool sampled = true;
    if (c->env.rand)
      sampled = (int)(c->env.rand(c->env.rand_ud) % 100) < r->pct;
    if (!sampled)
      c->disposition =
          c->policy == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
  }
  finish(c, DMARC_FAIL, "no aligned SPF or DKIM pass");
}

static void ask(dmarc_check *c, const char *domain, dmarc_event *ev) {
  char *q = g_strdup_printf("_dmarc.%s", domain);
  bool ok = auth_dns_name_from_domain(q, &c->pending.name);
  g_free(q);
  g_assert(ok); /* checked in next() */
  c->pending.id = ++c->next_id;
  c->pending.type = DNS_T_TXT;
  ev->kind = DMARC_EV_DNS_QUERY;
  ev->query = c->pending;
  dmarc_enter(c, DMARC_ST_WAIT_DNS);
}

bool dmarc_check_next(dmarc_check *c, dmarc_event *ev) {
  memset(ev, 0, sizeof *ev);
  if (c->state == DMARC_ST_WAIT_DNS)
    return false;
  if (c->state == DMARC_ST_DONE) {
    if (c->done_reported)
      return false;
    c->done_reported = true;
    ev->kind = DMARC_EV_DONE;
    return true;
  }
  switch (c->step) {
  case STEP_FROM: {
    dns_name n;
    char *q = g_strdup_printf("_dmarc.%s", c->from);
    bool ok = auth_dns_name_from_domain(q, &n) && strchr(c->from, '.');
    g_free(q);
    if (!ok) {
      finish(c, DMARC_PERMERROR, "From domain is not a valid domain name");
      return dmarc_check_next(c, ev);
    }
    ask(c, c->from, ev);
    return true;
  }
  case STEP_ORG:
    ask(c, c->org, ev);
    return true;
  case STEP_DECIDE:
    decide(c);
    return dmarc_check_next(c, ev);
  default:
    g_assert_not_reached();
  }
}

void dmarc_check_answer(dmarc_check *c, uint32_t id, auth_dns_status status, const dns_rr *rrs,
                        size_t n) {
  if (c->state != DMARC_ST_WAIT_DNS || id != c->pending.id)
    g_error("dmarc_check_answer: no outstanding query %u (state %s)", id,
            dmarc_state_name(c->state));
  dmarc_enter(c, DMARC_ST_EVALUATE);
  if (status == AUTH_DNS_TIMEOUT || status == AUTH_DNS_SERVFAIL) {
    finish(c, DMARC_TEMPERROR, "DNS error looking up the policy");
    return;
  }
  dmarc_record *found = NULL;
  unsigned count = 0;
  for (size_t i = 0; i < n && status == AUTH_DNS_OK; i++) {
    if (rrs[i].type != DNS_T_TXT)
      continue;
    size_t len;
    char *t = auth_dns_txt_join(&rrs[i], &len);
    if (dmarc_record_is_dmarc(t, len)) {
      count++;
      dmarc_record_free(found);
      found = dmarc_record_parse(t, len);
    }
    g_free(t);
  }
  if (count == 1 && found) {
    c->record = found;
    c->record_domain = g_strdup(c->step == STEP_FROM ? c->from : c->org);
    c->step = STEP_DECIDE;
    return;
  }
  dmarc_record_free(found);
  if (c->step == STEP_FROM && strcmp(c->from, c->org) != 0) {
    c->step = STEP_ORG;
    return;
  }
  finish(c, DMARC_NONE, count > 1 ? "several DMARC records" : "no DMARC policy");
}

static void assert_done(const dmarc_check *c, const char *fn) {
  if (c->state != DMARC_ST_DONE)
    g_error("%s: check not done (state %s)", fn, dmarc_state_name(c->state));
}

dmarc_result dmarc_check_result(const dmarc_check *c) {
  assert_done(c, __func__);
  return c->result;
}
dmarc_policy dmarc_check_policy(const dmarc_check *c) {
  assert_done(c, __func__);
  return c->policy;
}
dmarc_policy dmarc_check_disposition(const dmarc_check *c) {
  assert_done(c, __func__);
  return c->disposition;
}
bool dmarc_check_spf_aligned(const dmarc_check *c) {
  assert_done(c, __func__);
  return c->spf_aligned;
}
bool dmarc_check_dkim_aligned(const dmarc_check *c) {
  assert_done(c, __func__);
  return c->dkim_aligned;
}
const dmarc_record *dmarc_check_record(const dmarc_check *c) { return c->record; }
const char *dmarc_check_record_domain(const dmarc_check *c) { return c->record_domain; }
const char *dmarc_check_org_domain(const dmarc_check *c) { return c->org; }
const char *dmarc_check_from_domain(const dmarc_check *c) { return c->from; }
const char *dmarc_check_reason(const dmarc_check *c) { return c->reason; }
