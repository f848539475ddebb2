/* scn_fault.c — reading and checking a scenario's faults: one row per kind
 * (its JSON name, the keys it takes, its parser), a common check of targets
 * and windows used by the loader and by programs that build faults (the
 * chaos command).
 *
 * Reply codes follow RFC 5321 §4.2 (a 4xx or 5xx reply, three digits, a
 * space, text) and RFC 3463 (an enhanced status code "class.subject.detail"
 * whose class matches the reply's first digit, RFC 2034 §4).
 */
#include "scn_fault.h"

#include <string.h>

#include "scn.h"

static const char *const kind_names[SCN_FAULT_COUNT] = {
    "link_down", "crash",      "partition", "latency",       "loss", "disk_full",   "dns",
    "dns_mx",    "smtp_reply", "tarpit",    "cut_after_dot", "tls",  "mailbox_full"};

const char *scn_fault_kind_name(scn_fault_kind k) {
  g_assert((unsigned)k < SCN_FAULT_COUNT);
  return kind_names[k];
}

bool scn_fault_kind_parse(const char *name, scn_fault_kind *out) {
  for (int i = 0; i < SCN_FAULT_COUNT; i++)
    if (strcmp(name, kind_names[i]) == 0) {
      *out = (scn_fault_kind)i;
      return true;
    }
  return false;
}

static const char *const dns_names[SCN_DNS__COUNT] = {"servfail", "nxdomain", "timeout"};
const char *scn_dns_answer_name(scn_dns_answer a) {
  g_assert((unsigned)a < SCN_DNS__COUNT);
  return dns_names[a];
}

static const char *const stage_names[SCN_SMTP_STAGE__COUNT] = {"connect", "helo", "mail", "rcpt",
                                                               "dot"};
const char *scn_smtp_stage_name(scn_smtp_stage s) {
  g_assert((unsigned)s < SCN_SMTP_STAGE__COUNT);
  return stage_names[s];
}

static const char *const tls_names[SCN_TLS__COUNT] = {"cert_mismatch", "handshake"};
const char *scn_tls_failure_name(scn_tls_failure f) {
  g_assert((unsigned)f < SCN_TLS__COUNT);
  return tls_names[f];
}

static int name_index(const char *const *names, int n, const char *s) {
  for (int i = 0; i < n; i++)
    if (g_ascii_strcasecmp(names[i], s) == 0)
      return i;
  return -1;
}

void scn_fault_init(scn_fault *f, scn_fault_kind kind, const char *target, sim_time at,
                    sim_time until) {
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->target = g_strdup(target);
  f->at = at;
  f->until = until;
  f->ttl = 60;
}

void scn_fault_clear(scn_fault *f) {
  g_free(f->target);
  if (f->hosts)
    g_ptr_array_unref(f->hosts);
  g_free(f->name);
  if (f->records)
    g_ptr_array_unref(f->records);
  g_free(f->rcpt);
  g_free(f->sender);
  g_free(f->reply_esc);
  g_free(f->reply_text);
  g_free(f->user);
  memset(f, 0, sizeof *f);
}

bool scn_fault_match(const char *rule, const char *addr) {
  if (!rule)
    return true;
  if (!addr)
    return false;
  const char *at = strrchr(addr, '@');
  size_t rl = strlen(rule);
  if (rl && rule[rl - 1] == '@') /* "bob@": the local part */
    return at && (size_t)(at - addr) == rl - 1 && g_ascii_strncasecmp(addr, rule, rl - 1) == 0;
  if (rule[0] == '@') /* "@example.org": the domain */
    return at && g_ascii_strcasecmp(at + 1, rule + 1) == 0;
  return g_ascii_strcasecmp(rule, addr) == 0;
}

bool scn_fault_attempt_hit(const scn_fault *f, uint32_t n) {
  if (f->attempt_from == 0 && f->attempt_to == 0)
    return true;
  return n >= f->attempt_from && n <= f->attempt_to;
}

/* --- the check, shared by the loader and scn_fault_append ----------------- */

static bool link_exists(const scn_config *c, const char *name) {
  for (guint i = 0; i < c->links->len; i++) {
    const scn_link *l = &g_array_index(c->links, scn_link, i);
    size_t la = strlen(l->a);
    if (strncmp(name, l->a, la) == 0 && name[la] == '-' && strcmp(name + la + 1, l->b) == 0)
      return true;
  }
  return false;
}

