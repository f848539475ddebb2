/* Tests for the journey layout: columns in journey order (from header
 * roles and, without them, from what nodes did), domain boxes that don't
 * overlap, routers between neighbours, header positions, determinism;
 * many DNS hosts in a band of their own, crowded columns wrapping. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "viz_fixture.h"
#include "viz_layout.h"

static viz_model *load(unsigned flags) {
  size_t len;
  char *text = viz_fixture_trace_flags(flags, &len);
  GError *err = NULL;
  viz_model *m = viz_model_load_memory("journey.jsonl", text, len, &err);
  ck_assert_msg(m != NULL, "%s", err ? err->message : "");
  g_free(text);
  return m;
}

static const char *const journey[] = {
    "laptop.alice.example", "msa.alice.example", "relay.alice.example", "ns.example",
    "mx.bob.example",       "imap.bob.example",  "phone.bob.example",
};
static const viz_role want_roles[] = {VIZ_ROLE_CLIENT, VIZ_ROLE_SUBMISSION, VIZ_ROLE_RELAY,
                                      VIZ_ROLE_DNS,    VIZ_ROLE_MX,         VIZ_ROLE_MAILBOX,
                                      VIZ_ROLE_READER};

/* _i = 0: roles from the header; _i = 1: inferred from the trace. */
START_TEST(journey_order) {
  viz_model *m = load(_i == 0 ? FIX_ROLES : 0);
  viz_layout *l = viz_layout_new(m, 1000, 500, 40, 40);
  int prev_x = -1;
  for (size_t k = 0; k < G_N_ELEMENTS(journey); k++) {
    uint32_t n = viz_model_node_find(m, journey[k]);
    viz_point p = viz_layout_pos(l, n);
    ck_assert_msg(viz_layout_role(l, n) == want_roles[k], "%s: got role %s want %s", journey[k],
                  viz_role_name(viz_layout_role(l, n)), viz_role_name(want_roles[k]));
    ck_assert_msg(p.x > prev_x, "%s: got x %d, want > %d", journey[k], p.x, prev_x);
    ck_assert(p.x >= 40 && p.x <= 960 && p.y >= 40 && p.y <= 460);
    prev_x = p.x;
  }
  for (uint32_t k = 1; k < viz_model_node_count(m); k++)
    ck_assert_int_le(viz_layout_pos(l, viz_layout_order(l, k - 1)).x,
                     viz_layout_pos(l, viz_layout_order(l, k)).x);
  ck_assert_uint_eq(viz_layout_order(l, 0), viz_model_node_find(m, journey[0]));
  /* the router r1 sits between its neighbours and on no other node */
  uint32_t r1 = viz_model_node_find(m, "r1");
  viz_point pr = viz_layout_pos(l, r1);
  for (uint32_t i = 0; i < viz_model_node_count(m); i++) {
    viz_point p = viz_layout_pos(l, i);
    if (i != r1)
      ck_assert_msg(abs(p.x - pr.x) > 20 || abs(p.y - pr.y) > 20, "r1 overlaps %s",
                    viz_model_node(m, i)->name);
  }
  viz_layout_free(l);
  viz_model_free(m);
}
END_TEST

static bool overlap(const viz_layout_box *a, const viz_layout_box *b) {
  return a->x0 <= b->x1 && b->x0 <= a->x1 && a->y0 <= b->y1 && b->y0 <= a->y1;
}

START_TEST(domain_groups) {
  viz_model *m = load(FIX_ROLES);
  viz_layout *l = viz_layout_new(m, 1280, 500, 50, 50);
  ck_assert_uint_eq(viz_layout_group_count(l), 3); /* alice.example, example, bob.example */
  ck_assert_str_eq(viz_layout_group(l, 0)->domain, "alice.example");
  for (size_t i = 0; i < viz_layout_group_count(l); i++)
    for (size_t j = i + 1; j < viz_layout_group_count(l); j++)
      ck_assert_msg(!overlap(viz_layout_group(l, i), viz_layout_group(l, j)), "%s overlaps %s",
                    viz_layout_group(l, i)->domain, viz_layout_group(l, j)->domain);
  /* each host is inside its domain's box */
  for (uint32_t n = 0; n < viz_model_node_count(m); n++) {
    const char *dom = viz_model_node(m, n)->domain;
    for (size_t g = 0; g < viz_layout_group_count(l); g++) {
      const viz_layout_box *gr = viz_layout_group(l, g);
      if (*dom && strcmp(gr->domain, dom) == 0) {
        viz_point p = viz_layout_pos(l, n);
        ck_assert(p.x > gr->x0 && p.x < gr->x1 && p.y > gr->y0 && p.y < gr->y1);
      }
    }
  }
  viz_layout_free(l);
  viz_model_free(m);
}
END_TEST

