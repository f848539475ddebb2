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
  bool permanent; /* 5xx replies and MX records of other MTAs may be drawn */
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

static bool role_in(const char *role, const char *const *roles) {
  for (; *roles; roles++)
    if (strcmp(role, *roles) == 0)
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

/* Hosts whose role is one of ROLES, within the "hosts" key when given. */
static void role_targets(const scn_config *c, const scn_chaos *ch, const char *const *roles,
                         GPtrArray *out) {
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    if (role_in(h->role, roles) && (!ch || !ch->hosts || listed(ch->hosts, h->name)))
      g_ptr_array_add(out, g_strdup(h->name));
  }
}

static const char *const crash_roles[] = {"mta", "mailbox", "dns", "resolver", NULL};
static const char *const store_roles[] = {"mta", "mailbox", NULL};
static const char *const mta_roles[] = {"mta", NULL};

/* crash: the listed hosts whatever their role, else MTA, mailbox, DNS. */
static void host_targets(const scn_config *c, const scn_chaos *ch, GPtrArray *out) {
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    if (ch && ch->hosts ? listed(ch->hosts, h->name) : role_in(h->role, crash_roles))
      g_ptr_array_add(out, g_strdup(h->name));
  }
}

static void partition_targets(const scn_config *c, const scn_chaos *ch, GPtrArray *out) {
  role_targets(c, ch, crash_roles, out);
}
static void store_targets(const scn_config *c, const scn_chaos *ch, GPtrArray *out) {
  role_targets(c, ch, store_roles, out);
}
static void mta_targets(const scn_config *c, const scn_chaos *ch, GPtrArray *out) {
  role_targets(c, ch, mta_roles, out);
}
/* MTA and mailbox hosts serving something over TLS. */
static void tls_targets(const scn_config *c, const scn_chaos *ch, GPtrArray *out) {
  GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
  role_targets(c, ch, store_roles, all);
  for (guint i = 0; i < all->len; i++) {
    int h = scn_find_host(c, all->pdata[i]);
    if (h >= 0 && scn_tls_server(c, &g_array_index(c->hosts, scn_host, h)))
      g_ptr_array_add(out, g_strdup(all->pdata[i]));
  }
  g_ptr_array_unref(all);
}

/* Users keeping mail on host NAME. */
static void users_on(const scn_config *c, const char *name, GPtrArray *out) {
  for (guint i = 0; i < c->users->len; i++) {
    const scn_user *u = &g_array_index(c->users, scn_user, i);
    if (u->mailbox && strcmp(u->mailbox, name) == 0)
      g_ptr_array_add(out, u->address);
  }
}

static void mailbox_targets(const scn_config *c, const scn_chaos *ch, GPtrArray *out) {
  static const char *const roles[] = {"mailbox", NULL};
  GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
  role_targets(c, ch, roles, all);
  for (guint i = 0; i < all->len; i++) {
    GPtrArray *u = g_ptr_array_new();
    users_on(c, all->pdata[i], u);
    if (u->len)
      g_ptr_array_add(out, g_strdup(all->pdata[i]));
    g_ptr_array_unref(u);
  }
  g_ptr_array_unref(all);
}

/* ---- DNS names: the mail domains (MX queries) and the MX hosts' names
 * (their address queries), each answered by the servers of the most
 * specific zone holding it ---- */

static bool name_under(const char *name, const char *origin) {
  if (strcmp(origin, ".") == 0)
    return true;
  size_t n = strlen(name), o = strlen(origin);
  if (o > n || g_ascii_strcasecmp(name + n - o, origin) != 0)
    return false;
  return o == n || name[n - o - 1] == '.';
}

static void add_name(GPtrArray *out, const char *name) {
  char *fq = g_str_has_suffix(name, ".") ? g_strdup(name) : g_strconcat(name, ".", NULL);
  if (listed(out, fq))
    g_free(fq);
  else
    g_ptr_array_add(out, fq);
}

/* The mail domains (MTA "domains"); with HOSTS, also the names of the MX
 * hosts (MTA "hostname" of an "mx" MTA, its host name by default). */
