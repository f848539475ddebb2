/* Tests for mta_route: MX order and equal-preference shuffling, implicit
 * MX, null MX, MX pointing to this host, DNS failures, overrides, local
 * domains, failover over candidates, and the per-destination session
 * pool. */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "mta_route.h"
#include "testutil.h"

/* splitmix64: a seeded stand-in for the node's stream. */
static uint64_t rnd(void *user) {
  uint64_t *s = user;
  uint64_t z = (*s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static const char *const a_addr[] = {"192.0.2.1"};
static const char *const b_addr[] = {"192.0.2.2", "2001:db8::2"};
static const char *const c_addr[] = {"192.0.2.3"};
static const char *const d_addr[] = {"192.0.2.4"};
static const char *const self_addr[] = {"198.51.100.7"};

static mta_route *router(void) {
  static const char *const names[] = {"mx.self.example", "self.example"};
  static const char *const addrs[] = {"198.51.100.7"};
  static const mta_route_local locals[] = {{"self.example", "mbox.self.example", 0}};
  static const mta_route_override ovr[] = {
      {"special.example", "[relay.example]", 2525},
      {"*", "smarthost.example", 0},
      {"direct.example", "direct-mx.example", 0},
  };
  mta_route_config cfg;
  mta_route_config_init(&cfg);
  cfg.self_names = names;
  cfg.nself_names = 2;
  cfg.self_addrs = addrs;
  cfg.nself_addrs = 1;
  cfg.locals = locals;
  cfg.nlocals = 1;
  cfg.overrides = ovr;
  cfg.noverrides = 3;
  cfg.max_candidates = 0;
  return mta_route_new(&cfg);
}

static mta_route *plain_router(void) {
  static const char *const names[] = {"mx.self.example"};
  static const char *const addrs[] = {"198.51.100.7"};
  mta_route_config cfg;
  mta_route_config_init(&cfg);
  cfg.self_names = names;
  cfg.nself_names = 1;
  cfg.self_addrs = addrs;
  cfg.nself_addrs = 1;
  return mta_route_new(&cfg);
}

/* "host@addr host@addr ..." of the candidates. */
static char *cands(const mta_route_decision *d) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < d->ncandidates; i++) {
    const mta_route_candidate *c = &d->candidates[i];
    g_string_append_printf(s, "%s%s@%s/%u", i ? " " : "", c->host, c->addr, c->pref);
  }
  return g_string_free(s, FALSE);
}

static void decide_mx(mta_route *r, const char *domain, const mta_route_answer *a, uint64_t seed,
                      mta_route_decision *d) {
  mta_route_plan p;
  mta_route_plan_for(r, domain, &p);
  ck_assert_int_eq(p.kind, MTA_ROUTE_LOOKUP_MX);
  mta_route_decide(r, &p, a, seed ? rnd : NULL, &seed, d);
  mta_route_plan_clear(&p);
}

START_TEST(mx_order_and_shuffle) {
  mta_route *r = plain_router();
  mta_route_mx mx[] = {
      {20, "c.mx.example", MTA_DNS_OK, c_addr, 1},
      {10, "a.mx.example", MTA_DNS_OK, a_addr, 1},
      {30, "d.mx.example", MTA_DNS_OK, d_addr, 1},
      {10, "b.mx.example", MTA_DNS_OK, b_addr, 2},
  };
  mta_route_answer a = {.mx_status = MTA_DNS_OK, .mx = mx, .nmx = 4};
  mta_route_decision d;
  decide_mx(r, "B.Example.", &a, 0, &d); /* no stream: the answer's order within a preference */
  char *got = cands(&d);
  ck_assert_str_eq(got, "a.mx.example@192.0.2.1/10 b.mx.example@192.0.2.2/10 "
                        "b.mx.example@2001:db8::2/10 c.mx.example@192.0.2.3/20 "
                        "d.mx.example@192.0.2.4/30");
  ck_assert_int_eq(d.kind, MTA_ROUTE_TRY);
  ck_assert(!d.implicit_mx && !d.self_dropped);
  g_free(got);
  mta_route_decision_clear(&d);

  /* With a stream: deterministic per seed, both orders across seeds, the
   * other preferences never move. */
  unsigned a_first = 0, b_first = 0;
  for (uint64_t seed = 1; seed <= 64; seed++) {
    mta_route_decision d1, d2;
    decide_mx(r, "b.example", &a, seed, &d1);
    decide_mx(r, "b.example", &a, seed, &d2);
    char *g1 = cands(&d1), *g2 = cands(&d2);
    ck_assert_str_eq(g1, g2);
    const char *first = d1.candidates[0].host;
    a_first += strcmp(first, "a.mx.example") == 0;
    b_first += strcmp(first, "b.mx.example") == 0;
    ck_assert(g_str_has_suffix(g1, "c.mx.example@192.0.2.3/20 d.mx.example@192.0.2.4/30"));
    g_free(g1);
    g_free(g2);
    mta_route_decision_clear(&d1);
    mta_route_decision_clear(&d2);
  }
  ck_assert_uint_eq(a_first + b_first, 64);
  ck_assert_uint_gt(a_first, 10);
  ck_assert_uint_gt(b_first, 10);
  mta_route_free(r);
}
END_TEST