START_TEST(header_positions) {
  viz_model *m = load(FIX_ROLES | FIX_POS);
  viz_layout *l = viz_layout_new(m, 740, 400, 20, 20);
  /* node i at (100 i, 50 (i % 3)): x spans 0..700 -> 20..720 */
  for (uint32_t i = 0; i < viz_model_node_count(m); i++) {
    viz_point p = viz_layout_pos(l, i);
    ck_assert_int_eq(p.x, 20 + (int)(100 * i));
    ck_assert_int_eq(p.y, 20 + (int)(50 * (i % 3)));
  }
  viz_layout_free(l);
  viz_model_free(m);
}
END_TEST

START_TEST(deterministic) {
  viz_model *m = load(0), *m2 = load(0);
  viz_layout *a = viz_layout_new(m, 1280, 600, 40, 40), *b = viz_layout_new(m2, 1280, 600, 40, 40);
  for (uint32_t i = 0; i < viz_model_node_count(m); i++) {
    ck_assert_int_eq(viz_layout_pos(a, i).x, viz_layout_pos(b, i).x);
    ck_assert_int_eq(viz_layout_pos(a, i).y, viz_layout_pos(b, i).y);
    ck_assert_uint_eq(viz_layout_order(a, i), viz_layout_order(b, i));
  }
  viz_layout_free(a);
  viz_layout_free(b);
  viz_model_free(m);
  viz_model_free(m2);
}
END_TEST

/* A header-only trace: NODES (name, role) all linked to router r0. */
static viz_model *world(const char *const (*nodes)[2], size_t n) {
  GString *t = g_string_new("{\"format\":\"mailsim-trace\",\"version\":1,\"scenario\":\"w\","
                            "\"seed\":1,\"detail\":\"protocol\",\"nodes\":[{\"name\":\"r0\","
                            "\"router\":true}");
  for (size_t i = 0; i < n; i++)
    g_string_append_printf(t, ",{\"name\":\"%s\",\"role\":\"%s\"}", nodes[i][0], nodes[i][1]);
  g_string_append(t, "],\"links\":[");
  for (size_t i = 0; i < n; i++)
    g_string_append_printf(t, "%s{\"a\":\"r0\",\"b\":\"%s\",\"latency_ns\":1000000}", i ? "," : "",
                           nodes[i][0]);
  g_string_append(t, "]}\n{\"t\":0,\"id\":1,\"ev\":\"end\"}\n");
  GError *err = NULL;
  viz_model *m = viz_model_load_memory("world.jsonl", t->str, t->len, &err);
  ck_assert_msg(m != NULL, "%s", err ? err->message : "");
  g_string_free(t, TRUE);
  return m;
}

static bool is_dns(const viz_layout *l, uint32_t i) {
  return viz_layout_role(l, i) == VIZ_ROLE_DNS;
}

/* Many DNS hosts: a band of their own under the mail path, in the order
 * resolvers, then the servers; the mail path keeps its journey order. */
START_TEST(dns_band) {
  static const char *const nodes[][2] = {{"laptop.a.example", "client"},
                                         {"smtp.a.example", "submission"},
                                         {"resolver.a.example", "resolver"},
                                         {"a.root-servers.net", "dns"},
                                         {"a.gtld-servers.net", "dns"},
                                         {"ns1.a.example", "dns"},
                                         {"ns1.b.example", "dns"},
                                         {"resolver.b.example", "resolver"},
                                         {"mx.b.example", "mx"},
                                         {"mail.b.example", "mailbox"},
                                         {"phone.b.example", "reader"}};
  viz_model *m = world(nodes, G_N_ELEMENTS(nodes));
  viz_layout *l = viz_layout_new(m, 1200, 600, 40, 40);
  int mail_bottom = 0, dns_top = INT32_MAX, prev_x = -1;
  for (uint32_t i = 1; i < viz_model_node_count(m); i++) {
    viz_point p = viz_layout_pos(l, i);
    ck_assert_msg(p.x >= 40 && p.x <= 1160 && p.y >= 40 && p.y <= 560, "%s at %d,%d: outside",
                  viz_model_node(m, i)->name, p.x, p.y);
    if (is_dns(l, i)) {
      dns_top = MIN(dns_top, p.y);
    } else {
      mail_bottom = MAX(mail_bottom, p.y);
      ck_assert_msg(p.x > prev_x, "%s: got x %d, want > %d (journey order)",
                    viz_model_node(m, i)->name, p.x, prev_x);
      prev_x = p.x;
    }
  }
  ck_assert_msg(dns_top >= mail_bottom + 60, "DNS band at y %d, mail path down to %d", dns_top,
                mail_bottom);
  /* no two DNS hosts crowd each other */
  for (uint32_t i = 1; i < viz_model_node_count(m); i++)
    for (uint32_t j = i + 1; j < viz_model_node_count(m); j++) {
      if (!is_dns(l, i) || !is_dns(l, j))
        continue;
      viz_point a = viz_layout_pos(l, i), b = viz_layout_pos(l, j);
      ck_assert_msg(abs(a.x - b.x) >= 110 || abs(a.y - b.y) >= 60, "%s and %s too close",
                    viz_model_node(m, i)->name, viz_model_node(m, j)->name);
    }
  /* resolvers first */
  uint32_t res = viz_model_node_find(m, "resolver.b.example");
  uint32_t root = viz_model_node_find(m, "a.root-servers.net");
  ck_assert_int_lt(viz_layout_pos(l, res).x + 1000 * viz_layout_pos(l, res).y,
                   viz_layout_pos(l, root).x + 1000 * viz_layout_pos(l, root).y);
  viz_layout_free(l);
  viz_model_free(m);
}
END_TEST