static const scn_host *host_named(const scn_config *c, const char *name) {
  int i = name ? scn_find_host(c, name) : -1;
  return i < 0 ? NULL : &g_array_index(c->hosts, scn_host, i);
}

/* A host target whose role must be ROLE (NULL: any). */
static const scn_host *want_host(scn_json_ctx *x, const scn_config *c, const scn_fault *f,
                                 const char *path, const char *role) {
  const scn_host *h = host_named(c, f->target);
  if (!f->target)
    scn_json_fail(x, path, "\"host\": expected a host name");
  else if (!h)
    scn_json_fail(x, path, "\"host\": no host named \"%s\"", f->target);
  else if (role && strcmp(h->role, role) != 0)
    scn_json_fail(x, path, "\"host\": host \"%s\" has role \"%s\" (expected a \"%s\" host)",
                  f->target, h->role, role);
  return scn_json_ok(x) ? h : NULL;
}

static void want_link(scn_json_ctx *x, const scn_config *c, const scn_fault *f, const char *path) {
  if (!f->target)
    scn_json_fail(x, path, "\"link\": expected a link name \"a-b\"");
  else if (!link_exists(c, f->target))
    scn_json_fail(x, path, "\"link\": no link named \"%s\" (links are named \"a-b\")", f->target);
}

static bool name_under(const char *name, const char *origin) {
  if (strcmp(origin, ".") == 0)
    return true;
  size_t n = strlen(name), o = strlen(origin);
  if (o > n || g_ascii_strcasecmp(name + n - o, origin) != 0)
    return false;
  return o == n || name[n - o - 1] == '.';
}

static void check_dns(scn_json_ctx *x, const scn_config *c, const scn_fault *f, const char *path) {
  const scn_host *h = want_host(x, c, f, path, NULL);
  if (!h)
    return;
  if (!f->name || !g_str_has_suffix(f->name, ".")) {
    scn_json_fail(x, path, "\"name\": expected an absolute name ending in \".\"");
    return;
  }
  bool served = false;
  for (guint i = 0; h->zones && i < h->zones->len; i++)
    served |= name_under(f->name, h->zones->pdata[i]);
  if (!served)
    scn_json_fail(x, path, "\"host\": host \"%s\" serves no zone holding \"%s\"", f->target,
                  f->name);
  if (f->kind == SCN_FAULT_DNS_MX && scn_json_ok(x) && (!f->records || !f->records->len))
    scn_json_fail(x, path, "\"mx\": expected at least one MX record like \"10 mx2.example.org.\"");
}

static void check_reply(scn_json_ctx *x, const scn_fault *f, const char *path) {
  if (f->reply_code < 400 || f->reply_code > 599)
    scn_json_fail(x, path,
                  "\"reply\": expected a 4xx or 5xx reply like \"451 4.3.0 Try again later\"");
  else if (f->reply_esc && f->reply_esc[0] - '0' != f->reply_code / 100)
    scn_json_fail(x, path, "\"reply\": the enhanced status code %s does not match the reply %d",
                  f->reply_esc, f->reply_code);
}

static void check_attempts(scn_json_ctx *x, const scn_fault *f, const char *path) {
  if ((f->attempt_from || f->attempt_to) &&
      (f->attempt_from < 1 || f->attempt_to < f->attempt_from))
    scn_json_fail(x, path, "\"attempts\": expected N or N-M with 1 <= N <= M");
}

