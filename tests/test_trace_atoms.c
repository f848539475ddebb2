/* trace_atoms: ids in order of making, exact lookup, ASCII case folds. */
#include "testutil.h"
#include "trace_atoms.h"

#include <stdbool.h>
#include <string.h>

/* Strings made with trace_atoms_get, in this order, and the ids each
 * must get (a string with upper case first makes its lower-case form)
 * and its fold's string. */
static const struct {
  const char *s;
  uint32_t id;
  const char *fold;
} get_rows[] = {
    {"bob@x", 0, "bob@x"},     {"Bob@X", 1, "bob@x"}, {"carol@x", 2, "carol@x"},
    {"CAROL@x", 3, "carol@x"}, {"Dan@x", 5, "dan@x"}, /* "dan@x" is 4 */
    {"bob@x", 0, "bob@x"},     {"", 6, ""},           {"é@X", 8, "é@x"},
};

START_TEST(get_ids) {
  trace_atoms a;
  trace_atoms_init(&a);
  for (size_t i = 0; i < G_N_ELEMENTS(get_rows); i++) {
    const trace_atom *at = trace_atoms_get(&a, get_rows[i].s);
    ck_assert_msg(at->id == get_rows[i].id, "%s: id got %u want %u", get_rows[i].s, at->id,
                  get_rows[i].id);
    ck_assert_msg(strcmp(trace_atoms_str(&a, at->fold), get_rows[i].fold) == 0,
                  "%s: fold got %s want %s", get_rows[i].s, trace_atoms_str(&a, at->fold),
                  get_rows[i].fold);
    ck_assert_msg(trace_atoms_at(&a, at->id) == at, "%s: at(id) not the atom", get_rows[i].s);
  }
  trace_atoms_clear(&a);
  trace_atoms_clear(&a); /* twice is fine */
}
END_TEST

/* After making "Alice@Example" (and so "alice@example") and "zed" with
 * trace_atoms_add (its own fold): what _find and _fold answer. */
static const struct {
  const char *s;
  bool found;
  const char *fold; /* NULL: TRACE_ATOMS_NONE */
} look_rows[] = {
    {"Alice@Example", true, "alice@example"},
    {"alice@example", true, "alice@example"},
    {"ALICE@EXAMPLE", false, "alice@example"},
    {"alice@examplE", false, "alice@example"},
    {"alice@exampl", false, NULL},
    {"zed", true, "zed"},
    {"ZED", false, "zed"}, /* by its lower-case form */
    {"nobody", false, NULL},
    {"", false, NULL},
};

START_TEST(look) {
  trace_atoms a;
  trace_atoms_init(&a);
  trace_atoms_get(&a, "Alice@Example");
  trace_atoms_add(&a, "zed", TRACE_ATOMS_NONE);
  const trace_atom *at = trace_atoms_find(&a, look_rows[_i].s);
  ck_assert_msg((at != NULL) == look_rows[_i].found, "%s: found got %d want %d", look_rows[_i].s,
                at != NULL, look_rows[_i].found);
  if (at)
    ck_assert_str_eq(at->s, look_rows[_i].s);
  uint32_t f = trace_atoms_fold(&a, look_rows[_i].s);
  const char *got = f == TRACE_ATOMS_NONE ? NULL : trace_atoms_str(&a, f);
  ck_assert_msg(g_strcmp0(got, look_rows[_i].fold) == 0, "%s: fold got %s want %s", look_rows[_i].s,
                got ? got : "(none)", look_rows[_i].fold ? look_rows[_i].fold : "(none)");
  ck_assert_msg(a.all->len == 3, "%s: lookups made atoms: got %u want 3", look_rows[_i].s,
                a.all->len);
  trace_atoms_clear(&a);
}
END_TEST

/* Many atoms: each found again by its own string with its own id. */
START_TEST(many) {
  trace_atoms a;
  trace_atoms_init(&a);
  char buf[32];
  for (uint32_t i = 0; i < 20000; i++) {
    g_snprintf(buf, sizeof buf, "n%u", i);
    ck_assert_uint_eq(trace_atoms_add(&a, buf, TRACE_ATOMS_NONE)->id, i);
  }
  for (uint32_t i = 0; i < 20000; i++) {
    g_snprintf(buf, sizeof buf, "n%u", i);
    const trace_atom *at = trace_atoms_find(&a, buf);
    ck_assert_msg(at && at->id == i && at->fold == i, "%s: got id %u want %u", buf,
                  at ? at->id : UINT32_MAX, i);
  }
  trace_atoms_clear(&a);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("trace_atoms");
  TCase *tc = tcase_create("atoms");
  tcase_add_test(tc, get_ids);
  tcase_add_loop_test(tc, look, 0, G_N_ELEMENTS(look_rows));
  tcase_add_test(tc, many);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