typedef struct {
  const char *name;
  mta_route_answer a;
  mta_route_decision_kind kind;
  int code;
  const char *esc;
  const char *cands;
  bool implicit, self;
} dec_row;

static const mta_route_mx null_mx[] = {{0, ".", MTA_DNS_NODATA, NULL, 0}};
static const mta_route_mx self_best[] = {{10, "MX.Self.Example.", MTA_DNS_OK, self_addr, 1},
                                         {20, "c.mx.example", MTA_DNS_OK, c_addr, 1}};
static const mta_route_mx self_backup[] = {{10, "a.mx.example", MTA_DNS_OK, a_addr, 1},
                                           {20, "other-name.example", MTA_DNS_OK, self_addr, 1},
                                           {20, "c.mx.example", MTA_DNS_OK, c_addr, 1},
                                           {30, "d.mx.example", MTA_DNS_OK, d_addr, 1}};
static const mta_route_mx no_addr[] = {{10, "a.mx.example", MTA_DNS_NXDOMAIN, NULL, 0},
                                       {20, "c.mx.example", MTA_DNS_NODATA, NULL, 0}};
static const mta_route_mx temp_addr[] = {{10, "a.mx.example", MTA_DNS_TEMPFAIL, NULL, 0},
                                         {20, "c.mx.example", MTA_DNS_NODATA, NULL, 0}};
static const mta_route_mx partial[] = {{10, "a.mx.example", MTA_DNS_TEMPFAIL, NULL, 0},
                                       {20, "c.mx.example", MTA_DNS_OK, c_addr, 1}};
static const mta_route_mx stray_null[] = {{0, ".", MTA_DNS_NODATA, NULL, 0},
                                          {10, "a.mx.example", MTA_DNS_OK, a_addr, 1}};

