/* scn_fault_apply.c — scheduling a scenario's faults and answering the
 * services' fault hooks (see scn_fault_apply.h).
 *
 * Each fault has an activation record switched on at `at` and off at
 * `until` by two events; the hooks of a host look through the records of
 * the faults aimed at it, in scenario order, and the first one that is on
 * and matches acts. Counting of attempts (smtp_reply, cut_after_dot) is
 * per fault: the n-th transaction it matched while on.
 *
 * Sources: RFC 1047 (the duplicate window after the final dot), RFC 3463
 * (4.3.1 disk full, 4.2.2 mailbox full), RFC 2308 §5 (a SERVFAIL or an
 * NXDOMAIN without SOA is not cached), RFC 5321 §4.2 (reply lines).
 */
#include "scn_fault_apply.h"

#include <string.h>

#include "dns_auth.h"
#include "mailbox_host.h"
#include "mta.h"
#include "sim_net.h"
#include "tls_host.h"

typedef struct host_faults host_faults;

typedef struct {
  scn_fault_world *fw;
  const scn_fault *f;
  int host; /* target host index, -1 for links and partitions */
  bool on;
  uint32_t matches;
  dns_zone *alt; /* dns_mx: the zone answering in the window */
} act;

/* The faults aimed at one host, for its services' hooks. */
struct host_faults {
  scn_fault_world *fw;
  int host;
  GPtrArray *acts; /* act*, scenario order (borrowed) */
};

struct scn_fault_world {
  const scn_config *c;
  host *const *hosts;
  sim_world *w;
  scn_dns *dns;
  scn_mailworld *mail;
  GPtrArray *acts;    /* act* (owned) */
  GPtrArray *by_host; /* host_faults* or NULL, by host index (owned) */
};

/* --- trace --------------------------------------------------------------- */

static trace_writer *rec_begin(scn_fault_world *fw, const char *ev) {
  trace_writer *tw = sim_world_trace(fw->w, SIM_DETAIL_MESSAGES);
  trace_event_begin(tw, sim_world_now(fw->w), ev);
  return tw;
}

static void trace_window(act *a, bool start) {
  const scn_fault *f = a->f;
  trace_writer *tw = rec_begin(a->fw, start ? "fault.start" : "fault.end");
  trace_key_str(tw, "kind", scn_fault_kind_name(f->kind));
  if (f->target)
    trace_key_str(tw, "target", f->target);
  if (f->hosts) {
    trace_arr_begin(tw, "hosts");
    for (guint i = 0; i < f->hosts->len; i++)
      trace_key_str(tw, NULL, f->hosts->pdata[i]);
    trace_arr_end(tw);
  }
  if (start) {
    switch (f->kind) {
    case SCN_FAULT_DNS:
      trace_key_str(tw, "name", f->name);
      if (f->qtype) {
        char tb[16];
        trace_key_str(tw, "qtype", dns_type_to_text(f->qtype, tb));
      }
      trace_key_str(tw, "answer", scn_dns_answer_name(f->dns_answer));
      break;
    case SCN_FAULT_DNS_MX:
      trace_key_str(tw, "name", f->name);
      trace_arr_begin(tw, "mx");
      for (guint i = 0; i < f->records->len; i++)
        trace_key_str(tw, NULL, f->records->pdata[i]);
      trace_arr_end(tw);
      break;
    case SCN_FAULT_SMTP_REPLY:
      trace_key_str(tw, "stage", scn_smtp_stage_name(f->stage));
      trace_key_int(tw, "code", f->reply_code);
      break;
    case SCN_FAULT_TARPIT:
      trace_key_int(tw, "delay_ns", f->delay);
      break;
    case SCN_FAULT_TLS:
      trace_key_str(tw, "failure", scn_tls_failure_name(f->tls_failure));
      break;
    case SCN_FAULT_MAILBOX_FULL:
      trace_key_str(tw, "user", f->user);
      break;
    case SCN_FAULT_LATENCY:
      trace_key_int(tw, "extra_ns", f->latency);
      break;
    case SCN_FAULT_LOSS:
      trace_key_uint(tw, "loss_ppm", f->loss_ppm);
      break;
    default:
      break;
    }
  }
  trace_end(tw);
}