/* Two DNS hosts stay in the journey's DNS column. */
START_TEST(few_dns_in_column) {
  static const char *const nodes[][2] = {{"c.a", "client"}, {"s.a", "submission"},
                                         {"ns.a", "dns"},   {"res.a", "resolver"},
                                         {"mx.b", "mx"},    {"box.b", "mailbox"}};
  viz_model *m = world(nodes, G_N_ELEMENTS(nodes));
  viz_layout *l = viz_layout_new(m, 1200, 600, 40, 40);
  int xs = viz_layout_pos(l, viz_model_node_find(m, "s.a")).x;
  int xm = viz_layout_pos(l, viz_model_node_find(m, "mx.b")).x;
  int xd = viz_layout_pos(l, viz_model_node_find(m, "ns.a")).x;
  ck_assert_msg(xs < xd && xd < xm, "DNS at x %d, want between %d and %d", xd, xs, xm);
  viz_layout_free(l);
  viz_model_free(m);
}
END_TEST

/* 60 domains of (client, submission, mailbox): columns wrap inside the
 * area, every client left of every submission left of every mailbox, no
 * two hosts on one spot, and no domain boxes (they would cover all). */
START_TEST(crowded_columns_wrap) {
  enum { D = 60 };
  char names[3 * D][32];
  const char *nodes[3 * D][2];
  static const char *const roles[3] = {"client", "submission", "mailbox"};
  static const char *const stems[3] = {"users", "mx", "mail"};
  for (int d = 0; d < D; d++)
    for (int k = 0; k < 3; k++) {
      g_snprintf(names[3 * d + k], sizeof names[0], "%s.d%02d.test", stems[k], d);
      nodes[3 * d + k][0] = names[3 * d + k];
      nodes[3 * d + k][1] = roles[k];
    }
  viz_model *m = world((const char *const(*)[2])nodes, 3 * D);
  viz_layout *l = viz_layout_new(m, 1200, 600, 40, 40);
  int maxx[3] = {INT32_MIN, INT32_MIN, INT32_MIN}, minx[3] = {INT32_MAX, INT32_MAX, INT32_MAX};
  int minpitch = INT32_MAX;
  for (uint32_t i = 1; i < viz_model_node_count(m); i++) {
    viz_point p = viz_layout_pos(l, i);
    ck_assert_msg(p.x >= 40 && p.x <= 1160 && p.y >= 40 && p.y <= 560, "%s at %d,%d: outside",
                  viz_model_node(m, i)->name, p.x, p.y);
    int k = (int)(i - 1) % 3;
    maxx[k] = MAX(maxx[k], p.x);
    minx[k] = MIN(minx[k], p.x);
    for (uint32_t j = i + 1; j < viz_model_node_count(m); j++) {
      viz_point q = viz_layout_pos(l, j);
      ck_assert_msg(p.x != q.x || p.y != q.y, "%s and %s on one spot", viz_model_node(m, i)->name,
                    viz_model_node(m, j)->name);
      if (p.x == q.x)
        minpitch = MIN(minpitch, abs(p.y - q.y));
    }
  }
  ck_assert_msg(maxx[0] < minx[1] && maxx[1] < minx[2], "columns interleave: %d<%d, %d<%d", maxx[0],
                minx[1], maxx[1], minx[2]);
  ck_assert_msg(minx[0] < maxx[0], "the clients' column did not wrap");
  ck_assert_msg(minpitch >= 2 * (520 / (2 * D)), "rows %d px apart: no better than unwrapped",
                minpitch);
  ck_assert_uint_eq(viz_layout_group_count(l), 0);
  viz_layout_free(l);
  viz_model_free(m);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("viz_layout");
  TCase *tc = tcase_create("layout");
  tcase_add_loop_test(tc, journey_order, 0, 2);
  tcase_add_test(tc, domain_groups);
  tcase_add_test(tc, header_positions);
  tcase_add_test(tc, deterministic);
  tcase_add_test(tc, dns_band);
  tcase_add_test(tc, few_dns_in_column);
  tcase_add_test(tc, crowded_columns_wrap);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