static const dec_row dec_rows[] = {
    {"implicit MX",
     {MTA_DNS_NODATA, NULL, 0, MTA_DNS_OK, b_addr, 2},
     MTA_ROUTE_TRY,
     451,
     "4.4.1",
     "b.example@192.0.2.2/0 b.example@2001:db8::2/0",
     true,
     false},
    {"implicit MX, empty answer",
     {MTA_DNS_OK, NULL, 0, MTA_DNS_OK, a_addr, 1},
     MTA_ROUTE_TRY,
     451,
     "4.4.1",
     "b.example@192.0.2.1/0",
     true,
     false},
    {"no MX, no address",
     {MTA_DNS_NODATA, NULL, 0, MTA_DNS_NODATA, NULL, 0},
     MTA_ROUTE_BOUNCE,
     554,
     "5.4.4",
     "",
     true,
     false},
    {"no MX, address lookup fails",
     {MTA_DNS_NODATA, NULL, 0, MTA_DNS_TEMPFAIL, NULL, 0},
     MTA_ROUTE_DEFER,
     451,
     "4.4.3",
     "",
     true,
     false},
    {"implicit MX is this host",
     {MTA_DNS_NODATA, NULL, 0, MTA_DNS_OK, self_addr, 1},
     MTA_ROUTE_BOUNCE,
     554,
     "5.4.6",
     "",
     true,
     true},
    {"null MX",
     {MTA_DNS_OK, null_mx, 1, MTA_DNS_OK, a_addr, 1},
     MTA_ROUTE_BOUNCE,
     556,
     "5.1.10",
     "",
     false,
     false},
    {"null MX among others is ignored",
     {MTA_DNS_OK, stray_null, 2, MTA_DNS_NODATA, NULL, 0},
     MTA_ROUTE_TRY,
     451,
     "4.4.1",
     "a.mx.example@192.0.2.1/10",
     false,
     false},
    {"MX to self, best preference",
     {MTA_DNS_OK, self_best, 2, MTA_DNS_NODATA, NULL, 0},
     MTA_ROUTE_BOUNCE,
     554,
     "5.4.6",
     "",
     false,
     true},
    {"MX to self as backup (by address)",
     {MTA_DNS_OK, self_backup, 4, MTA_DNS_NODATA, NULL, 0},
     MTA_ROUTE_TRY,
     451,
     "4.4.1",
     "a.mx.example@192.0.2.1/10",
     false,
     true},
    {"domain does not exist",
     {MTA_DNS_NXDOMAIN, NULL, 0, MTA_DNS_NXDOMAIN, NULL, 0},
     MTA_ROUTE_BOUNCE,
     550,
     "5.1.2",
     "",
     false,
     false},
    {"MX lookup fails",
     {MTA_DNS_TEMPFAIL, NULL, 0, MTA_DNS_OK, a_addr, 1},
     MTA_ROUTE_DEFER,
     451,
     "4.4.3",
     "",
     false,
     false},
    {"no exchange has an address",
     {MTA_DNS_OK, no_addr, 2, MTA_DNS_OK, a_addr, 1},
     MTA_ROUTE_BOUNCE,
     554,
     "5.4.4",
     "",
     false,
     false},
    {"an exchange lookup fails",
     {MTA_DNS_OK, temp_addr, 2, MTA_DNS_OK, a_addr, 1},
     MTA_ROUTE_DEFER,
     451,
     "4.4.3",
     "",
     false,
     false},
    {"the other exchange answers",
     {MTA_DNS_OK, partial, 2, MTA_DNS_NODATA, NULL, 0},
     MTA_ROUTE_TRY,
     451,
     "4.4.1",
     "c.mx.example@192.0.2.3/20",
     false,
     false},
};

START_TEST(decisions) {
  const dec_row *row = &dec_rows[_i];
  mta_route *r = plain_router();
  mta_route_decision d;
  uint64_t seed = 0;
  decide_mx(r, "b.example", &row->a, seed, &d);
  char *got = cands(&d);
  ck_assert_msg(d.kind == row->kind, "%s: got %s want %s (%s)", row->name,
                mta_route_decision_kind_name(d.kind), mta_route_decision_kind_name(row->kind),
                d.text);
  ck_assert_msg(d.code == row->code && g_strcmp0(d.esc, row->esc) == 0, "%s: got %d %s want %d %s",
                row->name, d.code, d.esc, row->code, row->esc);
  ck_assert_msg(strcmp(got, row->cands) == 0, "%s: got [%s] want [%s]", row->name, got, row->cands);
  ck_assert_msg(d.implicit_mx == row->implicit && d.self_dropped == row->self, "%s: flags",
                row->name);
  if (d.kind == MTA_ROUTE_BOUNCE && d.code == 556)
    ck_assert_str_eq(d.text, "Domain b.example does not accept mail (nullMX)");
  if (d.kind == MTA_ROUTE_BOUNCE && strcmp(d.esc, "5.4.6") == 0)
    ck_assert_str_eq(d.text, "mail for b.example loops back to myself");
  if (d.kind != MTA_ROUTE_TRY)
    ck_assert_ptr_null(mta_route_next(&d)); /* never a connection */
  g_free(got);
  mta_route_decision_clear(&d);
  mta_route_free(r);
}
END_TEST

