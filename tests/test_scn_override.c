/* Tests for scenarios/scn_override.c: --set paths and values on a JSON
 * tree, splitting PATH=V1,V2, and loading an edited scenario (a bad value
 * gets the loader's error with its JSON path). */
#include <string.h>

#include "scn_override.h"
#include "testutil.h"

static const struct {
  const char *arg;
  const char *path;   /* NULL: an error */
  const char *values; /* joined by '|' */
} split_rows[] = {
    {"a=1,2", "a", "1|2"},
    {"hosts[mx.example.org].mta.greylist_delay=60s,300s,900s",
     "hosts[mx.example.org].mta.greylist_delay", "60s|300s|900s"},
    {"x[a=b].c=1", "x[a=b].c", "1"},
    {"p=[1,2],[3]", "p", "[1,2]|[3]"},
    {"p={\"a\":1,\"b\":2}", "p", "{\"a\":1,\"b\":2}"},
    {"p=\"a,b\",c", "p", "\"a,b\"|c"},
    {"p=\"a\\\",b\"", "p", "\"a\\\",b\""},
    {"p=0.5%", "p", "0.5%"},
    {"noeq", NULL, NULL},
    {"=1", NULL, NULL},
    {"a=", NULL, NULL},
    {"a=1,,2", NULL, NULL},
    {"a=1,", NULL, NULL},
    {"a[=1", NULL, NULL},
    {"a[]=1", NULL, NULL},
    {"a..b=1", NULL, NULL},
    {"a.=1", NULL, NULL},
    {"a[x]b=1", NULL, NULL},
    {"a=\"x", NULL, NULL},
};

START_TEST(split) {
  char *path = NULL;
  GPtrArray *vals = NULL;
  GError *err = NULL;
  bool ok = scn_override_split(split_rows[_i].arg, &path, &vals, &err);
  if (!split_rows[_i].path) {
    ck_assert_msg(!ok && err, "row %d (%s): got success, want an error", _i, split_rows[_i].arg);
    g_error_free(err);
    return;
  }
  ck_assert_msg(ok, "row %d (%s): %s", _i, split_rows[_i].arg, err ? err->message : "");
  g_ptr_array_add(vals, NULL);
  char *joined = g_strjoinv("|", (char **)vals->pdata);
  ck_assert_msg(strcmp(path, split_rows[_i].path) == 0 &&
                    strcmp(joined, split_rows[_i].values) == 0,
                "row %d: got %s = %s want %s = %s", _i, path, joined, split_rows[_i].path,
                split_rows[_i].values);
  g_free(joined);
  g_free(path);
  g_ptr_array_unref(vals);
}
END_TEST

static const char *BASE =
    "{\"hosts\":[{\"name\":\"mx.example.org\",\"mta\":{\"retry\":\"postfix\"}},{\"name\":\"b\"}],"
    "\"links\":[{\"a\":\"x\",\"b\":\"y\",\"latency\":\"1ms\"}],\"users\":[{\"address\":\"bob@x\"}],"
    "\"messages\":[{\"id\":\"m1\"}],\"zones\":[{\"origin\":\"x.\"}],\"d\":1}";