static void check(scn_json_ctx *x, const scn_config *c, const scn_fault *f, const char *path) {
  if ((unsigned)f->kind >= SCN_FAULT_COUNT) {
    scn_json_fail(x, path, "\"kind\": unknown fault kind %d", (int)f->kind);
    return;
  }
  if (f->at < 0)
    scn_json_fail(x, path, "\"at\" must not be negative");
  else if (f->until <= f->at)
    scn_json_fail(x, path, "\"until\" must be later than \"at\"");
  if (!scn_json_ok(x))
    return;
  switch (f->kind) {
  case SCN_FAULT_LINK_DOWN:
    want_link(x, c, f, path);
    break;
  case SCN_FAULT_LATENCY:
    want_link(x, c, f, path);
    if (scn_json_ok(x) && f->latency <= 0)
      scn_json_fail(x, path, "\"latency\": expected an extra delay above 0 like \"200ms\"");
    break;
  case SCN_FAULT_LOSS:
    want_link(x, c, f, path);
    if (scn_json_ok(x) && (f->loss_ppm == 0 || f->loss_ppm > 1000000))
      scn_json_fail(x, path, "\"loss\": expected a ratio above 0 like \"30%%\"");
    break;
  case SCN_FAULT_PARTITION:
    if (!f->hosts || !f->hosts->len) {
      scn_json_fail(x, path, "\"hosts\": expected at least one host name");
      break;
    }
    for (guint i = 0; i < f->hosts->len && scn_json_ok(x); i++) {
      const char *n = f->hosts->pdata[i];
      if (!host_named(c, n))
        scn_json_fail(x, path, "\"hosts\": no host named \"%s\"", n);
      for (guint k = 0; k < i && scn_json_ok(x); k++)
        if (strcmp(n, f->hosts->pdata[k]) == 0)
          scn_json_fail(x, path, "\"hosts\": \"%s\" is listed twice", n);
    }
    if (scn_json_ok(x) && f->hosts->len >= c->hosts->len)
      scn_json_fail(x, path, "\"hosts\": a partition must leave some host outside the set");
    break;
  case SCN_FAULT_CRASH:
  case SCN_FAULT_DISK_FULL:
    want_host(x, c, f, path, NULL);
    break;
  case SCN_FAULT_DNS:
  case SCN_FAULT_DNS_MX:
    check_dns(x, c, f, path);
    break;
  case SCN_FAULT_SMTP_REPLY:
    if (want_host(x, c, f, path, "mta")) {
      check_reply(x, f, path);
      if (scn_json_ok(x))
        check_attempts(x, f, path);
      if (scn_json_ok(x) && f->rcpt && f->stage < SCN_SMTP_STAGE_RCPT)
        scn_json_fail(x, path, "\"rcpt\": no recipient is known at stage \"%s\"",
                      scn_smtp_stage_name(f->stage));
      if (scn_json_ok(x) && f->sender && f->stage < SCN_SMTP_STAGE_MAIL)
        scn_json_fail(x, path, "\"sender\": no sender is known at stage \"%s\"",
                      scn_smtp_stage_name(f->stage));
    }
    break;
  case SCN_FAULT_CUT_AFTER_DOT:
    if (want_host(x, c, f, path, "mta"))
      check_attempts(x, f, path);
    break;
  case SCN_FAULT_TARPIT:
    if (want_host(x, c, f, path, "mta") && f->delay <= 0)
      scn_json_fail(x, path, "\"delay\": expected a delay above 0 like \"30s\"");
    break;
  case SCN_FAULT_TLS: {
    const scn_host *h = want_host(x, c, f, path, NULL);
    if (h && strcmp(h->role, "mta") != 0 && strcmp(h->role, "mailbox") != 0)
      scn_json_fail(x, path,
                    "\"host\": host \"%s\" has role \"%s\" (expected an \"mta\" or "
                    "\"mailbox\" host)",
                    f->target, h->role);
    else if (h && !c->tls)
      scn_json_fail(x, path, "a TLS fault needs TLS (the scenario has \"tls\": false)");
    else if (h && !scn_tls_server(c, h))
      scn_json_fail(x, path,
                    "a TLS fault needs TLS on a service of host \"%s\" (the scenario's \"tls\" "
                    "turns them off)",
                    f->target);
    break;
  }
  case SCN_FAULT_MAILBOX_FULL: {
    const scn_host *h = want_host(x, c, f, path, "mailbox");
    const scn_user *u = h && f->user ? scn_find_user(c, f->user) : NULL;
    if (h && !f->user)
      scn_json_fail(x, path, "\"user\": expected a user's address");
    else if (h && (!u || !u->mailbox || strcmp(u->mailbox, f->target) != 0))
      scn_json_fail(x, path, "\"user\": no user \"%s\" keeps mail on \"%s\"", f->user, f->target);
    break;
  }
  default:
    g_assert_not_reached();
  }
}

bool scn_fault_check(const scn_config *c, const scn_fault *f, const char *where, GError **err) {
  scn_json_ctx x = {.file = c->file};
  check(&x, c, f, where ? where : "fault");
  if (scn_json_ok(&x))
    return true;
  g_propagate_error(err, x.err);
  return false;
}