/* What a decision says, as text (kind, code, esc, text, candidates, flags). */
static char *dec_text(const mta_route_decision *d) {
  char *c = cands(d);
  char *t = g_strdup_printf("%s %d %s [%s] [%s] %d %d", mta_route_decision_kind_name(d->kind),
                            d->code, d->esc ? d->esc : "-", d->text ? d->text : "-", c,
                            d->implicit_mx, d->self_dropped);
  g_free(c);
  return t;
}

/* mta_route_redecide: one decision made again in place, after every row,
 * reset or not, says what a fresh decision says; a block kept by reset is
 * reused when the new candidates fit (same pointer), and nothing leaks
 * (ASan). */
START_TEST(redecide_in_place) {
  mta_route *r = plain_router();
  mta_route_decision d = {0};
  size_t nrows = G_N_ELEMENTS(dec_rows);
  for (size_t i = 0; i < nrows; i++) {
    for (size_t j = 0; j < nrows; j++) {
      for (int reset = 0; reset < 2; reset++) {
        mta_route_plan p;
        mta_route_plan_for(r, "b.example", &p);
        mta_route_redecide(r, &p, &dec_rows[i].a, NULL, NULL, &d);
        const void *block = d.ncandidates ? d.candidates : NULL;
        if (reset)
          mta_route_decision_reset(&d);
        mta_route_redecide(r, &p, &dec_rows[j].a, NULL, NULL, &d);
        mta_route_decision fresh;
        mta_route_decide(r, &p, &dec_rows[j].a, NULL, NULL, &fresh);
        char *got = dec_text(&d), *want = dec_text(&fresh);
        ck_assert_msg(strcmp(got, want) == 0, "%s then %s (reset %d): got %s want %s",
                      dec_rows[i].name, dec_rows[j].name, reset, got, want);
        /* two candidates, then one: the same block */
        if (i == 0 && j == 1)
          ck_assert_msg(block && d.candidates == block, "reset %d: block not reused", reset);
        g_free(got);
        g_free(want);
        mta_route_decision_clear(&fresh);
        mta_route_plan_clear(&p);
      }
    }
  }
  mta_route_decision_clear(&d);
  /* A borrower never frees the lender's blocks. */
  mta_route_plan p;
  mta_route_plan_for(r, "b.example", &p);
  mta_route_redecide(r, &p, &dec_rows[0].a, NULL, NULL, &d);
  mta_route_decision_reset(&d);
  mta_route_redecide(r, &p, &dec_rows[1].a, NULL, NULL, &d);
  mta_route_decision b;
  mta_route_decision_borrow(&b, &d);
  ck_assert_ptr_eq(b.candidates, d.candidates);
  mta_route_decision_clear(&b);
  ck_assert_str_eq(d.candidates[0].host, "b.example");
  mta_route_decision_clear(&d);
  mta_route_plan_clear(&p);
  mta_route_free(r);
}
END_TEST

