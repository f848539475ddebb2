/* scn_chaos.c — the fault space of a scenario and its swarm draw (see
 * scn_chaos.h). All randomness comes from the seed's own named stream
 * ("chaos"), independent of the streams the run itself uses, so a seed's
 * schedule is a function of (scenario, seed) only. */
#include "scn_chaos.h"

#include <inttypes.h>
#include <string.h>

#include "sim_rng.h"

struct scn_chaos {
  GPtrArray *kinds, *links, *hosts; /* char*, or NULL: the defaults */
  sim_time window, max_length, drain;
  int64_t max_faults;
};

void scn_chaos_free(scn_chaos *ch) {
  if (!ch)
    return;
  if (ch->kinds)
    g_ptr_array_unref(ch->kinds);
  if (ch->links)
    g_ptr_array_unref(ch->links);
  if (ch->hosts)
    g_ptr_array_unref(ch->hosts);
  g_free(ch);
}

/* ---- the kinds ---- */

static char *link_name(const scn_link *l) { return g_strdup_printf("%s-%s", l->a, l->b); }

static bool listed(const GPtrArray *v, const char *name) {
  for (guint i = 0; v && i < v->len; i++)
    if (strcmp(v->pdata[i], name) == 0)
      return true;
  return false;
}

static void link_targets(const scn_config *c, const scn_chaos *ch, GPtrArray *out) {
  for (guint i = 0; i < c->links->len; i++) {
    char *n = link_name(&g_array_index(c->links, scn_link, i));
    if (!ch || !ch->links || listed(ch->links, n))
      g_ptr_array_add(out, n);
    else
      g_free(n);
  }
}

static bool crashable_role(const char *role) {
  static const char *const roles[] = {"mta", "mailbox", "dns", "resolver"};
  for (size_t i = 0; i < G_N_ELEMENTS(roles); i++)
    if (strcmp(role, roles[i]) == 0)
      return true;
  return false;
}

static void host_targets(const scn_config *c, const scn_chaos *ch, GPtrArray *out) {
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    if (ch && ch->hosts ? listed(ch->hosts, h->name) : crashable_role(h->role))
      g_ptr_array_add(out, g_strdup(h->name));
  }
}

/* One row per fault kind: its name, the scn_fault it makes and the
 * targets it may hit. */
static const struct {
  const char *name;
  scn_fault_kind kind;
  void (*targets)(const scn_config *c, const scn_chaos *ch, GPtrArray *out);
} kinds[] = {
    {"link_down", SCN_FAULT_LINK_DOWN, link_targets},
    {"crash", SCN_FAULT_CRASH, host_targets},
};

const char *const *scn_chaos_kind_names(void) {
  static const char *names[G_N_ELEMENTS(kinds) + 1];
  for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++)
    names[i] = kinds[i].name;
  return names;
}

/* ---- the "chaos" key ---- */

static GPtrArray *string_list(scn_json_ctx *x, const cJSON *obj, const char *path,
                              const char *key) {
  const cJSON *arr;
  if (!scn_json_array(x, obj, path, key, false, &arr) || !arr)
    return NULL;
  GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
  int i = 0;
  for (const cJSON *it = arr->child; it; it = it->next, i++) {
    if (!cJSON_IsString(it)) {
      char *p = scn_json_index_path(path, i);
      scn_json_fail(x, p, "expected a string in \"%s\"", key);
      g_free(p);
      break;
    }
    g_ptr_array_add(v, g_strdup(it->valuestring));
  }
  return v;
}

void scn_chaos_load(scn_json_ctx *x, scn_config *c, const cJSON *root) {
  static const char *const keys[] = {"kinds",      "links",      "hosts", "window",
                                     "max_length", "max_faults", "drain", NULL};
  const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "chaos");
  if (!o || !scn_json_ok(x))
    return;
  const char *path = "$.chaos";
  if (!cJSON_IsObject(o)) {
    scn_json_fail(x, path, "expected an object");
    return;
  }
  if (!scn_json_known_keys(x, o, path, keys))
    return;
  scn_chaos *ch = g_new0(scn_chaos, 1);
  c->chaos = ch;
  ch->max_faults = 3;
  ch->kinds = string_list(x, o, path, "kinds");
  ch->links = string_list(x, o, path, "links");
  ch->hosts = string_list(x, o, path, "hosts");
  for (guint i = 0; ch->kinds && i < ch->kinds->len && scn_json_ok(x); i++) {
    bool known = false;
    for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++)
      known |= strcmp(ch->kinds->pdata[i], kinds[k].name) == 0;
    if (!known)
      scn_json_fail(x, path, "\"kinds\": unknown fault kind \"%s\" (expected: link_down, crash)",
                    (const char *)ch->kinds->pdata[i]);
  }
  for (guint i = 0; ch->links && i < ch->links->len && scn_json_ok(x); i++) {
    GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
    link_targets(c, NULL, all);
    if (!listed(all, ch->links->pdata[i]))
      scn_json_fail(x, path, "\"links\": no link named \"%s\" (links are named \"a-b\")",
                    (const char *)ch->links->pdata[i]);
    g_ptr_array_unref(all);
  }
  for (guint i = 0; ch->hosts && i < ch->hosts->len && scn_json_ok(x); i++)
    if (scn_find_host(c, ch->hosts->pdata[i]) < 0)
      scn_json_fail(x, path, "\"hosts\": no host named \"%s\"", (const char *)ch->hosts->pdata[i]);
  if (scn_json_ok(x))
    (void)(scn_json_duration(x, o, path, "window", false, &ch->window) &&
           scn_json_duration(x, o, path, "max_length", false, &ch->max_length) &&
           scn_json_duration(x, o, path, "drain", false, &ch->drain) &&
           scn_json_int(x, o, path, "max_faults", false, 1, 100, &ch->max_faults));
}