static void dns_names(const scn_config *c, bool hosts, GPtrArray *out) {
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    if (strcmp(h->role, "mta") != 0)
      continue;
    for (guint k = 0; h->mta.domains && k < h->mta.domains->len; k++)
      add_name(out, h->mta.domains->pdata[k]);
  }
  for (guint i = 0; hosts && i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    if (strcmp(h->role, "mta") == 0 && h->mta.mx)
      add_name(out, h->mta.hostname ? h->mta.hostname : h->name);
  }
}

/* True if host H serves the most specific zone (among the zones some DNS
 * host serves) that holds NAME. */
static bool best_server(const scn_config *c, const scn_host *h, const char *name) {
  size_t best = 0;
  bool found = false, mine = false;
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *d = &g_array_index(c->hosts, scn_host, i);
    if (strcmp(d->role, "dns") != 0)
      continue;
    for (guint k = 0; d->zones && k < d->zones->len; k++) {
      const char *o = d->zones->pdata[k];
      size_t len = strcmp(o, ".") == 0 ? 0 : strlen(o);
      if (!name_under(name, o) || (found && len < best))
        continue;
      if (!found || len > best)
        mine = false;
      found = true;
      best = len;
      mine |= d == h;
    }
  }
  return mine;
}

/* The names of CANDIDATES that host NAME answers for (borrowed). */
static void names_served(const scn_config *c, const char *host, const GPtrArray *candidates,
                         GPtrArray *out) {
  int i = scn_find_host(c, host);
  const scn_host *h = &g_array_index(c->hosts, scn_host, i);
  for (guint k = 0; k < candidates->len; k++)
    if (best_server(c, h, candidates->pdata[k]))
      g_ptr_array_add(out, candidates->pdata[k]);
}

static void dns_targets_of(const scn_config *c, const scn_chaos *ch, bool hosts, GPtrArray *out) {
  static const char *const roles[] = {"dns", NULL};
  GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  role_targets(c, ch, roles, all);
  dns_names(c, hosts, names);
  for (guint i = 0; i < all->len; i++) {
    GPtrArray *mine = g_ptr_array_new();
    names_served(c, all->pdata[i], names, mine);
    if (mine->len)
      g_ptr_array_add(out, g_strdup(all->pdata[i]));
    g_ptr_array_unref(mine);
  }
  g_ptr_array_unref(names);
  g_ptr_array_unref(all);
}

static void dns_targets(const scn_config *c, const scn_chaos *ch, GPtrArray *out) {
  dns_targets_of(c, ch, true, out);
}
static void dns_mx_targets(const scn_config *c, const scn_chaos *ch, GPtrArray *out) {
  dns_targets_of(c, ch, false, out);
}

/* ---- the draws: each fills a fault's own fields (scn_fault.h) ---- */

typedef struct {
  const scn_config *c;
  const scn_chaos *ch;
  sim_rng *rng;
} draw_ctx;

static uint64_t pick(const draw_ctx *d, uint64_t n) { return sim_rng_below(d->rng, n); }

static bool fill_none(const draw_ctx *d, scn_fault *f) {
  (void)d, (void)f;
  return true;
}

/* One or two of the candidate hosts, cut from the rest. */
static bool fill_partition(const draw_ctx *d, scn_fault *f) {
  GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
  partition_targets(d->c, d->ch, all);
  f->hosts = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(f->hosts, f->target);
  f->target = NULL;
  if (all->len > 1 && pick(d, 2)) {
    const char *other = all->pdata[pick(d, all->len)];
    if (!listed(f->hosts, other))
      g_ptr_array_add(f->hosts, g_strdup(other));
  }
  g_ptr_array_unref(all);
  return true;
}

/* 50 ms to 2 s more one way. */
static bool fill_latency(const draw_ctx *d, scn_fault *f) {
  f->latency = sim_rng_range(d->rng, 50 * SIM_MS, 2 * SIM_S);
  return true;
}