START_TEST(plans) {
  mta_route *r = router();
  static const struct {
    const char *domain;
    mta_route_plan_kind kind;
    const char *lookup, *nexthop;
    uint16_t port;
  } rows[] = {
      {"self.example", MTA_ROUTE_LOCAL, "mbox.self.example", "local:mbox.self.example", 24},
      {"SELF.example.", MTA_ROUTE_LOCAL, "mbox.self.example", "local:mbox.self.example", 24},
      {"special.example", MTA_ROUTE_LOOKUP_HOST, "relay.example", "[relay.example]", 2525},
      {"direct.example", MTA_ROUTE_LOOKUP_MX, "direct-mx.example", "direct-mx.example", 25},
      {"b.example", MTA_ROUTE_LOOKUP_MX, "smarthost.example", "smarthost.example", 25},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    mta_route_plan p;
    mta_route_plan_for(r, rows[i].domain, &p);
    ck_assert_msg(p.kind == rows[i].kind, "%s: got %s", rows[i].domain,
                  mta_route_plan_kind_name(p.kind));
    ck_assert_str_eq(p.lookup, rows[i].lookup);
    ck_assert_str_eq(p.nexthop, rows[i].nexthop);
    ck_assert_uint_eq(p.port, rows[i].port);
    mta_route_plan_clear(&p);
  }
  /* Without overrides: the domain itself. */
  mta_route *pr = plain_router();
  mta_route_plan p;
  mta_route_plan_for(pr, "B.Example.", &p);
  ck_assert_str_eq(p.nexthop, "b.example");
  ck_assert_str_eq(p.lookup, "b.example");
  mta_route_plan_clear(&p);
  mta_route_free(pr);

  /* A [host] override: its addresses, no MX; a local plan: the mailbox host. */
  mta_route_plan_for(r, "special.example", &p);
  mta_route_answer a = {.mx_status = MTA_DNS_NODATA,
                        .host_status = MTA_DNS_OK,
                        .host_addrs = c_addr,
                        .nhost_addrs = 1};
  mta_route_decision d;
  mta_route_decide(r, &p, &a, NULL, NULL, &d);
  char *got = cands(&d);
  ck_assert_str_eq(got, "relay.example@192.0.2.3/0");
  ck_assert(!d.implicit_mx);
  ck_assert_uint_eq(d.candidates[0].port, 2525);
  g_free(got);
  mta_route_decision_clear(&d);
  mta_route_plan_clear(&p);
  mta_route_plan_for(r, "self.example", &p);
  mta_route_decide(r, &p, &a, NULL, NULL, &d);
  got = cands(&d);
  ck_assert_str_eq(got, "mbox.self.example@mbox.self.example/0");
  g_free(got);
  mta_route_decision_clear(&d);
  mta_route_plan_clear(&p);
  mta_route_free(r);
}
END_TEST

/* Connection failure and a 4xx (or 5xx) greeting: next candidate; all
 * failed: a deferral with the last reason. The address limit applies. */
START_TEST(failover) {
  mta_route_config cfg;
  mta_route_config_init(&cfg);
  cfg.max_candidates = 3;
  mta_route *r = mta_route_new(&cfg);
  mta_route_mx mx[] = {{10, "a.mx.example", MTA_DNS_OK, a_addr, 1},
                       {20, "b.mx.example", MTA_DNS_OK, b_addr, 2},
                       {30, "c.mx.example", MTA_DNS_OK, c_addr, 1}};
  mta_route_answer a = {.mx_status = MTA_DNS_OK, .mx = mx, .nmx = 3};
  mta_route_decision d;
  decide_mx(r, "b.example", &a, 0, &d);
  ck_assert_uint_eq(d.ncandidates, 3);
  const mta_route_candidate *c = mta_route_next(&d);
  ck_assert_str_eq(c->addr, "192.0.2.1");
  mta_route_failed(&d, 0, NULL, "Connection refused");
  c = mta_route_next(&d);
  ck_assert_str_eq(c->addr, "192.0.2.2");
  mta_route_failed(&d, 421, "4.3.2", "Service shutting down");
  ck_assert_int_eq(d.code, 421);
  ck_assert_str_eq(d.esc, "4.3.2");
  c = mta_route_next(&d);
  ck_assert_str_eq(c->addr, "2001:db8::2");
  mta_route_failed(&d, 554, "5.7.1", "go away");
  ck_assert_ptr_null(mta_route_next(&d));
  ck_assert_int_eq(d.kind, MTA_ROUTE_DEFER);
  ck_assert_int_eq(d.code, 451);
  ck_assert_str_eq(d.esc, "4.4.1");
  ck_assert_str_eq(d.text, "b.mx.example[2001:db8::2]: go away");
  ck_assert_ptr_null(mta_route_next(&d));
  mta_route_decision_clear(&d);
  mta_route_free(r);
}
END_TEST

