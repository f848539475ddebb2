/* Tests for the journey layout: columns in journey order (from header
 * roles and, without them, from what nodes did), domain boxes that don't
 * overlap, routers between neighbours, header positions, determinism. */
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

static Suite *suite(void) {
  Suite *s = suite_create("viz_layout");
  TCase *tc = tcase_create("layout");
  tcase_add_loop_test(tc, journey_order, 0, 2);
  tcase_add_test(tc, domain_groups);
  tcase_add_test(tc, header_positions);
  tcase_add_test(tc, deterministic);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
