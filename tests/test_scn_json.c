/* Tests for scn_json: the one-pass field getters (scn_json_fields and
 * scn_json_field_*) against the lookup getters they stand in for, value by
 * value and error by error, and the child paths written without printf. */
#include <limits.h>
#include <string.h>

#include "scn_json.h"
#include "testutil.h"

/* The error message of CTX (or "ok"), freed with the context's error. */
static char *outcome(scn_json_ctx *x, bool ret) {
  char *r = x->err ? g_strdup_printf("%d %s", ret, x->err->message) : g_strdup_printf("%d ok", ret);
  g_clear_error(&x->err);
  return r;
}

static const char *const keys[] = {"from", "to", "at", "tag", NULL};
enum { K_FROM, K_TO, K_AT, K_TAG, K_N };

/* Objects for the getters: every kind of value at each key, absent keys,
 * duplicate keys (the first item of a name counts), unknown keys. */
static const char *const objects[] = {
    "{}",
    "{\"from\":\"a@b.c\",\"to\":[\"x@y.z\"],\"at\":\"5ms\",\"tag\":[]}",
    "{\"from\":\"a@b.c\",\"to\":[\"x@y.z\"],\"at\":\"5ms\",\"tag\":\"t\"}",
    "{\"tag\":[1,\"a\"],\"at\":\"2h\",\"to\":[\"x@y.z\",\"u@v.w\"],\"from\":\"a@b.c\"}",
    "{\"from\":3,\"to\":[\"x@y.z\"]}",
    "{\"from\":null}",
    "{\"from\":[\"a\"]}",
    "{\"from\":{}}",
    "{\"from\":true}",
    "{\"from\":\"\"}",
    "{\"to\":\"x@y.z\"}",
    "{\"to\":[]}",
    "{\"to\":[\"x@y.z\",3]}",
    "{\"to\":[\"\",\"x@y.z\"]}",
    "{\"to\":{\"a\":1}}",
    "{\"at\":5}",
    "{\"at\":\"5 parsecs\"}",
    "{\"at\":\"-1s\"}",
    "{\"at\":\"\"}",
    "{\"at\":[]}",
    "{\"from\":\"a@b.c\",\"from\":3}",
    "{\"from\":3,\"from\":\"a@b.c\"}",
    "{\"to\":[1],\"to\":[\"x@y.z\"]}",
    "{\"at\":\"1s\",\"at\":\"bad\"}",
    "{\"frm\":\"a@b.c\"}",
    "{\"from\":\"a@b.c\",\"zzzzzz\":1}",
    "{\"\":1}",
    "{\"tags\":1,\"from\":3}",
};

/* Runs the lookup getters (REF) or the field getters on OBJ in the
 * loader's order and returns what they produced and the error. */
static char *run_getters(const cJSON *obj, bool ref, bool required) {
  scn_json_ctx x = {.file = "f.json"};
  GString *out = g_string_new(NULL);
  bool ok;
  const char *from = NULL;
  sim_time at = -7;
  const cJSON *to = NULL;
  if (ref) {
    char *from_copy = NULL;
    GPtrArray *list = NULL;
    const cJSON *tag = NULL;
    ok = scn_json_known_keys(&x, obj, "$.m", keys) &&
         scn_json_string(&x, obj, "$.m", "from", required, &from_copy) &&
         scn_json_duration(&x, obj, "$.m", "at", required, &at) &&
         scn_json_array(&x, obj, "$.m", "tag", required, &tag);
    g_string_append_printf(out, "tags=%d ", tag ? cJSON_GetArraySize(tag) : -1);
    if (ok) {
      list = scn_json_strings(&x, obj, "$.m", "to", required, true, "an address");
      ok = scn_json_ok(&x);
    }
    g_string_append_printf(out, "from=%s at=%lld to=", from_copy ? from_copy : "(none)",
                           (long long)at);
    for (guint i = 0; ok && list && i < list->len; i++)
      g_string_append_printf(out, "%s,", (char *)list->pdata[i]);
    g_free(from_copy);
    if (list)
      g_ptr_array_unref(list);
  } else {
    const cJSON *f[K_N];
    const cJSON *tag = NULL;
    ok = scn_json_fields(&x, obj, "$.m", keys, f) &&
         scn_json_field_string(&x, f[K_FROM], "$.m", "from", required, &from) &&
         scn_json_field_duration(&x, f[K_AT], "$.m", "at", required, &at) &&
         scn_json_field_array(&x, f[K_TAG], "$.m", "tag", required, &tag) &&
         scn_json_field_string_items(&x, f[K_TO], "$.m", "to", required, true, "an address", &to);
    g_string_append_printf(out, "tags=%d ", tag ? cJSON_GetArraySize(tag) : -1);
    g_string_append_printf(out, "from=%s at=%lld to=", from ? from : "(none)", (long long)at);
    for (const cJSON *it = to ? to->child : NULL; ok && it; it = it->next)
      g_string_append_printf(out, "%s,", it->valuestring);
  }
  char *o = outcome(&x, ok);
  g_string_append_printf(out, " -> %s", o);
  g_free(o);
  return g_string_free(out, FALSE);
}