START_TEST(sessions) {
  mta_route_config cfg;
  mta_route_config_init(&cfg);
  cfg.dest_concurrency = 2;
  cfg.reuse_time_limit = 300 * INT64_C(1000000000);
  mta_route *r = mta_route_new(&cfg);
  const int64_t S = 1000000000;
  ck_assert(mta_route_may_open(r, "b.example"));
  mta_route_opened(r, "b.example", 7, 0);
  ck_assert(mta_route_may_open(r, "B.example"));
  mta_route_opened(r, "b.example", 3, 10 * S);
  ck_assert(!mta_route_may_open(r, "b.example"));
  ck_assert(mta_route_may_open(r, "c.example"));
  ck_assert_uint_eq(mta_route_open_count(r, "b.example"), 2);
  ck_assert_uint_eq(mta_route_reuse(r, "b.example", 20 * S), 0); /* both busy */
  mta_route_set_idle(r, 7, true);
  mta_route_set_idle(r, 3, true);
  ck_assert_uint_eq(mta_route_reuse(r, "b.example", 20 * S), 3); /* lowest id */
  ck_assert_uint_eq(mta_route_reuse(r, "b.example", 20 * S), 7);
  ck_assert_uint_eq(mta_route_reuse(r, "b.example", 20 * S), 0);
  mta_route_set_idle(r, 7, true);
  mta_route_set_idle(r, 3, true);
  /* Session 7 opened at 0: reusable until 300 s exclusive. */
  ck_assert_uint_eq(mta_route_reuse(r, "b.example", 300 * S - 1), 3);
  mta_route_set_idle(r, 3, true);
  ck_assert_uint_eq(mta_route_reuse(r, "c.example", 0), 0);
  GArray *old = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  ck_assert_uint_eq(mta_route_expired_idle(r, 300 * S, old), 1);
  ck_assert_uint_eq(g_array_index(old, uint64_t, 0), 7);
  g_array_set_size(old, 0);
  ck_assert_uint_eq(mta_route_expired_idle(r, 400 * S, old), 2);
  ck_assert_uint_eq(g_array_index(old, uint64_t, 0), 3);
  ck_assert_uint_eq(g_array_index(old, uint64_t, 1), 7);
  g_array_free(old, TRUE);
  ck_assert_uint_eq(mta_route_reuse(r, "b.example", 300 * S), 3);
  mta_route_closed(r, 7);
  ck_assert_uint_eq(mta_route_open_count(r, "b.example"), 1);
  ck_assert(mta_route_may_open(r, "b.example"));
  mta_route_closed(r, 3);
  ck_assert_uint_eq(mta_route_open_count(r, "b.example"), 0);
  mta_route_free(r);
  ck_assert_str_eq(mta_dns_status_name(MTA_DNS_TEMPFAIL), "tempfail");
}
END_TEST

/* Agents borrow a hop's decision: each walks the candidates with its own
 * cursor and reason, the hop's decision unchanged; the address limit cuts
 * inside an exchange's addresses. */
START_TEST(borrowed_walks) {
  mta_route_config cfg;
  mta_route_config_init(&cfg);
  cfg.max_candidates = 2;
  mta_route *r = mta_route_new(&cfg);
  mta_route_mx mx[] = {{10, "a.mx.example", MTA_DNS_OK, a_addr, 1},
                       {20, "b.mx.example", MTA_DNS_OK, b_addr, 2}};
  mta_route_answer a = {.mx_status = MTA_DNS_OK, .mx = mx, .nmx = 2};
  mta_route_decision hop;
  decide_mx(r, "b.example", &a, 0, &hop);
  char *got = cands(&hop);
  ck_assert_str_eq(got, "a.mx.example@192.0.2.1/10 b.mx.example@192.0.2.2/20");
  g_free(got);
  mta_route_decision x, y;
  mta_route_decision_borrow(&x, &hop);
  mta_route_decision_borrow(&y, &hop);
  ck_assert_str_eq(mta_route_next(&x)->addr, "192.0.2.1");
  mta_route_failed(&x, 0, NULL, "Connection refused");
  ck_assert_str_eq(mta_route_next(&y)->addr, "192.0.2.1"); /* its own cursor */
  ck_assert_str_eq(mta_route_next(&x)->addr, "192.0.2.2");
  mta_route_failed(&x, 421, "4.3.2", "busy");
  ck_assert_ptr_null(mta_route_next(&x));
  ck_assert_str_eq(x.text, "b.mx.example[192.0.2.2]: busy");
  ck_assert_str_eq(x.esc, "4.3.2");
  mta_route_decision z;
  mta_route_decision_borrow(&z, &x); /* owned reasons are copied */
  mta_route_decision_clear(&x);
  ck_assert_str_eq(z.text, "b.mx.example[192.0.2.2]: busy");
  ck_assert_str_eq(z.esc, "4.3.2");
  mta_route_decision_clear(&z);
  ck_assert_str_eq(y.text, "no answer from any host");
  ck_assert_int_eq(hop.kind, MTA_ROUTE_TRY);
  ck_assert_str_eq(hop.text, "no answer from any host");
  ck_assert_uint_eq(hop.next, 0);
  mta_route_decision_clear(&y);
  ck_assert_str_eq(hop.candidates[1].host, "b.mx.example"); /* still the hop's */
  mta_route_decision_clear(&hop);
  mta_route_free(r);
}
END_TEST