static const struct {
  const char *path, *value;
  const char *want; /* the whole tree after, or NULL: an error containing ERR */
  const char *err;
} apply_rows[] = {
    {"hosts[mx.example.org].mta.retry", "exim", "\"mta\":{\"retry\":\"exim\"}", NULL},
    {"hosts[b].mta.greylist_delay", "5m", "{\"name\":\"b\",\"mta\":{\"greylist_delay\":\"5m\"}}",
     NULL},
    {"hosts[1].role", "mta", "{\"name\":\"b\",\"role\":\"mta\"}", NULL},
    {"links[x-y].latency", "5ms", "\"latency\":\"5ms\"", NULL},
    {"links[0].loss", "0.25", "\"latency\":\"1ms\",\"loss\":0.25", NULL},
    {"users[bob@x].keep", "true", "{\"address\":\"bob@x\",\"keep\":true}", NULL},
    {"messages[m1].subject", "\"hi, there\"", "{\"id\":\"m1\",\"subject\":\"hi, there\"}", NULL},
    {"zones[x.].records", "[\"@ 60 IN A 1.2.3.4\"]", "\"records\":[\"@ 60 IN A 1.2.3.4\"]", NULL},
    {"d", "{\"k\":[1]}", "\"d\":{\"k\":[1]}", NULL},
    {"new", "60s", "\"d\":1,\"new\":\"60s\"}", NULL},
    {"hosts[zz].x", "1", NULL, "at $.hosts[zz]: no element"},
    {"hosts[2].x", "1", NULL, "at $.hosts[2]: no element"},
    {"d.x", "1", NULL, "at $.d: not an object"},
    {"hosts.x", "1", NULL, "at $.hosts: not an object"},
    {"links[0]", "1", NULL, "must end in a key"},
    {"hosts[0][0].x", "1", NULL, "at $.hosts[0]: not an array"},
    {"d[0].x", "1", NULL, "at $.d: not an array"},
};

START_TEST(apply) {
  cJSON *root = cJSON_Parse(BASE);
  GError *err = NULL;
  bool ok = scn_override_apply(root, apply_rows[_i].path, apply_rows[_i].value, &err);
  char *got = cJSON_PrintUnformatted(root);
  if (apply_rows[_i].want) {
    ck_assert_msg(ok, "row %d: %s", _i, err ? err->message : "");
    ck_assert_msg(strstr(got, apply_rows[_i].want), "row %d: got %s want it to contain %s", _i, got,
                  apply_rows[_i].want);
  } else {
    ck_assert_msg(!ok && strstr(err->message, apply_rows[_i].err), "row %d: got %s want %s", _i,
                  ok ? "success" : err->message, apply_rows[_i].err);
    g_error_free(err);
  }
  cJSON_free(got);
  cJSON_Delete(root);
}
END_TEST

START_TEST(load_edited_scenario) {
  char *file = testutil_src_path("scenarios/journey.json");
  char *text = NULL;
  gsize len = 0;
  ck_assert(g_file_get_contents(file, &text, &len, NULL));
  const char *paths[] = {"hosts[mx.example.org].mta.greylist_delay", "duration"};
  const char *good[] = {"90s", "3h"};
  GError *err = NULL;
  scn_config *c = scn_override_load(file, text, len, paths, good, 2, &err);
  ck_assert_msg(c, "%s", err ? err->message : "");
  int mx = scn_find_host(c, "mx.example.org");
  ck_assert_int_ge(mx, 0);
  sim_time got = g_array_index(c->hosts, scn_host, mx).mta.greylist_delay;
  ck_assert_msg(got == 90 * SIM_S && c->duration == 3 * 3600 * SIM_S,
                "got greylist_delay %" G_GINT64_FORMAT " duration %" G_GINT64_FORMAT, got,
                c->duration);
  scn_config_free(c);
  const char *bad[] = {"banana", "3h"};
  c = scn_override_load(file, text, len, paths, bad, 2, &err);
  ck_assert_msg(!c && err && strstr(err->message, "journey.json") &&
                    strstr(err->message, ".mta.greylist_delay") && strstr(err->message, "banana"),
                "got %s", err ? err->message : "a config");
  g_clear_error(&err);
  const char *typo[] = {"hosts[mx.example.org].mta.greylist_dealy"};
  c = scn_override_load(file, text, len, typo, good, 1, &err);
  ck_assert_msg(!c && err && strstr(err->message, "greylist_dealy"), "got %s",
                err ? err->message : "a config");
  g_clear_error(&err);
  g_free(text);
  g_free(file);
}
END_TEST

int main(void) {
  Suite *s = suite_create("scn_override");
  TCase *tc = tcase_create("override");
  tcase_add_loop_test(tc, split, 0, G_N_ELEMENTS(split_rows));
  tcase_add_loop_test(tc, apply, 0, G_N_ELEMENTS(apply_rows));
  tcase_add_test(tc, load_edited_scenario);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
