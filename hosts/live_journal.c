/* live_journal.c — writes and reads the journal of a live session (format:
 * traces/JOURNAL.md). JSON Lines with a fixed key order; bytes in base64
 * (RFC 4648 §4) so any octet survives; numbers are integers.
 */
#include "live_journal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define JOURNAL_ERROR (g_quark_from_static_string("live-journal"))

static const char *const kind_names[LIVE_IN_COUNT] = {"open",  "data",  "shut",
                                                      "abort", "dgram", "end"};

const char *live_in_kind_name(live_in_kind k) {
  g_assert((unsigned)k < LIVE_IN_COUNT);
  return kind_names[k];
}

void live_journal_header_clear(live_journal_header *h) {
  g_free(h->scenario_file);
  g_free(h->scenario);
  g_free(h->detail);
  if (h->gateways)
    g_ptr_array_unref(h->gateways);
  memset(h, 0, sizeof *h);
}

struct live_journal {
  FILE *f;
  char *path;
  bool failed;
};

static void put_str(GString *out, const char *key, const char *s) {
  cJSON *v = cJSON_CreateString(s);
  char *txt = cJSON_PrintUnformatted(v);
  g_string_append_printf(out, "\"%s\":%s", key, txt);
  cJSON_free(txt);
  cJSON_Delete(v);
}

live_journal *live_journal_create(const char *path, const live_journal_header *h, GError **err) {
  FILE *f = fopen(path, "w");
  if (!f) {
    g_set_error(err, JOURNAL_ERROR, 1, "%s: %s", path, g_strerror(errno));
    return NULL;
  }
  live_journal *j = g_new0(live_journal, 1);
  j->f = f;
  j->path = g_strdup(path);
  GString *l = g_string_new("{\"format\":\"" LIVE_JOURNAL_FORMAT "\",");
  g_string_append_printf(l, "\"version\":%d,", LIVE_JOURNAL_VERSION);
  put_str(l, "scenario_file", h->scenario_file);
  g_string_append_c(l, ',');
  put_str(l, "scenario", h->scenario);
  g_string_append_printf(l, ",\"seed\":%" PRIu64 ",", h->seed);
  put_str(l, "detail", h->detail);
  g_string_append(l, ",\"gateways\":[");
  for (guint i = 0; i < h->gateways->len; i++) {
    cJSON *v = cJSON_CreateString(h->gateways->pdata[i]);
    char *txt = cJSON_PrintUnformatted(v);
    g_string_append_printf(l, "%s%s", i ? "," : "", txt);
    cJSON_free(txt);
    cJSON_Delete(v);
  }
  g_string_append(l, "]}\n");
  if (fputs(l->str, f) == EOF || fflush(f) != 0)
    j->failed = true;
  g_string_free(l, TRUE);
  return j;
}

void live_journal_write(live_journal *j, const live_input *in) {
  GString *l = g_string_new(NULL);
  g_string_append_printf(l, "{\"t\":%" PRId64 ",\"in\":\"%s\",\"id\":%" PRIu64, in->t,
                         live_in_kind_name(in->kind), in->id);
  if (in->kind == LIVE_IN_OPEN || in->kind == LIVE_IN_DGRAM)
    g_string_append_printf(l, ",\"gw\":%u,\"port\":%u", in->gw, in->port);
  if (in->kind == LIVE_IN_DATA || in->kind == LIVE_IN_DGRAM) {
    char *b = g_base64_encode(in->buf, in->len);
    g_string_append_printf(l, ",\"b64\":\"%s\"", b);
    g_free(b);
  }
  g_string_append(l, "}\n");
  if (fputs(l->str, j->f) == EOF || fflush(j->f) != 0)
    j->failed = true;
  g_string_free(l, TRUE);
}

bool live_journal_close(live_journal *j, GError **err) {
  bool ok = !j->failed;
  if (fclose(j->f) != 0)
    ok = false;
  if (!ok)
    g_set_error(err, JOURNAL_ERROR, 1, "%s: write failed", j->path);
  g_free(j->path);
  g_free(j);
  return ok;
}

struct live_journal_reader {
  FILE *f;
  char *path;
  unsigned line;
  char *buf;
  size_t cap;
  guchar *bytes;
};

static bool read_line(live_journal_reader *r) {
  ssize_t n = getline(&r->buf, &r->cap, r->f);
  if (n <= 0)
    return false;
  r->line++;
  return true;
}

static const cJSON *need(const cJSON *o, const char *key, bool str) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!v || (str ? !cJSON_IsString(v) : !cJSON_IsNumber(v)))
    return NULL;
  return v;
}