/* This host's name matches in any case with one trailing dot, not as a
 * prefix nor with two dots. */
START_TEST(self_names_exact) {
  mta_route *r = plain_router();
  static const struct {
    const char *name;
    bool self;
  } rows[] = {{"MX.SELF.EXAMPLE", true},    {"mx.self.example.", true},
              {"mx.self.example..", false}, {"mx.self.exampl", false},
              {"mx.self.example.x", false}, {"x.mx.self.example", false}};
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    mta_route_mx mx[] = {{10, rows[i].name, MTA_DNS_OK, a_addr, 1}};
    mta_route_answer a = {.mx_status = MTA_DNS_OK, .mx = mx, .nmx = 1};
    mta_route_decision d;
    decide_mx(r, "b.example", &a, 0, &d);
    ck_assert_msg(d.self_dropped == rows[i].self, "%s: got self %d want %d", rows[i].name,
                  d.self_dropped, rows[i].self);
    mta_route_decision_clear(&d);
  }
  mta_route_free(r);
}
END_TEST

/* mta_route_nexthop_into gives the plan's nexthop for every kind of plan,
 * any case, a trailing dot, at every buffer size (in BUF exactly when it
 * fits, else a new string). */
START_TEST(nexthop_in_place) {
  mta_route *r = router(), *pr = plain_router();
  static const char *const doms[] = {"self.example", "SELF.example.", "special.example",
                                     "direct.example", "b.example", "B.Example.", "x.", "",
                                     "Other.Example", "a.very.long.domain.name.example."};
  mta_route *routers[] = {r, pr};
  for (size_t k = 0; k < G_N_ELEMENTS(routers); k++)
    for (size_t i = 0; i < G_N_ELEMENTS(doms); i++) {
      mta_route_plan p;
      mta_route_plan_for(routers[k], doms[i], &p);
      size_t want_len = strlen(p.nexthop);
      for (size_t n = 0; n <= 40; n++) {
        char buf[41];
        memset(buf, 'Z', sizeof buf);
        char *got = mta_route_nexthop_into(routers[k], doms[i], n ? buf : NULL, n);
        ck_assert_msg(strcmp(got, p.nexthop) == 0, "%s (buffer %zu): got %s want %s", doms[i], n,
                      got, p.nexthop);
        ck_assert_msg((got == buf) == (want_len < n), "%s (buffer %zu): in place %d", doms[i], n,
                      got == buf);
        if (got != buf)
          g_free(got);
        else
          ck_assert(buf[n] == 'Z' || n == sizeof buf - 1); /* nothing written past N */
      }
      mta_route_plan_clear(&p);
    }
  mta_route_free(r);
  mta_route_free(pr);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mta_route");
  TCase *tc = tcase_create("route");
  tcase_add_test(tc, mx_order_and_shuffle);
  tcase_add_loop_test(tc, decisions, 0, G_N_ELEMENTS(dec_rows));
  tcase_add_test(tc, redecide_in_place);
  tcase_add_test(tc, plans);
  tcase_add_test(tc, failover);
  tcase_add_test(tc, sessions);
  tcase_add_test(tc, borrowed_walks);
  tcase_add_test(tc, self_names_exact);
  tcase_add_test(tc, nexthop_in_place);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
