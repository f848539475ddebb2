/* scn_json.c — typed getters over cJSON for the scenario loader.
 *
 * cJSON keeps numbers as doubles (exact to 2^53) and valueint as an int, so
 * integers are range-checked on the double and converted only when exact.
 */
#include "scn_json.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "scn_units.h"

G_DEFINE_QUARK(scn-error-quark, scn_error)

void scn_json_fail(scn_json_ctx *c, const char *path, const char *fmt, ...) {
  if (c->err)
    return;
  va_list ap;
  va_start(ap, fmt);
  char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(&c->err, SCN_ERROR, 0, "%s: %s: %s", c->file, path, msg);
  g_free(msg);
}

bool scn_json_ok(const scn_json_ctx *c) { return c->err == NULL; }

/* Without printf: one path per host, link, zone and user at loading. */
char *scn_json_key_path(const char *path, const char *key) {
  size_t lp = strlen(path), lk = strlen(key);
  char *r = g_malloc(lp + lk + 2);
  memcpy(r, path, lp);
  r[lp] = '.';
  memcpy(r + lp + 1, key, lk + 1);
  return r;
}

char *scn_json_index_path(const char *path, int i) {
  char digits[12];
  int n = 0;
  unsigned u = i < 0 ? 0u - (unsigned)i : (unsigned)i;
  do
    digits[n++] = (char)('0' + u % 10);
  while ((u /= 10) != 0);
  size_t lp = strlen(path);
  char *r = g_malloc(lp + (size_t)n + 4);
  char *q = r + lp;
  memcpy(r, path, lp);
  *q++ = '[';
  if (i < 0)
    *q++ = '-';
  while (n)
    *q++ = digits[--n];
  *q++ = ']';
  *q = '\0';
  return r;
}

static const char *type_name(const cJSON *v) {
  if (cJSON_IsString(v))
    return "a string";
  if (cJSON_IsNumber(v))
    return "a number";
  if (cJSON_IsBool(v))
    return "a boolean";
  if (cJSON_IsNull(v))
    return "null";
  if (cJSON_IsArray(v))
    return "an array";
  if (cJSON_IsObject(v))
    return "an object";
  return "an invalid value";
}

/* Levenshtein distance, capped: enough to suggest a misspelt key. */
static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64)
    return SIZE_MAX;
  size_t prev[65], cur[65];
  for (size_t j = 0; j <= lb; j++)
    prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
      size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = MIN(sub, MIN(del, ins));
    }
    memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
  }
  return prev[lb];
}

bool scn_json_known_keys(scn_json_ctx *c, const cJSON *obj, const char *path,
                         const char *const *allowed) {
  if (!scn_json_ok(c))
    return false;
  for (const cJSON *it = obj->child; it; it = it->next) {
    /* first byte before strcmp, and stop at the match: a message's keys
     * cost ~70 strcmp calls each with the full scan */
    const char *k = it->string;
    bool found = false;
    for (const char *const *a = allowed; *a && !found; a++)
      found = (*a)[0] == k[0] && strcmp(k, *a) == 0;
    if (!found) {
      GString *list = g_string_new(NULL);
      const char *best = NULL;
      size_t best_d = 3; /* suggest only close spellings */
      for (const char *const *a = allowed; *a; a++) {
        g_string_append_printf(list, "%s%s", a == allowed ? "" : ", ", *a);
        size_t d = edit_distance(it->string, *a);
        if (d < best_d) {
          best_d = d;
          best = *a;
        }
      }
      if (best)
        scn_json_fail(c, path, "unknown key \"%s\" (did you mean \"%s\"? expected one of: %s)",
                      it->string, best, list->str);
      else
        scn_json_fail(c, path, "unknown key \"%s\" (expected one of: %s)", it->string, list->str);
      g_string_free(list, TRUE);
      return false;
    }
  }
  return true;
}

/* V, the value found for KEY (NULL: absent); NULL (failing if REQUIRED)
 * when absent, and once an error is recorded. */
static const cJSON *present(scn_json_ctx *c, const cJSON *v, const char *path, const char *key,
                            bool required) {
  if (!scn_json_ok(c))
    return NULL;
  if (!v && required)
    scn_json_fail(c, path, "missing key \"%s\"", key);
  return v;
}

/* Looks KEY up; returns NULL (and fails if REQUIRED) when absent. */
static const cJSON *get(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                        bool required) {
  if (!scn_json_ok(c))
    return NULL;
  /* cJSON_GetObjectItemCaseSensitive's scan (the first item with KEY; the
   * scan ends at an item without a name), with the first byte compared
   * before strcmp and no call into the library per lookup */
  const cJSON *v = obj ? obj->child : NULL;
  while (v && v->string && (v->string[0] != key[0] || strcmp(v->string, key) != 0))
    v = v->next;
  if (v && !v->string)
    v = NULL;
  return present(c, v, path, key, required);
}