/* --- windows ------------------------------------------------------------- */

static void window_set(act *a, bool on) {
  scn_fault_world *fw = a->fw;
  const scn_fault *f = a->f;
  a->on = on;
  trace_window(a, on);
  switch (f->kind) {
  case SCN_FAULT_DISK_FULL:
    disk_set_full(host_disk(fw->hosts[a->host]), on);
    break;
  case SCN_FAULT_TLS: {
    tls_host *th = scn_mailworld_tls(fw->mail, a->host);
    tls_host_set_fault(th, !on                                       ? TLS_HOST_FAULT_NONE
                           : f->tls_failure == SCN_TLS_CERT_MISMATCH ? TLS_HOST_FAULT_CERT_MISMATCH
                                                                     : TLS_HOST_FAULT_HANDSHAKE);
    break;
  }
  case SCN_FAULT_MAILBOX_FULL:
    mailbox_host_set_full(scn_mailworld_mailbox(fw->mail, a->host), f->user, on);
    break;
  default: /* the hooks read a->on; the kernel does the network kinds */
    break;
  }
}

static void start_ev(void *p, void *b) {
  (void)b;
  window_set(p, true);
}
static void end_ev(void *p, void *b) {
  (void)b;
  window_set(p, false);
}

/* --- MTA hooks ------------------------------------------------------------ */

static const scn_smtp_stage stage_of[MTA_STAGE__COUNT] = {[MTA_STAGE_CONNECT] =
                                                              SCN_SMTP_STAGE_CONNECT,
                                                          [MTA_STAGE_HELO] = SCN_SMTP_STAGE_HELO,
                                                          [MTA_STAGE_MAIL] = SCN_SMTP_STAGE_MAIL,
                                                          [MTA_STAGE_RCPT] = SCN_SMTP_STAGE_RCPT,
                                                          [MTA_STAGE_DOT] = SCN_SMTP_STAGE_DOT};

/* F's rules against a transaction: the sender, and any of the recipients. */
static bool matches(const scn_fault *f, const char *sender, const char *const *rcpts, size_t n) {
  if (f->sender && (!sender || !scn_fault_match(f->sender, sender)))
    return false;
  if (!f->rcpt)
    return true;
  for (size_t i = 0; i < n; i++)
    if (scn_fault_match(f->rcpt, rcpts[i]))
      return true;
  return false;
}

static void key_rcpts(trace_writer *tw, const char *const *rcpts, size_t n) {
  if (!n)
    return;
  trace_arr_begin(tw, "rcpts");
  for (size_t i = 0; i < n; i++)
    trace_key_str(tw, NULL, rcpts[i]);
  trace_arr_end(tw);
}

static bool hook_reply(void *user, mta_host *m, mta_stage stage, const char *client,
                       const char *sender, const char *const *rcpts, size_t nrcpts,
                       mta_fault_reply *r) {
  (void)m;
  host_faults *hf = user;
  for (guint i = 0; i < hf->acts->len; i++) {
    act *a = hf->acts->pdata[i];
    const scn_fault *f = a->f;
    if (f->kind != SCN_FAULT_SMTP_REPLY || !a->on || f->stage != stage_of[stage] ||
        !matches(f, sender, rcpts, nrcpts))
      continue;
    a->matches++;
    if (!scn_fault_attempt_hit(f, a->matches))
      continue;
    r->code = f->reply_code;
    r->esc = f->reply_esc;
    r->text = f->reply_text;
    trace_writer *tw = rec_begin(hf->fw, "fault.reply");
    trace_key_str(tw, "node", host_name(hf->fw->hosts[hf->host]));
    trace_key_str(tw, "stage", mta_stage_name(stage));
    trace_key_str(tw, "client", client);
    if (sender)
      trace_key_str(tw, "sender", sender);
    key_rcpts(tw, rcpts, nrcpts);
    trace_key_int(tw, "code", f->reply_code);
    if (f->reply_esc)
      trace_key_str(tw, "esc", f->reply_esc);
    trace_key_uint(tw, "attempt", a->matches);
    trace_end(tw);
    return true;
  }
  return false;
}