/* ---- the draw ---- */

/* Default drain: twice the longest postfix retry wait (4600 s) and a
 * quarter of an hour, rounded up: long enough for the liveness check
 * (traces/CHECK.md) to apply to every message queued during the window. */
#define DEFAULT_DRAIN (3 * 3600 * SIM_S)

/* Faults matter while mail is in flight: by default the window is the
 * first half of the run, and no longer than DEFAULT_AFTER_MAIL past the
 * last message the scenario sends (its first queueing, greylisting and
 * retry). With the journey, an MTA that forgets its queue on a crash is
 * caught in 9 of seeds 1-200 this way, in 1 of 200 with the whole first
 * hour. */
#define DEFAULT_AFTER_MAIL (15 * 60 * SIM_S)

static sim_time default_window(const scn_config *c) {
  sim_time w = c->duration != SIM_TIME_NEVER ? c->duration / 2 : 3600 * SIM_S;
  sim_time last = -1;
  for (guint i = 0; i < c->messages->len; i++)
    last = MAX(last, g_array_index(c->messages, scn_message, i).at);
  return last >= 0 ? MIN(w, last + DEFAULT_AFTER_MAIL) : w;
}

static bool overlaps(const scn_config *c, const char *target, sim_time at, sim_time until) {
  for (guint i = 0; i < c->faults->len; i++) {
    const scn_fault *f = &g_array_index(c->faults, scn_fault, i);
    if (g_strcmp0(f->target, target) == 0 && at < f->until && f->at < until)
      return true;
  }
  return false;
}

size_t scn_chaos_draw(scn_config *c, uint64_t seed, GString *kinds_out, GString *faults) {
  const scn_chaos *ch = c->chaos;
  sim_time window = ch && ch->window ? ch->window : default_window(c);
  if (window < 2 * SIM_S)
    window = 2 * SIM_S;
  sim_time max_len = ch && ch->max_length ? ch->max_length : window / 2;
  sim_time drain = ch && ch->drain ? ch->drain : DEFAULT_DRAIN;
  int64_t max_faults = ch ? ch->max_faults : 3;
  /* Heal the scenario's own faults by the end of the window. */
  for (guint i = 0; i < c->faults->len; i++) {
    scn_fault *f = &g_array_index(c->faults, scn_fault, i);
    if (f->until == SIM_TIME_NEVER)
      f->until = MAX(window, f->at + SIM_S);
  }
  sim_rng rng;
  sim_rng_init(&rng, seed, "chaos");
  size_t total = 0;
  for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
    /* Swarm: each kind on or off, and its rate, from the seed. */
    bool on = sim_rng_below(&rng, 2) == 1;
    uint64_t n = 1 + sim_rng_below(&rng, (uint64_t)max_faults);
    if (!on || (ch && ch->kinds && !listed(ch->kinds, kinds[k].name)))
      continue;
    GPtrArray *targets = g_ptr_array_new_with_free_func(g_free);
    kinds[k].targets(c, ch, targets);
    size_t drawn = 0;
    for (uint64_t i = 0; i < n && targets->len; i++) {
      const char *target = targets->pdata[sim_rng_below(&rng, targets->len)];
      sim_time len = sim_rng_range(&rng, SIM_S, MAX(max_len, SIM_S));
      sim_time at = sim_rng_range(&rng, 0, window - SIM_S);
      sim_time until = MIN(at + len, window);
      if (until <= at || overlaps(c, target, at, until))
        continue; /* one fault at a time per target */
      scn_fault f;
      scn_fault_init(&f, kinds[k].kind, target, at, until);
      g_array_append_val(c->faults, f);
      drawn++;
      if (faults) {
        char b1[SIM_TIME_BUFSZ], b2[SIM_TIME_BUFSZ];
        g_string_append_printf(faults, "%s %s %s .. %s\n", kinds[k].name, target,
                               sim_time_format_short(at, b1), sim_time_format_short(until, b2));
      }
    }
    g_ptr_array_unref(targets);
    if (drawn && kinds_out)
      g_string_append_printf(kinds_out, "%s%s:%zu", kinds_out->len ? " " : "", kinds[k].name,
                             drawn);
    total += drawn;
  }
  if (kinds_out && !kinds_out->len)
    g_string_append(kinds_out, "-");
  sim_time end = window + drain;
  if (c->duration == SIM_TIME_NEVER || c->duration < end)
    c->duration = end;
  return total;
}