bool scn_json_fields(scn_json_ctx *c, const cJSON *obj, const char *path,
                     const char *const *allowed, const cJSON **found) {
  size_t n = 0;
  while (allowed[n])
    n++;
  for (size_t i = 0; i < n; i++)
    found[i] = NULL;
  if (!scn_json_ok(c))
    return false;
  for (const cJSON *it = obj->child; it; it = it->next) {
    const char *k = it->string;
    size_t i = 0;
    while (i < n && (allowed[i][0] != k[0] || strcmp(k, allowed[i]) != 0))
      i++;
    if (i == n) /* an unknown key: scn_json_known_keys words the error */
      return scn_json_known_keys(c, obj, path, allowed);
    if (!found[i]) /* the first item of a name, as a lookup finds */
      found[i] = it;
  }
  return true;
}

static void wrong_type(scn_json_ctx *c, const char *path, const char *key, const cJSON *v,
                       const char *want) {
  char *p = scn_json_key_path(path, key);
  scn_json_fail(c, p, "expected %s, got %s", want, type_name(v));
  g_free(p);
}

bool scn_json_string(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                     bool required, char **out) {
  const cJSON *v = get(c, obj, path, key, required);
  if (!v)
    return scn_json_ok(c);
  if (!cJSON_IsString(v)) {
    wrong_type(c, path, key, v, "a string");
    return false;
  }
  g_free(*out);
  *out = g_strdup(v->valuestring);
  return true;
}

static bool string_value(scn_json_ctx *c, const cJSON *v, const char *path, const char *key,
                         const char **out) {
  if (!cJSON_IsString(v)) {
    wrong_type(c, path, key, v, "a string");
    return false;
  }
  *out = v->valuestring;
  return true;
}

bool scn_json_field_string(scn_json_ctx *c, const cJSON *v, const char *path, const char *key,
                           bool required, const char **out) {
  v = present(c, v, path, key, required);
  return v ? string_value(c, v, path, key, out) : scn_json_ok(c);
}

bool scn_json_bool(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                   bool required, bool *out) {
  const cJSON *v = get(c, obj, path, key, required);
  if (!v)
    return scn_json_ok(c);
  if (!cJSON_IsBool(v)) {
    wrong_type(c, path, key, v, "true or false");
    return false;
  }
  *out = cJSON_IsTrue(v);
  return true;
}

