/* trace_units: the checker's queue entries — made once, found by (node,
 * queue id) and by message, their compact fields and their ways out. */
#include "testutil.h"
#include "trace_units.h"

#include <string.h>

/* Units made in this order: (node, queue id, message); the index each
 * must have (a unit made again is the first one). */
static const struct {
  const char *node, *qid, *msg;
  uint32_t index;
} get_rows[] = {
    {"mx1", "Q1", "m1@x", 0},
    {"mx2", "Q1", "m1@x", 1},       /* same queue id, another node */
    {"mx1", "Q2", "m1@x", 2},       /* the message again at mx1 */
    {"mx1", "Q1", "other@x", 0},    /* made already: the message is not checked */
    {"mx1", "ABCDEFG", "m2@x", 3},  /* 7 octets: inline, no NUL */
    {"mx1", "ABCDEFGH", "m2@x", 4}, /* 8 octets: in the store */
    {"mx1", "ABCDEFGHIJKLMNOP", "a0a0a0a0a0@x", 5},
    {"mx1", "", "m3@x", 6},
    {"mx1", "ABCDEF", "m2@x", 7}, /* a prefix of another */
};

START_TEST(get_find) {
  trace_units us;
  trace_units_init(&us);
  for (size_t i = 0; i < G_N_ELEMENTS(get_rows); i++) {
    trace_unit *u = trace_units_get(&us, get_rows[i].node, get_rows[i].qid, get_rows[i].msg,
                                    (int64_t)i * 1000, 10 + i);
    ck_assert_msg(u == trace_units_at(&us, get_rows[i].index), "row %zu: got another unit", i);
  }
  ck_assert_uint_eq(us.n, 8);
  for (size_t i = 0; i < G_N_ELEMENTS(get_rows); i++) {
    trace_unit *u = trace_units_find(&us, get_rows[i].node, get_rows[i].qid);
    ck_assert_msg(u == trace_units_at(&us, get_rows[i].index), "find row %zu: got another", i);
    char buf[TRACE_UNIT_QID_INLINE + 1];
    ck_assert_str_eq(trace_units_qid(&us, u, buf), get_rows[i].qid);
    ck_assert_str_eq(trace_units_node_name(&us, u), get_rows[i].node);
    if (get_rows[i].index == i) { /* made by this row */
      ck_assert_str_eq(trace_units_msg(&us, u), get_rows[i].msg);
      ck_assert_msg(trace_units_t(u) == (int64_t)i * 1000, "row %zu: t got %" G_GINT64_FORMAT, i,
                    trace_units_t(u));
      ck_assert_msg(trace_units_id(&us, u) == 10 + i, "row %zu: id got %" G_GUINT64_FORMAT, i,
                    trace_units_id(&us, u));
    }
  }
  ck_assert_ptr_null(trace_units_find(&us, "mx3", "Q1"));
  ck_assert_ptr_null(trace_units_find(&us, "mx1", "Q3"));
  ck_assert_ptr_null(trace_units_find(&us, "mx1", "ABCDEFGHI"));
  /* The message's units at a node, in creation order. */
  trace_unit *u = trace_units_of(&us, "mx1", "m1@x");
  ck_assert_ptr_eq(u, trace_units_at(&us, 0));
  u = trace_units_next(&us, u->next, trace_units_node(&us, u));
  ck_assert_ptr_eq(u, trace_units_at(&us, 2));
  ck_assert_ptr_null(trace_units_next(&us, u->next, trace_units_node(&us, u)));
  ck_assert_ptr_eq(trace_units_of(&us, "mx2", "m1@x"), trace_units_at(&us, 1));
  ck_assert_ptr_null(trace_units_of(&us, "mx2", "m2@x"));
  ck_assert_ptr_null(trace_units_of(&us, "mx1", "other@x"));
  trace_units_clear(&us);
}
END_TEST

/* Event ids around the idref's 31 bits, hops around the byte. */
static const struct {
  uint64_t id;
  int64_t hop;
} wide_rows[] = {
    {0, -1},
    {1, 0},
    {(UINT64_C(1) << 31) - 1, 252},
    {UINT64_C(1) << 31, 253},
    {UINT32_MAX, 254},
    {(UINT64_C(1) << 32) + 1, 300},
    {UINT64_C(5000000000), -5},
};

START_TEST(wide) {
  trace_units us;
  trace_units_init(&us);
  trace_unit *u = trace_units_get(&us, "n", "q", "m@x", 5, wide_rows[_i].id);
  trace_units_set_hop(&us, u, wide_rows[_i].hop);
  ck_assert_msg(trace_units_id(&us, u) == wide_rows[_i].id,
                "id got %" G_GUINT64_FORMAT " want %" G_GUINT64_FORMAT, trace_units_id(&us, u),
                wide_rows[_i].id);
  ck_assert_msg(trace_units_hop(&us, u) == wide_rows[_i].hop,
                "hop got %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT, trace_units_hop(&us, u),
                wide_rows[_i].hop);
  trace_units_set_hop(&us, u, 3); /* back into the byte */
  ck_assert_int_eq(trace_units_hop(&us, u), 3);
  ck_assert_uint_eq(g_hash_table_size(us.wide_hops), 0);
  trace_units_clear(&us);
}
END_TEST