static sim_time hook_greeting(void *user, mta_host *m, const char *client) {
  (void)m;
  host_faults *hf = user;
  for (guint i = 0; i < hf->acts->len; i++) {
    act *a = hf->acts->pdata[i];
    if (a->f->kind != SCN_FAULT_TARPIT || !a->on)
      continue;
    trace_writer *tw = rec_begin(hf->fw, "fault.tarpit");
    trace_key_str(tw, "node", host_name(hf->fw->hosts[hf->host]));
    trace_key_str(tw, "client", client);
    trace_key_int(tw, "delay_ns", a->f->delay);
    trace_end(tw);
    return a->f->delay;
  }
  return 0;
}

static bool hook_cut(void *user, mta_host *m, const char *msgid, const char *sender,
                     const char *const *rcpts, size_t nrcpts) {
  (void)m;
  host_faults *hf = user;
  for (guint i = 0; i < hf->acts->len; i++) {
    act *a = hf->acts->pdata[i];
    if (a->f->kind != SCN_FAULT_CUT_AFTER_DOT || !a->on || !matches(a->f, sender, rcpts, nrcpts))
      continue;
    a->matches++;
    if (!scn_fault_attempt_hit(a->f, a->matches))
      continue;
    trace_writer *tw = rec_begin(hf->fw, "fault.cut");
    trace_key_str(tw, "node", host_name(hf->fw->hosts[hf->host]));
    trace_key_str(tw, "msg", msgid);
    key_rcpts(tw, rcpts, nrcpts);
    trace_key_uint(tw, "attempt", a->matches);
    trace_end(tw);
    return true;
  }
  return false;
}

/* --- DNS hook ------------------------------------------------------------- */

static bool hook_dns(void *user, const char *qname, uint16_t qtype, dns_auth_override *out) {
  host_faults *hf = user;
  for (guint i = 0; i < hf->acts->len; i++) {
    act *a = hf->acts->pdata[i];
    const scn_fault *f = a->f;
    if ((f->kind != SCN_FAULT_DNS && f->kind != SCN_FAULT_DNS_MX) || !a->on ||
        g_ascii_strcasecmp(f->name, qname) != 0 || (f->qtype && f->qtype != qtype))
      continue;
    if (f->kind == SCN_FAULT_DNS_MX && !a->alt)
      continue;
    const char *what;
    if (f->kind == SCN_FAULT_DNS_MX) {
      out->action = DNS_AUTH_ZONES;
      out->zones = &a->alt;
      out->nzones = 1;
      what = "mx";
    } else if (f->dns_answer == SCN_DNS_TIMEOUT) {
      out->action = DNS_AUTH_DROP;
      what = "timeout";
    } else {
      out->action = DNS_AUTH_RCODE;
      out->rcode = f->dns_answer == SCN_DNS_SERVFAIL ? 2 : 3;
      what = scn_dns_answer_name(f->dns_answer);
    }
    char tb[16];
    trace_writer *tw = rec_begin(hf->fw, "fault.dns");
    trace_key_str(tw, "node", host_name(hf->fw->hosts[hf->host]));
    trace_key_str(tw, "qname", qname);
    trace_key_str(tw, "qtype", dns_type_to_text(qtype, tb));
    trace_key_str(tw, "answer", what);
    trace_end(tw);
    return true;
  }
  return false;
}

/* The zone answering a dns_mx fault: the served zone holding the name,
 * its MX records at the name replaced by the fault's. NULL if it cannot
 * be built (the fault then does nothing; the loader checked the data). */