bool scn_fault_append(scn_config *c, scn_fault *f, GError **err) {
  char *where = g_strdup_printf("$.faults[%u]", c->faults->len);
  bool ok = scn_fault_check(c, f, where, err);
  g_free(where);
  if (!ok) {
    scn_fault_clear(f);
    return false;
  }
  g_array_append_val(c->faults, *f);
  memset(f, 0, sizeof *f);
  return true;
}

/* --- the loader: one parser per kind ---------------------------------------- */

typedef struct {
  scn_json_ctx *x;
  const cJSON *it;
  const char *path;
} jctx;

typedef bool (*kind_parser)(const jctx *j, scn_fault *f);

static bool get_str(const jctx *j, const char *key, bool req, char **out) {
  return scn_json_string(j->x, j->it, j->path, key, req, out);
}

/* The index of S in NAMES (any case); else fails naming KEY, WHAT S is
 * and the EXPECTED names, and returns -1. */
static int lookup_name(const jctx *j, const char *key, const char *s, const char *const *names,
                       int n, const char *what, const char *expected) {
  int i = name_index(names, n, s);
  if (i < 0)
    scn_json_fail(j->x, j->path, "\"%s\": unknown %s \"%s\" (expected %s)", key, what, s, expected);
  return i;
}

static bool p_link(const jctx *j, scn_fault *f) { return get_str(j, "link", true, &f->target); }
static bool p_host(const jctx *j, scn_fault *f) { return get_str(j, "host", true, &f->target); }

static bool p_latency(const jctx *j, scn_fault *f) {
  return p_link(j, f) && scn_json_duration(j->x, j->it, j->path, "latency", true, &f->latency);
}

static bool p_loss(const jctx *j, scn_fault *f) {
  return p_link(j, f) && scn_json_ppm(j->x, j->it, j->path, "loss", true, &f->loss_ppm);
}

static GPtrArray *str_array(const jctx *j, const char *key, const char *what) {
  return scn_json_strings(j->x, j->it, j->path, key, true, false, what);
}

static bool p_partition(const jctx *j, scn_fault *f) {
  f->hosts = str_array(j, "hosts", "a host name");
  return scn_json_ok(j->x);
}

/* "type": a record type mnemonic or number per dns_type_from_text. */
static bool get_qtype(const jctx *j, uint16_t *out) {
  char *t = NULL;
  if (!get_str(j, "type", false, &t) || !t)
    return scn_json_ok(j->x);
  static const struct {
    const char *n;
    uint16_t v;
  } types[] = {{"A", 1},   {"NS", 2},   {"CNAME", 5}, {"SOA", 6}, {"PTR", 12},
               {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}};
  bool found = false;
  for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
    if (g_ascii_strcasecmp(t, types[i].n) == 0) {
      *out = types[i].v;
      found = true;
    }
  if (!found)
    scn_json_fail(j->x, j->path,
                  "\"type\": unknown record type \"%s\" (expected A, AAAA, MX, "
                  "TXT, NS, CNAME, SOA, PTR or SRV)",
                  t);
  g_free(t);
  return scn_json_ok(j->x);
}

static bool p_dns(const jctx *j, scn_fault *f) {
  char *ans = NULL;
  if (p_host(j, f) && get_str(j, "name", true, &f->name) && get_qtype(j, &f->qtype) &&
      get_str(j, "answer", true, &ans)) {
    int i = lookup_name(j, "answer", ans, dns_names, SCN_DNS__COUNT, "DNS failure",
                        "servfail, nxdomain or timeout");
    if (i >= 0)
      f->dns_answer = (scn_dns_answer)i;
  }
  g_free(ans);
  return scn_json_ok(j->x);
}

static bool p_dns_mx(const jctx *j, scn_fault *f) {
  sim_time ttl = 60 * SIM_S;
  if (p_host(j, f) && get_str(j, "name", true, &f->name) &&
      scn_json_duration(j->x, j->it, j->path, "ttl", false, &ttl)) {
    if (ttl < 0 || ttl / SIM_S > INT32_MAX)
      scn_json_fail(j->x, j->path, "\"ttl\": expected 0 to 68 years");
    f->ttl = (uint32_t)(ttl / SIM_S);
    f->qtype = 15;
    if (scn_json_ok(j->x))
      f->records = str_array(j, "mx", "MX data like \"10 mx2.example.org.\"");
    for (guint i = 0; f->records && i < f->records->len && scn_json_ok(j->x); i++) {
      const char *r = f->records->pdata[i];
      char *end = NULL;
      guint64 pref = g_ascii_strtoull(r, &end, 10);
      if (end == r || pref > 65535 || *end != ' ' || !g_str_has_suffix(end + 1, ".") ||
          strchr(end + 1, ' ')) {
        char *p = g_strdup_printf("%s.mx[%u]", j->path, i);
        scn_json_fail(j->x, p,
                      "expected MX data \"PREFERENCE EXCHANGE.\" like \"10 "
                      "mx2.example.org.\"");
        g_free(p);
      }
    }
  }
  return scn_json_ok(j->x);
}