/* 1 % to 30 % of the packets. */
static bool fill_loss(const draw_ctx *d, scn_fault *f) {
  f->loss_ppm = (uint32_t)sim_rng_range(d->rng, 10000, 300000);
  return true;
}

static bool fill_dns(const draw_ctx *d, scn_fault *f) {
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free), *mine = g_ptr_array_new();
  dns_names(d->c, true, names);
  names_served(d->c, f->target, names, mine);
  bool ok = mine->len > 0;
  if (ok) {
    f->name = g_strdup(mine->pdata[pick(d, mine->len)]);
    f->dns_answer = (scn_dns_answer)pick(d, SCN_DNS__COUNT);
  }
  g_ptr_array_unref(mine);
  g_ptr_array_unref(names);
  return ok;
}

/* The MX records of DOMAIN in the scenario's zones: "PREF EXCHANGE." */
static void mx_of(const scn_config *c, const char *domain, GPtrArray *out) {
  for (guint i = 0; i < c->zones->len; i++) {
    const scn_zone *z = &g_array_index(c->zones, scn_zone, i);
    if (!name_under(domain, z->origin))
      continue;
    for (guint k = 0; k < z->records->len; k++) {
      char **t = g_strsplit_set(z->records->pdata[k], " \t", 0);
      GPtrArray *tok = g_ptr_array_new();
      for (char **p = t; *p; p++)
        if (**p)
          g_ptr_array_add(tok, *p);
      char *owner = NULL;
      if (tok->len >= 3) {
        const char *o = tok->pdata[0];
        owner = strcmp(o, "@") == 0        ? g_strdup(z->origin)
                : g_str_has_suffix(o, ".") ? g_strdup(o)
                                           : g_strconcat(o, ".", z->origin, NULL);
      }
      for (guint j = 1; owner && j <= 3 && j + 2 < tok->len; j++) {
        if (g_ascii_strcasecmp(tok->pdata[j], "MX") != 0)
          continue;
        if (g_ascii_strcasecmp(owner, domain) == 0) {
          const char *ex = tok->pdata[j + 2];
          g_ptr_array_add(out, g_str_has_suffix(ex, ".") ? g_strdup(ex)
                                                         : g_strconcat(ex, ".", z->origin, NULL));
        }
        break;
      }
      g_free(owner);
      g_ptr_array_unref(tok);
      g_strfreev(t);
    }
  }
}

/* A wrong or stale MX for a mail domain: the domain's own MX hosts in
 * another order (the backup first), or an MX host that no longer exists;
 * with "permanent", also another MTA's name (which refuses to relay). */
static bool fill_dns_mx(const draw_ctx *d, scn_fault *f) {
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free), *mine = g_ptr_array_new();
  dns_names(d->c, false, names);
  names_served(d->c, f->target, names, mine);
  bool ok = mine->len > 0;
  if (ok) {
    f->name = g_strdup(mine->pdata[pick(d, mine->len)]);
    f->ttl = (uint32_t)sim_rng_range(d->rng, 60, 300);
    f->records = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *own = g_ptr_array_new_with_free_func(g_free);
    mx_of(d->c, f->name, own);
    GPtrArray *other = g_ptr_array_new_with_free_func(g_free);
    if (d->ch && d->ch->permanent) {
      dns_names(d->c, true, other);
      for (guint i = other->len; i-- > 0;) {
        const char *n = other->pdata[i];
        bool mx_host = !listed(own, n);
        for (guint k = 0; mx_host && k < names->len; k++)
          mx_host = strcmp(n, names->pdata[k]) != 0; /* not a mail domain */
        if (!mx_host)
          g_ptr_array_remove_index(other, i);
      }
    }
    uint64_t how = pick(d, other->len ? 3 : 2);
    if (how == 0 && own->len > 1) { /* reversed: the backup first */
      for (guint i = 0; i < own->len; i++)
        g_ptr_array_add(f->records, g_strdup_printf("%u %s", 10 * (i + 1),
                                                    (const char *)own->pdata[own->len - 1 - i]));
    } else if (how == 2) {
      g_ptr_array_add(f->records,
                      g_strdup_printf("10 %s", (const char *)other->pdata[pick(d, other->len)]));
    } else {
      g_ptr_array_add(f->records, g_strdup_printf("10 old-mx.%s", f->name));
    }
    g_ptr_array_unref(other);
    g_ptr_array_unref(own);
  }
  g_ptr_array_unref(mine);
  g_ptr_array_unref(names);
  return ok;
}