bool scn_json_int(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                  bool required, int64_t lo, int64_t hi, int64_t *out) {
  const cJSON *v = get(c, obj, path, key, required);
  if (!v)
    return scn_json_ok(c);
  double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
  if (!cJSON_IsNumber(v) || d != floor(d) || d < (double)lo || d > (double)hi ||
      fabs(d) > 9007199254740992.0) {
    char *p = scn_json_key_path(path, key);
    char *want = g_strdup_printf("an integer from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                                 (gint64)lo, (gint64)hi);
    if (cJSON_IsNumber(v))
      scn_json_fail(c, p, "expected %s, got %g", want, d);
    else
      scn_json_fail(c, p, "expected %s, got %s", want, type_name(v));
    g_free(want);
    g_free(p);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

bool scn_json_seed(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                   bool required, uint64_t *out) {
  const cJSON *v = get(c, obj, path, key, required);
  if (!v)
    return scn_json_ok(c);
  if (cJSON_IsString(v)) {
    guint64 n;
    if (g_ascii_string_to_unsigned(v->valuestring, 10, 0, G_MAXUINT64, &n, NULL)) {
      *out = n;
      return true;
    }
  } else if (cJSON_IsNumber(v)) {
    double d = v->valuedouble;
    if (d >= 0 && d == floor(d) && d <= 9007199254740992.0) {
      *out = (uint64_t)d;
      return true;
    }
  }
  char *p = scn_json_key_path(path, key);
  scn_json_fail(c, p, "expected a seed: an integer from 0 to 2^53, or a decimal string up to 2^64-1");
  g_free(p);
  return false;
}

/* Shared shape of the "string with units" getters. */
typedef bool (*unit_parser)(const char *text, uint64_t *out, GError **err);

/* V (at PATH.KEY, present) as a string with units or a plain integer;
 * the child path is built only for an error. */
static bool units_value(scn_json_ctx *c, const cJSON *v, const char *path, const char *key,
                        unit_parser parse, const char *want, uint64_t *out) {
  if (cJSON_IsString(v)) {
    GError *e = NULL;
    if (parse(v->valuestring, out, &e))
      return true;
    char *p = scn_json_key_path(path, key);
    scn_json_fail(c, p, "%s", e->message);
    g_free(p);
    g_error_free(e);
    return false;
  }
  if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble == floor(v->valuedouble) &&
      v->valuedouble <= 9007199254740992.0) {
    *out = (uint64_t)v->valuedouble;
    return true;
  }
  char *p = scn_json_key_path(path, key);
  scn_json_fail(c, p, "expected %s, got %s", want, type_name(v));
  g_free(p);
  return false;
}

static bool with_units(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                       bool required, unit_parser parse, const char *want, uint64_t *out) {
  const cJSON *v = get(c, obj, path, key, required);
  if (!v)
    return scn_json_ok(c);
  return units_value(c, v, path, key, parse, want, out);
}

static bool parse_duration_u64(const char *text, uint64_t *out, GError **err) {
  sim_time t;
  if (!sim_time_parse(text, &t, err))
    return false;
  *out = (uint64_t)t;
  return true;
}

bool scn_json_duration(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                       bool required, sim_time *out) {
  return scn_json_field_duration(c, get(c, obj, path, key, required), path, key, required, out);
}

bool scn_json_field_duration(scn_json_ctx *c, const cJSON *v, const char *path, const char *key,
                             bool required, sim_time *out) {
  v = present(c, v, path, key, required);
  if (!v)
    return scn_json_ok(c);
  if (!cJSON_IsString(v)) {
    wrong_type(c, path, key, v, "a duration string like \"250ms\", \"5m\" or \"2h\"");
    return false;
  }
  uint64_t u = 0;
  if (!units_value(c, v, path, key, parse_duration_u64, "a duration", &u))
    return false;
  *out = (sim_time)u;
  return true;
}

bool scn_json_size(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                   bool required, uint64_t *out) {
  return with_units(c, obj, path, key, required, scn_parse_size, "a size like \"64KiB\"", out);
}

bool scn_json_bandwidth(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                        bool required, uint64_t *out) {
  return with_units(c, obj, path, key, required, scn_parse_bandwidth,
                    "a bandwidth like \"10Mbit\"", out);
}

static bool parse_ppm_u64(const char *text, uint64_t *out, GError **err) {
  uint32_t v;
  if (!scn_parse_ppm(text, &v, err))
    return false;
  *out = v;
  return true;
}

bool scn_json_ppm(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                  bool required, uint32_t *out) {
  const cJSON *v = get(c, obj, path, key, required);
  if (!v)
    return scn_json_ok(c);
  if (cJSON_IsNumber(v)) {
    double d = v->valuedouble;
    double ppm = d * 1e6;
    if (d >= 0 && d <= 1 && ppm == floor(ppm)) {
      *out = (uint32_t)ppm;
      return true;
    }
    char *p = scn_json_key_path(path, key);
    scn_json_fail(c, p, "expected a ratio from 0 to 1 in whole parts per million, got %g", d);
    g_free(p);
    return false;
  }
  uint64_t u = 0;
  if (!units_value(c, v, path, key, parse_ppm_u64, "a ratio like \"0.1%\"", &u))
    return false;
  *out = (uint32_t)u;
  return true;
}

bool scn_json_array(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                    bool required, const cJSON **out) {
  return scn_json_field_array(c, get(c, obj, path, key, required), path, key, required, out);
}

bool scn_json_field_array(scn_json_ctx *c, const cJSON *v, const char *path, const char *key,
                          bool required, const cJSON **out) {
  v = present(c, v, path, key, required);
  if (!v) {
    *out = NULL;
    return scn_json_ok(c);
  }
  if (!cJSON_IsArray(v)) {
    wrong_type(c, path, key, v, "an array");
    return false;
  }
  *out = v;
  return true;
}

/* The index of ARR's first item that is no string (with NONEMPTY: or is
 * ""), failed as "PATH.KEY[i]: expected WHAT"; -1 if there is none. */
static int bad_string_item(scn_json_ctx *c, const cJSON *arr, const char *path, const char *key,
                           bool nonempty, const char *what) {
  int i = 0;
  for (const cJSON *it = arr->child; it; it = it->next, i++) {
    if (!cJSON_IsString(it) || (nonempty && !*it->valuestring)) {
      char *p = g_strdup_printf("%s.%s[%d]", path, key, i);
      scn_json_fail(c, p, "expected %s", what);
      g_free(p);
      return i;
    }
  }
  return -1;
}

bool scn_json_field_string_items(scn_json_ctx *c, const cJSON *v, const char *path,
                                 const char *key, bool required, bool nonempty, const char *what,
                                 const cJSON **out) {
  const cJSON *arr;
  *out = NULL;
  if (!scn_json_field_array(c, v, path, key, required, &arr) || !arr)
    return scn_json_ok(c);
  if (bad_string_item(c, arr, path, key, nonempty, what) >= 0)
    return false;
  *out = arr;
  return true;
}

GPtrArray *scn_json_strings(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                            bool required, bool nonempty, const char *what) {
  const cJSON *arr;
  if (!scn_json_array(c, obj, path, key, required, &arr) || !arr)
    return NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  int bad = bad_string_item(c, arr, path, key, nonempty, what), i = 0;
  for (const cJSON *it = arr->child; it && i != bad; it = it->next, i++)
    g_ptr_array_add(out, g_strdup(it->valuestring));
  return out;
}