/* "attempts": "N" or "N-M". */
static bool get_attempts(const jctx *j, scn_fault *f) {
  char *a = NULL;
  if (!get_str(j, "attempts", false, &a) || !a)
    return scn_json_ok(j->x);
  char *end = NULL;
  guint64 from = g_ascii_strtoull(a, &end, 10), to = from;
  bool ok = end != a && from >= 1 && from <= UINT32_MAX;
  if (ok && *end == '-') {
    char *s = end + 1;
    to = g_ascii_strtoull(s, &end, 10);
    ok = end != s && to >= from && to <= UINT32_MAX;
  }
  if (!ok || *end)
    scn_json_fail(j->x, j->path, "\"attempts\": expected N or N-M with 1 <= N <= M, like \"1-3\"");
  f->attempt_from = (uint32_t)from;
  f->attempt_to = (uint32_t)to;
  g_free(a);
  return scn_json_ok(j->x);
}

static bool get_match(const jctx *j, scn_fault *f) {
  return get_str(j, "rcpt", false, &f->rcpt) && get_str(j, "sender", false, &f->sender) &&
         get_attempts(j, f);
}

/* "451 4.3.0 Try again later": code, optional enhanced code, text. */
static bool parse_reply(const char *s, scn_fault *f) {
  if (strlen(s) < 3 || !g_ascii_isdigit(s[0]) || !g_ascii_isdigit(s[1]) || !g_ascii_isdigit(s[2]) ||
      (s[3] && s[3] != ' '))
    return false;
  f->reply_code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
  const char *p = s[3] ? s + 4 : s + 3;
  /* An enhanced code: digit '.' 1-3 digits '.' 1-3 digits (RFC 3463 §2). */
  const char *q = p;
  if (g_ascii_isdigit(q[0]) && q[1] == '.') {
    q += 2;
    int d = 0;
    while (g_ascii_isdigit(*q) && d < 4)
      q++, d++;
    if (d >= 1 && d <= 3 && *q == '.') {
      q++;
      d = 0;
      while (g_ascii_isdigit(*q) && d < 4)
        q++, d++;
      if (d >= 1 && d <= 3 && (*q == ' ' || !*q)) {
        f->reply_esc = g_strndup(p, (gsize)(q - p));
        p = *q ? q + 1 : q;
      }
    }
  }
  f->reply_text = *p ? g_strdup(p) : NULL;
  for (const char *c = p; *c; c++)
    if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
      return false;
  return true;
}

static bool p_smtp_reply(const jctx *j, scn_fault *f) {
  char *stage = NULL, *reply = NULL;
  if (p_host(j, f) && get_str(j, "stage", true, &stage) && get_match(j, f) &&
      get_str(j, "reply", true, &reply)) {
    int i = g_ascii_strcasecmp(stage, "greeting") == 0
                ? SCN_SMTP_STAGE_CONNECT /* another name for the same reply */
                : lookup_name(j, "stage", stage, stage_names, SCN_SMTP_STAGE__COUNT, "SMTP stage",
                              "connect or greeting, helo, mail, rcpt or dot");
    if (i >= 0)
      f->stage = (scn_smtp_stage)i;
    if (scn_json_ok(j->x) && !parse_reply(reply, f))
      scn_json_fail(j->x, j->path,
                    "\"reply\": expected a 4xx or 5xx reply like \"451 4.3.0 Try "
                    "again later\"");
  }
  g_free(stage);
  g_free(reply);
  return scn_json_ok(j->x);
}

static bool p_cut(const jctx *j, scn_fault *f) {
  f->stage = SCN_SMTP_STAGE_DOT;
  return p_host(j, f) && get_match(j, f);
}