/* Attempts: every match (a third), or from the 1st-3rd to 0-3 later. */
static void draw_attempts(const draw_ctx *d, scn_fault *f) {
  if (pick(d, 3) == 0)
    return;
  f->attempt_from = 1 + (uint32_t)pick(d, 3);
  f->attempt_to = f->attempt_from + (uint32_t)pick(d, 4);
}

/* A recipient rule: none, a user's local part, or a user's domain; the
 * user is one of the target MTA's own domains when it has any (an MX
 * sees those recipients), else any user. */
static char *draw_rcpt(const draw_ctx *d, const char *target) {
  uint64_t how = pick(d, 3);
  if (how == 0 || !d->c->users->len)
    return NULL;
  const scn_host *h = &g_array_index(d->c->hosts, scn_host, scn_find_host(d->c, target));
  GPtrArray *mine = g_ptr_array_new();
  for (guint i = 0; i < d->c->users->len; i++) {
    const char *a = g_array_index(d->c->users, scn_user, i).address;
    const char *at = strrchr(a, '@');
    if (at && h->mta.domains && listed(h->mta.domains, at + 1))
      g_ptr_array_add(mine, (char *)a);
  }
  const char *a = mine->len
                      ? mine->pdata[pick(d, mine->len)]
                      : g_array_index(d->c->users, scn_user, pick(d, d->c->users->len)).address;
  g_ptr_array_unref(mine);
  const char *at = strrchr(a, '@');
  if (!at)
    return NULL;
  return how == 1 ? g_strndup(a, (gsize)(at - a + 1)) : g_strdup(at);
}

static const struct {
  int code;
  const char *esc, *text;
  bool connect; /* only as a greeting */
} replies[] = {
    {421, "4.3.2", "Service not available, closing transmission channel", true},
    {450, "4.2.0", "Mailbox unavailable", false},
    {451, "4.3.0", "Local error in processing", false},
    {452, "4.3.1", "Insufficient system storage", false},
    {550, "5.7.1", "Delivery not authorized", false},
    {554, "5.0.0", "Transaction failed", false},
};

/* A stage; a 4xx reply (one in four a 5xx when "permanent" allows it);
 * a recipient rule at RCPT and after; attempts. */
static bool fill_smtp_reply(const draw_ctx *d, scn_fault *f) {
  f->stage = (scn_smtp_stage)pick(d, SCN_SMTP_STAGE__COUNT);
  bool perm = d->ch && d->ch->permanent && pick(d, 4) == 0;
  size_t r;
  if (perm)
    r = 4 + pick(d, 2);
  else if (f->stage == SCN_SMTP_STAGE_CONNECT)
    r = pick(d, 2) ? 0 : 1 + pick(d, 3);
  else
    r = 1 + pick(d, 3);
  f->reply_code = replies[r].code;
  f->reply_esc = g_strdup(replies[r].esc);
  f->reply_text = g_strdup(replies[r].text);
  if (f->stage >= SCN_SMTP_STAGE_RCPT)
    f->rcpt = draw_rcpt(d, f->target);
  draw_attempts(d, f);
  return true;
}

/* A greeting held 5 s to 6 min (the client waits 5 min: RFC 5321
 * §4.5.3.2.1). */
static bool fill_tarpit(const draw_ctx *d, scn_fault *f) {
  f->delay = sim_rng_range(d->rng, 5 * SIM_S, 6 * 60 * SIM_S);
  return true;
}

static bool fill_cut(const draw_ctx *d, scn_fault *f) {
  f->rcpt = draw_rcpt(d, f->target);
  draw_attempts(d, f);
  return true;
}