static dns_zone *mx_zone(const scn_config *c, const scn_fault *f) {
  const scn_host *h = &g_array_index(c->hosts, scn_host, scn_find_host(c, f->target));
  const scn_zone *best = NULL;
  for (guint i = 0; i < c->zones->len; i++) {
    const scn_zone *z = &g_array_index(c->zones, scn_zone, i);
    bool served = false;
    for (guint k = 0; k < h->zones->len; k++)
      served |= g_ascii_strcasecmp(h->zones->pdata[k], z->origin) == 0;
    size_t n = strlen(f->name), o = strlen(z->origin);
    bool under = strcmp(z->origin, ".") == 0 ||
                 (o <= n && g_ascii_strcasecmp(f->name + n - o, z->origin) == 0 &&
                  (o == n || f->name[n - o - 1] == '.'));
    if (served && under && (!best || strlen(z->origin) > strlen(best->origin)))
      best = z;
  }
  if (!best)
    return NULL;
  scn_zone alt = {best->origin, g_ptr_array_new_with_free_func(g_free)};
  for (guint i = 0; i < best->records->len; i++) {
    const char *r = best->records->pdata[i];
    char **tok = g_strsplit_set(r, " \t", 0);
    char *owner = NULL;
    guint nt = g_strv_length(tok);
    if (nt && strcmp(tok[0], "@") == 0)
      owner = g_strdup(best->origin);
    else if (nt && g_str_has_suffix(tok[0], "."))
      owner = g_strdup(tok[0]);
    else if (nt)
      owner = g_strconcat(tok[0], ".", best->origin, NULL);
    bool is_mx = false;
    for (guint k = 1; k < nt && k <= 3; k++)
      is_mx |= g_ascii_strcasecmp(tok[k], "MX") == 0;
    if (!(owner && is_mx && g_ascii_strcasecmp(owner, f->name) == 0))
      g_ptr_array_add(alt.records, g_strdup(r));
    g_free(owner);
    g_strfreev(tok);
  }
  for (guint i = 0; i < f->records->len; i++)
    g_ptr_array_add(alt.records, g_strdup_printf("%s %u IN MX %s", f->name, f->ttl,
                                                 (const char *)f->records->pdata[i]));
  guint bad;
  dns_err e;
  dns_zone *z = scn_dns_zone_build(&alt, &bad, &e);
  g_ptr_array_unref(alt.records);
  return z;
}

/* --- building --------------------------------------------------------------- */

static sim_link *link_named(sim_net *net, const char *name) {
  for (size_t i = 0; i < sim_net_link_count(net); i++) {
    sim_link *l = sim_net_link_at(net, i);
    const char *a = sim_node_name(sim_link_end(l, 0));
    size_t la = strlen(a);
    if (strncmp(name, a, la) == 0 && name[la] == '-' &&
        strcmp(name + la + 1, sim_node_name(sim_link_end(l, 1))) == 0)
      return l;
  }
  return NULL;
}

static host_faults *faults_of(scn_fault_world *fw, int h) {
  host_faults *hf = fw->by_host->pdata[h];
  if (!hf) {
    hf = g_new0(host_faults, 1);
    hf->fw = fw;
    hf->host = h;
    hf->acts = g_ptr_array_new();
    fw->by_host->pdata[h] = hf;
  }
  return hf;
}

static void host_faults_free(void *p) {
  host_faults *hf = p;
  if (!hf)
    return;
  g_ptr_array_unref(hf->acts);
  g_free(hf);
}

static void act_free(void *p) {
  act *a = p;
  dns_zone_free(a->alt);
  g_free(a);
}

static void schedule_window(scn_fault_world *fw, act *a) {
  sim_world_at(fw->w, a->f->at, start_ev, a, NULL);
  if (a->f->until != SIM_TIME_NEVER)
    sim_world_at(fw->w, a->f->until, end_ev, a, NULL);
}

static bool in_set(const GPtrArray *set, const char *name) {
  for (guint i = 0; i < set->len; i++)
    if (strcmp(set->pdata[i], name) == 0)
      return true;
  return false;
}