live_journal_reader *live_journal_open(const char *path, live_journal_header *h, GError **err) {
  memset(h, 0, sizeof *h);
  FILE *f = fopen(path, "r");
  if (!f) {
    g_set_error(err, JOURNAL_ERROR, 1, "%s: %s", path, g_strerror(errno));
    return NULL;
  }
  live_journal_reader *r = g_new0(live_journal_reader, 1);
  r->f = f;
  r->path = g_strdup(path);
  cJSON *o = read_line(r) ? cJSON_Parse(r->buf) : NULL;
  const cJSON *fmt = o ? need(o, "format", true) : NULL;
  const cJSON *ver = o ? need(o, "version", false) : NULL;
  const cJSON *file = o ? need(o, "scenario_file", true) : NULL;
  const cJSON *scn = o ? need(o, "scenario", true) : NULL;
  const cJSON *seed = o ? need(o, "seed", false) : NULL;
  const cJSON *det = o ? need(o, "detail", true) : NULL;
  const cJSON *gws = o ? cJSON_GetObjectItemCaseSensitive(o, "gateways") : NULL;
  const char *why = NULL;
  if (!fmt || strcmp(fmt->valuestring, LIVE_JOURNAL_FORMAT) != 0)
    why = "line 1: not a mailsim journal (expected \"format\":\"" LIVE_JOURNAL_FORMAT "\")";
  else if (!ver || ver->valuedouble != LIVE_JOURNAL_VERSION)
    why = "line 1: unknown journal version (expected 1)";
  else if (!file || !scn || !seed || !det || !cJSON_IsArray(gws) || seed->valuedouble < 0)
    why = "line 1: header needs scenario_file, scenario, seed, detail and gateways";
  if (!why) {
    /* The seed may exceed 2^53: read it from the text, not the double. */
    const char *p = strstr(r->buf, "\"seed\":");
    h->seed = p ? g_ascii_strtoull(p + 7, NULL, 10) : 0;
    h->scenario_file = g_strdup(file->valuestring);
    h->scenario = g_strdup(scn->valuestring);
    h->detail = g_strdup(det->valuestring);
    h->gateways = g_ptr_array_new_with_free_func(g_free);
    const cJSON *g;
    cJSON_ArrayForEach(g, gws) {
      if (!cJSON_IsString(g)) {
        why = "line 1: gateways: expected an array of host names";
        break;
      }
      g_ptr_array_add(h->gateways, g_strdup(g->valuestring));
    }
  }
  cJSON_Delete(o);
  if (why) {
    g_set_error(err, JOURNAL_ERROR, 1, "%s: %s", path, why);
    live_journal_header_clear(h);
    live_journal_reader_free(r);
    return NULL;
  }
  return r;
}

int live_journal_next(live_journal_reader *r, live_input *in, GError **err) {
  memset(in, 0, sizeof *in);
  g_free(r->bytes);
  r->bytes = NULL;
  if (!read_line(r))
    return 0;
  cJSON *o = cJSON_Parse(r->buf);
  const char *why = NULL;
  const cJSON *t = o ? need(o, "t", false) : NULL;
  const cJSON *kind = o ? need(o, "in", true) : NULL;
  const cJSON *id = o ? need(o, "id", false) : NULL;
  if (!t || !kind || !id || t->valuedouble < 0 || id->valuedouble < 0) {
    why = "expected {\"t\":NS,\"in\":KIND,\"id\":N,...}";
  } else {
    in->t = (sim_time)t->valuedouble;
    in->id = (uint64_t)id->valuedouble;
    in->kind = LIVE_IN_COUNT;
    for (int k = 0; k < LIVE_IN_COUNT; k++)
      if (!strcmp(kind->valuestring, kind_names[k]))
        in->kind = (live_in_kind)k;
    if (in->kind == LIVE_IN_COUNT)
      why = "\"in\": expected open, data, shut, abort, dgram or end";
  }
  if (!why && (in->kind == LIVE_IN_OPEN || in->kind == LIVE_IN_DGRAM)) {
    const cJSON *gw = need(o, "gw", false), *port = need(o, "port", false);
    if (!gw || !port || gw->valuedouble < 0 || port->valuedouble < 0 || port->valuedouble > 65535)
      why = "open and dgram need \"gw\" and \"port\"";
    else
      in->gw = (uint32_t)gw->valuedouble, in->port = (uint16_t)port->valuedouble;
  }
  if (!why && (in->kind == LIVE_IN_DATA || in->kind == LIVE_IN_DGRAM)) {
    const cJSON *b = need(o, "b64", true);
    if (!b) {
      why = "data and dgram need \"b64\"";
    } else {
      gsize n = 0;
      r->bytes = g_base64_decode(b->valuestring, &n);
      in->buf = r->bytes;
      in->len = n;
    }
  }
  cJSON_Delete(o);
  if (why) {
    g_set_error(err, JOURNAL_ERROR, 1, "%s:%u: %s", r->path, r->line, why);
    return -1;
  }
  return 1;
}

void live_journal_reader_free(live_journal_reader *r) {
  if (!r)
    return;
  fclose(r->f);
  free(r->buf);
  g_free(r->bytes);
  g_free(r->path);
  g_free(r);
}