static bool fill_tls(const draw_ctx *d, scn_fault *f) {
  f->tls_failure = (scn_tls_failure)pick(d, SCN_TLS__COUNT);
  return true;
}

static bool fill_mailbox_full(const draw_ctx *d, scn_fault *f) {
  GPtrArray *u = g_ptr_array_new();
  users_on(d->c, f->target, u);
  if (u->len)
    f->user = g_strdup(u->pdata[pick(d, u->len)]);
  g_ptr_array_unref(u);
  return f->user != NULL;
}

/* One row per fault kind: its name, the scn_fault it makes, the targets
 * it may hit and the draw of its own fields (after target and window). */
static const struct {
  const char *name;
  scn_fault_kind kind;
  void (*targets)(const scn_config *c, const scn_chaos *ch, GPtrArray *out);
  bool (*fill)(const draw_ctx *d, scn_fault *f);
} kinds[] = {
    {"link_down", SCN_FAULT_LINK_DOWN, link_targets, fill_none},
    {"crash", SCN_FAULT_CRASH, host_targets, fill_none},
    {"partition", SCN_FAULT_PARTITION, partition_targets, fill_partition},
    {"latency", SCN_FAULT_LATENCY, link_targets, fill_latency},
    {"loss", SCN_FAULT_LOSS, link_targets, fill_loss},
    {"disk_full", SCN_FAULT_DISK_FULL, store_targets, fill_none},
    {"mailbox_full", SCN_FAULT_MAILBOX_FULL, mailbox_targets, fill_mailbox_full},
    {"dns", SCN_FAULT_DNS, dns_targets, fill_dns},
    {"dns_mx", SCN_FAULT_DNS_MX, dns_mx_targets, fill_dns_mx},
    {"smtp_reply", SCN_FAULT_SMTP_REPLY, mta_targets, fill_smtp_reply},
    {"tarpit", SCN_FAULT_TARPIT, mta_targets, fill_tarpit},
    {"cut_after_dot", SCN_FAULT_CUT_AFTER_DOT, mta_targets, fill_cut},
    {"tls", SCN_FAULT_TLS, tls_targets, fill_tls},
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
  static const char *const keys[] = {"kinds",      "links", "hosts",     "window", "max_length",
                                     "max_faults", "drain", "permanent", NULL};
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
    if (!known) {
      GString *all = g_string_new(NULL);
      for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++)
        g_string_append_printf(all, "%s%s", k ? ", " : "", kinds[k].name);
      scn_json_fail(x, path, "\"kinds\": unknown fault kind \"%s\" (expected: %s)",
                    (const char *)ch->kinds->pdata[i], all->str);
      g_string_free(all, TRUE);
    }
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
           scn_json_int(x, o, path, "max_faults", false, 1, 100, &ch->max_faults) &&
           scn_json_bool(x, o, path, "permanent", false, &ch->permanent));
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
  for (size_t i = 0; i < scn_msgs_count(c->messages); i++)
    last = MAX(last, scn_msgs_at(c->messages, i)->at);
  return last >= 0 ? MIN(w, last + DEFAULT_AFTER_MAIL) : w;
}

/* Link parameter faults restore the scenario's parameters when they end,
 * and up/down faults set a link's state: such faults on one link (or any
 * link, for partitions) must not overlap, or one would heal the other. */
static bool link_params(scn_fault_kind k) { return k == SCN_FAULT_LATENCY || k == SCN_FAULT_LOSS; }
static bool link_state(scn_fault_kind k) {
  return k == SCN_FAULT_LINK_DOWN || k == SCN_FAULT_PARTITION;
}

/* Whether F may not share its window with G: the same kind on the same
 * target (one window at a time: each fault's end switches its state off),
 * two link parameter faults on one link, a partition and any other
 * up/down fault. Different kinds on one host may overlap. */