static bool p_tarpit(const jctx *j, scn_fault *f) {
  return p_host(j, f) && scn_json_duration(j->x, j->it, j->path, "delay", true, &f->delay);
}

static bool p_tls(const jctx *j, scn_fault *f) {
  char *fl = NULL;
  if (p_host(j, f) && get_str(j, "failure", true, &fl)) {
    int i = lookup_name(j, "failure", fl, tls_names, SCN_TLS__COUNT, "TLS failure",
                        "cert_mismatch or handshake");
    if (i >= 0)
      f->tls_failure = (scn_tls_failure)i;
  }
  g_free(fl);
  return scn_json_ok(j->x);
}

static bool p_mailbox_full(const jctx *j, scn_fault *f) {
  return p_host(j, f) && get_str(j, "user", true, &f->user);
}

/* The table: kind -> the keys it takes besides kind/at/until, its parser. */
static const struct {
  const char *keys[8];
  kind_parser parse;
} rows[SCN_FAULT_COUNT] = {
    [SCN_FAULT_LINK_DOWN] = {{"link"}, p_link},
    [SCN_FAULT_CRASH] = {{"host"}, p_host},
    [SCN_FAULT_PARTITION] = {{"hosts"}, p_partition},
    [SCN_FAULT_LATENCY] = {{"link", "latency"}, p_latency},
    [SCN_FAULT_LOSS] = {{"link", "loss"}, p_loss},
    [SCN_FAULT_DISK_FULL] = {{"host"}, p_host},
    [SCN_FAULT_DNS] = {{"host", "name", "type", "answer"}, p_dns},
    [SCN_FAULT_DNS_MX] = {{"host", "name", "mx", "ttl"}, p_dns_mx},
    [SCN_FAULT_SMTP_REPLY] = {{"host", "stage", "rcpt", "sender", "attempts", "reply"},
                              p_smtp_reply},
    [SCN_FAULT_TARPIT] = {{"host", "delay"}, p_tarpit},
    [SCN_FAULT_CUT_AFTER_DOT] = {{"host", "rcpt", "sender", "attempts"}, p_cut},
    [SCN_FAULT_TLS] = {{"host", "failure"}, p_tls},
    [SCN_FAULT_MAILBOX_FULL] = {{"host", "user"}, p_mailbox_full},
};

static void load_one(scn_json_ctx *x, scn_config *c, const cJSON *it, const char *path) {
  scn_fault f;
  scn_fault_init(&f, SCN_FAULT_LINK_DOWN, NULL, 0, SIM_TIME_NEVER);
  char *kind = NULL;
  if (!cJSON_IsObject(it)) {
    scn_json_fail(x, path, "expected a fault object");
  } else if (scn_json_string(x, it, path, "kind", true, &kind)) {
    if (!scn_fault_kind_parse(kind, &f.kind)) {
      GString *all = g_string_new(NULL);
      for (int i = 0; i < SCN_FAULT_COUNT; i++)
        g_string_append_printf(all, "%s%s", i ? ", " : "", kind_names[i]);
      scn_json_fail(x, path, "\"kind\": unknown fault kind \"%s\" (expected: %s)", kind, all->str);
      g_string_free(all, TRUE);
    } else {
      const char *keys[12] = {"kind", "at", "until"};
      size_t n = 3;
      for (size_t k = 0; rows[f.kind].keys[k]; k++)
        keys[n++] = rows[f.kind].keys[k];
      keys[n] = NULL;
      jctx j = {x, it, path};
      if (scn_json_known_keys(x, it, path, keys) &&
          scn_json_duration(x, it, path, "at", true, &f.at) &&
          scn_json_duration(x, it, path, "until", false, &f.until) && rows[f.kind].parse(&j, &f))
        check(x, c, &f, path);
    }
  }
  g_free(kind);
  if (scn_json_ok(x)) {
    g_array_append_val(c->faults, f);
  } else {
    scn_fault_clear(&f);
  }
}

void scn__faults_load(scn_json_ctx *x, scn_config *c, const cJSON *root) {
  const cJSON *arr;
  if (!scn_json_array(x, root, "$", "faults", false, &arr) || !arr)
    return;
  int i = 0;
  for (const cJSON *it = arr->child; it && scn_json_ok(x); it = it->next, i++) {
    char *path = scn_json_index_path("$.faults", i);
    load_one(x, c, it, path);
    g_free(path);
  }
}