static void apply_network(scn_fault_world *fw, act *a) {
  const scn_fault *f = a->f;
  sim_net *net = sim_world_net(fw->w);
  if (f->kind == SCN_FAULT_PARTITION) {
    schedule_window(fw, a); /* fault.start first: it explains the link records after it */
    for (size_t i = 0; i < sim_net_link_count(net); i++) {
      sim_link *l = sim_net_link_at(net, i);
      bool in0 = in_set(f->hosts, sim_node_name(sim_link_end(l, 0)));
      bool in1 = in_set(f->hosts, sim_node_name(sim_link_end(l, 1)));
      if (in0 == in1)
        continue;
      sim_net_link_set_up_at(net, l, f->at, false);
      if (f->until != SIM_TIME_NEVER)
        sim_net_link_set_up_at(net, l, f->until, true);
    }
    return;
  }
  sim_link *l = link_named(net, f->target);
  if (f->kind == SCN_FAULT_LINK_DOWN) {
    sim_net_link_set_up_at(net, l, f->at, false);
    if (f->until != SIM_TIME_NEVER)
      sim_net_link_set_up_at(net, l, f->until, true);
    return;
  }
  /* latency, loss: the scenario's parameters with the fault's change, then
   * the scenario's parameters again */
  schedule_window(fw, a);
  sim_link_params base = *sim_link_params_peek(l), hit = base;
  if (f->kind == SCN_FAULT_LATENCY)
    hit.latency = sim_time_add(base.latency, f->latency);
  else
    hit.loss_ppm = f->loss_ppm;
  sim_net_link_set_params_at(net, l, f->at, &hit);
  if (f->until != SIM_TIME_NEVER)
    sim_net_link_set_params_at(net, l, f->until, &base);
}

scn_fault_world *scn_fault_apply(const scn_config *c, host *const *hosts, scn_dns *dns,
                                 scn_mailworld *mail) {
  scn_fault_world *fw = g_new0(scn_fault_world, 1);
  fw->c = c;
  fw->hosts = hosts;
  fw->w = c->hosts->len ? host_world(hosts[0]) : NULL;
  fw->dns = dns;
  fw->mail = mail;
  fw->acts = g_ptr_array_new_with_free_func(act_free);
  fw->by_host = g_ptr_array_new_with_free_func(host_faults_free);
  g_ptr_array_set_size(fw->by_host, c->hosts->len);
  for (guint i = 0; i < c->faults->len; i++) {
    const scn_fault *f = &g_array_index(c->faults, scn_fault, i);
    act *a = g_new0(act, 1);
    a->fw = fw;
    a->f = f;
    a->host = f->target ? scn_find_host(c, f->target) : -1;
    g_ptr_array_add(fw->acts, a);
    switch (f->kind) {
    case SCN_FAULT_LINK_DOWN:
    case SCN_FAULT_PARTITION:
    case SCN_FAULT_LATENCY:
    case SCN_FAULT_LOSS:
      apply_network(fw, a);
      break;
    case SCN_FAULT_CRASH: {
      sim_node *n = host_node(hosts[a->host]);
      sim_node_crash_at(n, f->at);
      if (f->until != SIM_TIME_NEVER)
        sim_node_restart_at(n, f->until);
      break;
    }
    case SCN_FAULT_DNS_MX:
      a->alt = mx_zone(c, f);
      /* fall through */
    case SCN_FAULT_DNS: {
      host_faults *hf = faults_of(fw, a->host);
      g_ptr_array_add(hf->acts, a);
      dns_auth_set_fault(scn_dns_auth(dns, a->host), hook_dns, hf);
      schedule_window(fw, a);
      break;
    }
    case SCN_FAULT_SMTP_REPLY:
    case SCN_FAULT_TARPIT:
    case SCN_FAULT_CUT_AFTER_DOT: {
      host_faults *hf = faults_of(fw, a->host);
      g_ptr_array_add(hf->acts, a);
      mta_fault_hooks hk = {hook_reply, hook_greeting, hook_cut, hf};
      mta_host_set_fault_hooks(scn_mailworld_mta(mail, a->host), &hk);
      schedule_window(fw, a);
      break;
    }
    case SCN_FAULT_DISK_FULL:
    case SCN_FAULT_TLS:
    case SCN_FAULT_MAILBOX_FULL:
      schedule_window(fw, a);
      break;
    default:
      g_assert_not_reached();
    }
  }
  return fw;
}

void scn_fault_world_free(scn_fault_world *fw) {
  if (!fw)
    return;
  g_ptr_array_unref(fw->by_host);
  g_ptr_array_unref(fw->acts);
  g_free(fw);
}