static bool clash(const scn_fault *f, const scn_fault *g) {
  if (!(f->at < g->until && g->at < f->until))
    return false;
  if (link_state(f->kind) && link_state(g->kind) &&
      (f->kind == SCN_FAULT_PARTITION || g->kind == SCN_FAULT_PARTITION))
    return true;
  if (!f->target || !g->target || strcmp(f->target, g->target) != 0)
    return false;
  return f->kind == g->kind || (link_params(f->kind) && link_params(g->kind));
}

static bool conflicts(const scn_config *c, const scn_fault *f) {
  for (guint i = 0; i < c->faults->len; i++)
    if (clash(f, &g_array_index(c->faults, scn_fault, i)))
      return true;
  return false;
}

/* "smtp_reply mx1.example.org 3m .. 9m rcpt 451 bob@ attempts 1-2". */
static void describe(GString *s, const char *name, const scn_fault *f) {
  char b1[SIM_TIME_BUFSZ], b2[SIM_TIME_BUFSZ];
  g_string_append_printf(s, "%s ", name);
  if (f->hosts)
    for (guint i = 0; i < f->hosts->len; i++)
      g_string_append_printf(s, "%s%s", i ? "+" : "", (const char *)f->hosts->pdata[i]);
  else
    g_string_append(s, f->target);
  g_string_append_printf(s, " %s .. %s", sim_time_format_short(f->at, b1),
                         sim_time_format_short(f->until, b2));
  switch (f->kind) {
  case SCN_FAULT_LATENCY:
    g_string_append_printf(s, " +%s", sim_time_format_short(f->latency, b1));
    break;
  case SCN_FAULT_LOSS:
    g_string_append_printf(s, " %u.%u%%", f->loss_ppm / 10000, f->loss_ppm / 1000 % 10);
    break;
  case SCN_FAULT_MAILBOX_FULL:
    g_string_append_printf(s, " %s", f->user);
    break;
  case SCN_FAULT_DNS:
    g_string_append_printf(s, " %s %s", f->name, scn_dns_answer_name(f->dns_answer));
    break;
  case SCN_FAULT_DNS_MX:
    g_string_append_printf(s, " %s ttl %u", f->name, f->ttl);
    for (guint i = 0; i < f->records->len; i++)
      g_string_append_printf(s, "%s%s", i ? ", " : " MX ", (const char *)f->records->pdata[i]);
    break;
  case SCN_FAULT_SMTP_REPLY:
    g_string_append_printf(s, " %s %d", scn_smtp_stage_name(f->stage), f->reply_code);
    break;
  case SCN_FAULT_TARPIT:
    g_string_append_printf(s, " %s", sim_time_format_short(f->delay, b1));
    break;
  case SCN_FAULT_TLS:
    g_string_append_printf(s, " %s", scn_tls_failure_name(f->tls_failure));
    break;
  default:
    break;
  }
  if (f->rcpt)
    g_string_append_printf(s, " rcpt %s", f->rcpt);
  if (f->attempt_from)
    g_string_append_printf(s, " attempts %u-%u", f->attempt_from, f->attempt_to);
  g_string_append_c(s, '\n');
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
    draw_ctx d = {c, ch, &rng};
    for (uint64_t i = 0; i < n && targets->len; i++) {
      const char *target = targets->pdata[sim_rng_below(&rng, targets->len)];
      sim_time len = sim_rng_range(&rng, SIM_S, MAX(max_len, SIM_S));
      sim_time at = sim_rng_range(&rng, 0, window - SIM_S);
      sim_time until = MIN(at + len, window);
      if (until <= at)
        continue;
      scn_fault f;
      scn_fault_init(&f, kinds[k].kind, target, at, until);
      /* The kind's own fields, then: one window at a time per target, and
       * only faults the loader would take (the draw uses the scenario's
       * own names, so a refusal means a target the kind cannot use). */
      if (!kinds[k].fill(&d, &f) || conflicts(c, &f) || !scn_fault_check(c, &f, NULL, NULL)) {
        scn_fault_clear(&f);
        continue;
      }
      g_array_append_val(c->faults, f);
      drawn++;
      if (faults)
        describe(faults, kinds[k].name, &f);
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
