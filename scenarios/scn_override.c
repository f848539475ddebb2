/* scn_override.c — `--set PATH=VALUE` on a scenario's JSON tree (see
 * scn_override.h): the path is walked on the cJSON tree, the value
 * replaces or adds the last key, and the printed tree goes through the
 * ordinary loader, which does all the checking of values.
 */
#include "scn_override.h"

#include <string.h>

/* One step of a path: a key, then zero or more bracket selectors. */
typedef struct {
  char *key;         /* NULL for a step that is only a selector (unused) */
  GPtrArray *select; /* char*, the bracket texts in order */
} step;

static void step_clear(step *s) {
  g_free(s->key);
  g_ptr_array_unref(s->select);
}

static bool bad_path(GError **err, const char *path, const char *why) {
  g_set_error(err, SCN_ERROR, 0, "path \"%s\": %s", path, why);
  return false;
}

/* Parses PATH into STEPS (GArray of step). */
static bool parse_path(const char *path, GArray *steps, GError **err) {
  const char *p = path;
  if (!*p)
    return bad_path(err, path, "empty");
  for (;;) {
    const char *k = p;
    while (*p && *p != '.' && *p != '[' && *p != ']')
      p++;
    if (p == k)
      return bad_path(err, path, "expected a key (keys are joined by '.', elements in [..])");
    step s = {g_strndup(k, (gsize)(p - k)), g_ptr_array_new_with_free_func(g_free)};
    g_array_append_val(steps, s);
    while (*p == '[') {
      const char *q = strchr(p + 1, ']');
      if (!q)
        return bad_path(err, path, "'[' without its ']'");
      if (q == p + 1)
        return bad_path(err, path, "empty [] selector");
      g_ptr_array_add(s.select, g_strndup(p + 1, (gsize)(q - p - 1)));
      p = q + 1;
    }
    if (!*p)
      return true;
    if (*p != '.')
      return bad_path(err, path, "expected '.' or '[' after a key or a ']'");
    p++;
  }
}

bool scn_override_check_path(const char *path, GError **err) {
  GArray *steps = g_array_new(FALSE, FALSE, sizeof(step));
  g_array_set_clear_func(steps, (GDestroyNotify)step_clear);
  bool ok = parse_path(path, steps, err);
  g_array_unref(steps);
  return ok;
}

static bool is_index(const char *s, int *out) {
  guint64 v;
  if (!g_ascii_string_to_unsigned(s, 10, 0, G_MAXINT, &v, NULL))
    return false;
  *out = (int)v;
  return true;
}

static bool str_is(const cJSON *o, const char *key, const char *want) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
}

/* The element of array ARR that SEL names, or NULL. */
static cJSON *select_elem(cJSON *arr, const char *sel) {
  cJSON *e;
  cJSON_ArrayForEach(e, arr) {
    if (!cJSON_IsObject(e))
      continue;
    if (str_is(e, "name", sel) || str_is(e, "id", sel) || str_is(e, "address", sel) ||
        str_is(e, "origin", sel))
      return e;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "a");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(e, "b");
    if (cJSON_IsString(a) && cJSON_IsString(b)) {
      char *ab = g_strdup_printf("%s-%s", a->valuestring, b->valuestring);
      bool hit = strcmp(ab, sel) == 0;
      g_free(ab);
      if (hit)
        return e;
    }
  }
  int i;
  if (is_index(sel, &i))
    return cJSON_GetArrayItem(arr, i);
  return NULL;
}

static cJSON *parse_value(const char *value) {
  const char *end = NULL;
  cJSON *v = cJSON_ParseWithOpts(value, &end, true);
  if (v)
    return v;
  return cJSON_CreateString(value);
}

static bool nowhere(GError **err, const char *path, const char *at, const char *why) {
  g_set_error(err, SCN_ERROR, 0, "path \"%s\": at %s: %s", path, at, why);
  return false;
}