/* 300 policies: each unit keeps its own, past the byte's 255. */
START_TEST(policies) {
  trace_units us;
  trace_units_init(&us);
  char q[16];
  for (int i = 0; i < 300; i++) {
    g_snprintf(q, sizeof q, "q%d", i);
    trace_unit *u = trace_units_get(&us, "n", q, "m@x", 0, 1);
    ck_assert_int_eq(trace_units_pol(&us, u)->lifetime, -1);
    trace_units_set_pol(&us, u, i, 2 * i, 3);
  }
  for (int i = 0; i < 300; i++) {
    g_snprintf(q, sizeof q, "q%d", i);
    const trace_unit_pol *p = trace_units_pol(&us, trace_units_find(&us, "n", q));
    ck_assert_msg(p->lifetime == i && p->gap == 2 * i && p->max_hops == 3,
                  "%s: got %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " want %d/%d", q, p->lifetime,
                  p->gap, i, 2 * i);
  }
  ck_assert_uint_eq(us.pols->len, 301);
  trace_units_clear(&us);
}
END_TEST

/* Recipients added in steps (a JSON array each): the unit's list after
 * each, in order, without regard to case. */
static const struct {
  const char *add[3];
  const char *want;
} rcpt_rows[] = {
    {{"[]", NULL}, ""},
    {{"[\"b@x\"]", NULL}, "b@x"},
    {{"[\"b@x\"]", "[\"B@X\", \"c@x\"]", NULL}, "b@x,c@x"},
    {{"[\"b@x\", \"C@x\", \"c@X\", 7]", "[\"d@x\"]", NULL}, "b@x,C@x,d@x"},
    {{"[\"a@x\", \"b@x\", \"c@x\", \"d@x\", \"e@x\", \"f@x\", \"g@x\", \"h@x\", \"i@x\", "
      "\"j@x\", \"k@x\", \"l@x\", \"m@x\", \"n@x\", \"o@x\", \"p@x\", \"q@x\", \"A@x\"]",
      NULL},
     "a@x,b@x,c@x,d@x,e@x,f@x,g@x,h@x,i@x,j@x,k@x,l@x,m@x,n@x,o@x,p@x,q@x"},
};

START_TEST(rcpts) {
  trace_units us;
  trace_units_init(&us);
  trace_unit *u = trace_units_get(&us, "n", "q", "m@x", 0, 1);
  for (int i = 0; rcpt_rows[_i].add[i]; i++) {
    cJSON *arr = cJSON_Parse(rcpt_rows[_i].add[i]);
    trace_units_add_rcpts(&us, u, arr);
    cJSON_Delete(arr);
  }
  GString *got = g_string_new(NULL);
  trace_unit_rcpt *r = trace_units_rcpts(&us, u);
  for (uint32_t i = 0; i < trace_units_nrcpts(u); i++)
    g_string_append_printf(got, "%s%s", i ? "," : "",
                           trace_atoms_str(&us.addrs, trace_units_addr(&r[i])));
  ck_assert_msg(strcmp(got->str, rcpt_rows[_i].want) == 0, "got %s want %s", got->str,
                rcpt_rows[_i].want);
  if (trace_units_nrcpts(u)) { /* found by any case, in place */
    char *up = g_ascii_strup(trace_atoms_str(&us.addrs, trace_units_addr(&r[0])), -1);
    ck_assert_ptr_eq(trace_units_rcpt_fold(&us, u, trace_atoms_fold(&us.addrs, up)), &r[0]);
    g_free(up);
  }
  ck_assert_ptr_null(trace_units_rcpt_fold(&us, u, trace_atoms_fold(&us.addrs, "zz@x")));
  g_string_free(got, TRUE);
  trace_units_clear(&us);
}
END_TEST

/* Many units over table growth and 65,540 nodes (the 16-bit node field's
 * way out): each found by (node, queue id) and by message. */
START_TEST(many) {
  trace_units us;
  trace_units_init(&us);
  char node[32], msg[64];
  enum { N = 65540 };
  for (uint32_t i = 0; i < N; i++) {
    g_snprintf(node, sizeof node, "node%u", i);
    g_snprintf(msg, sizeof msg, "%08x%08x@sim", i, i * 7u);
    trace_units_get(&us, node, "Q", msg, i, i);
  }
  for (uint32_t i = 0; i < N; i += 7) {
    g_snprintf(node, sizeof node, "node%u", i);
    g_snprintf(msg, sizeof msg, "%08x%08x@sim", i, i * 7u);
    trace_unit *u = trace_units_find(&us, node, "Q");
    ck_assert_msg(u == trace_units_at(&us, i), "%s: got another unit", node);
    ck_assert_msg(trace_units_of(&us, node, msg) == u, "%s by message: got another unit", msg);
    ck_assert_str_eq(trace_units_node_name(&us, u), node);
    ck_assert_str_eq(trace_units_msg(&us, u), msg);
  }
  trace_units_clear(&us);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("trace_units");
  TCase *tc = tcase_create("units");
  tcase_add_test(tc, get_find);
  tcase_add_loop_test(tc, wide, 0, G_N_ELEMENTS(wide_rows));
  tcase_add_test(tc, policies);
  tcase_add_loop_test(tc, rcpts, 0, G_N_ELEMENTS(rcpt_rows));
  tcase_add_test(tc, many);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