START_TEST(field_getters_match_lookups) {
  cJSON *obj = cJSON_Parse(objects[_i]);
  ck_assert_msg(obj != NULL, "row %d: bad test JSON", _i);
  for (int required = 0; required < 2; required++) {
    char *want = run_getters(obj, true, required);
    char *got = run_getters(obj, false, required);
    ck_assert_msg(strcmp(got, want) == 0, "row %d (%s) required %d: got \"%s\" want \"%s\"", _i,
                  objects[_i], required, got, want);
    g_free(want);
    g_free(got);
  }
  cJSON_Delete(obj);
}
END_TEST

/* scn_json_fields finds the first item of each name and leaves absent ones
 * NULL; an error recorded before makes it fail without a look. */
START_TEST(fields_first_item) {
  cJSON *obj = cJSON_Parse("{\"at\":\"1s\",\"from\":\"a\",\"from\":\"b\"}");
  scn_json_ctx x = {.file = "f.json"};
  const cJSON *f[K_N];
  ck_assert(scn_json_fields(&x, obj, "$", keys, f));
  ck_assert_ptr_eq(f[K_AT], obj->child);
  ck_assert_ptr_eq(f[K_FROM], obj->child->next);
  ck_assert_ptr_null(f[K_TO]);
  ck_assert_ptr_null(f[K_TAG]);
  scn_json_fail(&x, "$", "earlier");
  ck_assert(!scn_json_fields(&x, obj, "$", keys, f));
  ck_assert_ptr_null(f[K_AT]);
  ck_assert_str_eq(x.err->message, "f.json: $: earlier");
  g_clear_error(&x.err);
  cJSON_Delete(obj);
}
END_TEST

static const struct {
  const char *path;
  int i;
} index_paths[] = {{"$.hosts", 0},      {"$.hosts", 7},        {"$.users", 12},
                   {"$", 1000000},      {"$.x", -3},           {"$.x", INT_MIN},
                   {"$.x", INT_MAX},    {"", 5},               {"$.messages[3].to", 10}};

START_TEST(index_path_as_printf) {
  char *got = scn_json_index_path(index_paths[_i].path, index_paths[_i].i);
  char *want = g_strdup_printf("%s[%d]", index_paths[_i].path, index_paths[_i].i);
  ck_assert_msg(strcmp(got, want) == 0, "got \"%s\" want \"%s\"", got, want);
  g_free(got);
  g_free(want);
}
END_TEST

START_TEST(key_path_as_printf) {
  const char *cases[][2] = {{"$", "a"}, {"$.hosts[2]", "mta"}, {"", ""}, {"$.x", ""}, {"", "k"}};
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    char *got = scn_json_key_path(cases[i][0], cases[i][1]);
    char *want = g_strdup_printf("%s.%s", cases[i][0], cases[i][1]);
    ck_assert_msg(strcmp(got, want) == 0, "got \"%s\" want \"%s\"", got, want);
    g_free(got);
    g_free(want);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("scn_json");
  TCase *tc = tcase_create("fields");
  tcase_add_loop_test(tc, field_getters_match_lookups, 0, G_N_ELEMENTS(objects));
  tcase_add_test(tc, fields_first_item);
  suite_add_tcase(s, tc);
  tc = tcase_create("paths");
  tcase_add_loop_test(tc, index_path_as_printf, 0, G_N_ELEMENTS(index_paths));
  tcase_add_test(tc, key_path_as_printf);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