bool scn_override_apply(cJSON *root, const char *path, const char *value, GError **err) {
  GArray *steps = g_array_new(FALSE, FALSE, sizeof(step));
  g_array_set_clear_func(steps, (GDestroyNotify)step_clear);
  bool ok = parse_path(path, steps, err);
  GString *at = g_string_new("$");
  cJSON *cur = root;
  for (guint i = 0; ok && i < steps->len; i++) {
    const step *s = &g_array_index(steps, step, i);
    bool last = i + 1 == steps->len && s->select->len == 0;
    if (!cJSON_IsObject(cur)) {
      ok = nowhere(err, path, at->str, "not an object");
      break;
    }
    g_string_append_printf(at, ".%s", s->key);
    if (last) {
      cJSON *v = parse_value(value);
      if (cJSON_GetObjectItemCaseSensitive(cur, s->key))
        cJSON_ReplaceItemInObjectCaseSensitive(cur, s->key, v);
      else
        cJSON_AddItemToObject(cur, s->key, v);
      break;
    }
    cJSON *next = cJSON_GetObjectItemCaseSensitive(cur, s->key);
    if (!next && s->select->len == 0)
      next = cJSON_AddObjectToObject(cur, s->key);
    if (!next) {
      ok = nowhere(err, path, at->str, "no such key");
      break;
    }
    cur = next;
    for (guint j = 0; ok && j < s->select->len; j++) {
      const char *sel = s->select->pdata[j];
      if (!cJSON_IsArray(cur)) {
        ok = nowhere(err, path, at->str, "not an array");
        break;
      }
      cJSON *e = select_elem(cur, sel);
      if (!e) {
        g_string_append_printf(at, "[%s]", sel);
        ok = nowhere(err, path, at->str, "no element with that name, id, address or index");
        break;
      }
      g_string_append_printf(at, "[%s]", sel);
      cur = e;
    }
    if (ok && i + 1 == steps->len) /* the path ends in a selector: replace the element */
      ok = nowhere(err, path, at->str, "a path must end in a key");
  }
  g_string_free(at, TRUE);
  g_array_unref(steps);
  return ok;
}

bool scn_override_split(const char *arg, char **path, GPtrArray **values, GError **err) {
  /* The first '=' outside brackets ends the path. */
  const char *eq = NULL;
  int depth = 0;
  for (const char *p = arg; *p; p++) {
    if (*p == '[')
      depth++;
    else if (*p == ']' && depth > 0)
      depth--;
    else if (*p == '=' && depth == 0) {
      eq = p;
      break;
    }
  }
  if (!eq) {
    g_set_error(err, SCN_ERROR, 0, "\"%s\": expected PATH=VALUE[,VALUE...]", arg);
    return false;
  }
  char *pth = g_strndup(arg, (gsize)(eq - arg));
  if (!scn_override_check_path(pth, err)) {
    g_free(pth);
    return false;
  }
  GPtrArray *vals = g_ptr_array_new_with_free_func(g_free);
  const char *v = eq + 1, *start = v;
  int nest = 0;
  bool quoted = false;
  for (const char *p = v;; p++) {
    if (quoted) {
      if (*p == '\\' && p[1])
        p++;
      else if (*p == '"')
        quoted = false;
      else if (!*p)
        break;
      continue;
    }
    if (*p == '"')
      quoted = true;
    else if (*p == '[' || *p == '{')
      nest++;
    else if ((*p == ']' || *p == '}') && nest > 0)
      nest--;
    else if ((*p == ',' && nest == 0) || !*p) {
      if (p == start) {
        g_set_error(err, SCN_ERROR, 0, "\"%s\": an empty value", arg);
        g_ptr_array_unref(vals);
        g_free(pth);
        return false;
      }
      g_ptr_array_add(vals, g_strndup(start, (gsize)(p - start)));
      start = p + 1;
      if (!*p)
        break;
    }
  }
  if (quoted) {
    g_set_error(err, SCN_ERROR, 0, "\"%s\": a '\"' without its closing quote", arg);
    g_ptr_array_unref(vals);
    g_free(pth);
    return false;
  }
  *path = pth;
  *values = vals;
  return true;
}

scn_config *scn_override_load(const char *file, const char *json, size_t len,
                              const char *const *paths, const char *const *values, size_t n,
                              GError **err) {
  cJSON *root = cJSON_ParseWithLength(json, len);
  if (!root)
    return scn_parse(file, json, len, err); /* the loader reports where */
  for (size_t i = 0; i < n; i++) {
    if (!scn_override_apply(root, paths[i], values[i], err)) {
      cJSON_Delete(root);
      return NULL;
    }
  }
  char *text = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  scn_config *c = scn_parse(file, text, strlen(text), err);
  cJSON_free(text);
  return c;
}
