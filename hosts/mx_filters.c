/* mx_filters.c — an MX's filter service (see mx_filters.h): the host glue
 * between the MTA's filter hook, the host's dns_client and the sans-I/O
 * engines of protocols/auth (SPF RFC 7208, DKIM RFC 6376, DMARC RFC 7489,
 * Authentication-Results RFC 8601) and protocols/filter (greylisting as
 * Postgrey, DNSBL RFC 5782, spam scoring as SpamAssassin).
 *
 * One job per filter ticket. A job owns its engines and its outstanding
 * lookups; every DNS answer arrives through a dns_client callback (never
 * synchronously), is handed to the engine that asked, and the job is
 * pumped again; when every engine is done the job answers its ticket and
 * is freed. Jobs live in an array of the service (ordered by creation) so
 * a crash can cancel their lookups and drop them.
 */
#include "mx_filters.h"

#include <string.h>

#include "authres.h"
#include "dkim_verify.h"
#include "dmarc_check.h"
#include "dmarc_from.h"
#include "mail_trace.h"
#include "mime_msg.h"
#include "msgkey.h"
#include "spf_check.h"

struct mx_filters {
  host *h;
  mta_host *m;
  dns_client *dns;
  mx_filters_config cfg;
  char *authserv_id;
  greylist *gl;
  bool bl_reject, bl_score; /* some list is in reject / score mode */
  GPtrArray *jobs;          /* job*, in creation order */
  /* connection id → xgrey_field for its next message (lookup only; kept
   * at most an hour) */
  GHashTable *xgrey;
  GArray *delays; /* mx_filters_delay, client strings owned */
  mx_filters_stats st;
};

typedef enum { LK_DNSBL, LK_SPF, LK_DKIM, LK_DMARC } lookup_kind;

typedef struct job job;

typedef struct {
  job *j;
  lookup_kind kind;
  uint32_t id;   /* the engine's query id */
  uint16_t type; /* asked type */
  uint64_t lid;  /* dns_client id */
} lookup;

struct job {
  mx_filters *f;
  uint64_t ticket;
  uint64_t conn;
  mta_filter_stage stage;
  char *client, *helo, *sender, *rcpt;
  char *msg;       /* message key (DATA) */
  char *data;      /* DATA: the message without forged Authentication-Results */
  size_t len;
  unsigned removed;
  GPtrArray *lookups; /* lookup*, outstanding */
  dnsbl_check *bl;
  bool bl_done;
  spf_check *spf;
  bool spf_done;
  dkim_verify *dkim;
  bool dkim_done;
  dmarc_check *dmarc;
  bool dmarc_done;
  char *from_domain;
};

void mx_filters_config_init(mx_filters_config *cfg) {
  static const char *const psl[] = {"com", "net", "org", "example"};
  memset(cfg, 0, sizeof *cfg);
  cfg->greylist = true;
  greylist_config_default(&cfg->greylist_cfg);
  cfg->spf = cfg->dkim = cfg->dmarc = true;
  cfg->spam = true;
  spam_config_default(&cfg->spam_cfg);
  cfg->public_suffixes = psl;
  cfg->nsuffixes = G_N_ELEMENTS(psl);
  cfg->epoch_unix = INT64_C(1767225600); /* 2026-01-01T00:00:00Z, as mta_host */
}

static int64_t now_unix(const mx_filters *f) {
  return f->cfg.epoch_unix + host_now(f->h) / SIM_S;
}

/* ---- jobs ---- */

static void job_free(job *j) {
  for (guint i = 0; i < j->lookups->len; i++) {
    lookup *l = j->lookups->pdata[i];
    dns_client_cancel(j->f->dns, l->lid);
    g_free(l);
  }
  g_ptr_array_free(j->lookups, TRUE);
  dnsbl_check_free(j->bl);
  spf_check_free(j->spf);
  dkim_verify_free(j->dkim);
  dmarc_check_free(j->dmarc);
  g_free(j->client);
  g_free(j->helo);
  g_free(j->sender);
  g_free(j->rcpt);
  g_free(j->msg);
  g_free(j->data);
  g_free(j->from_domain);
  g_free(j);
}

static void job_done(job *j) {
  g_ptr_array_remove(j->f->jobs, j);
  job_free(j);
}

static void on_dns(void *user, const dns_client_result *r);

static void ask(job *j, lookup_kind kind, uint32_t id, const char *qname, uint16_t type) {
  lookup *l = g_new0(lookup, 1);
  *l = (lookup){j, kind, id, type, 0};
  g_ptr_array_add(j->lookups, l);
  l->lid = dns_client_lookup(j->f->dns, qname, type, on_dns, l);
}

static void ask_auth(job *j, lookup_kind kind, const auth_dns_query *q) {
  char *name = dns_name_to_text(&q->name);
  ask(j, kind, q->id, name, q->type);
  g_free(name);
}

static auth_dns_status auth_status(const dns_client_result *r) {
  switch (r->rcode) {
  case 0:
    return AUTH_DNS_OK;
  case 3:
    return AUTH_DNS_NXDOMAIN;
  default:
    return AUTH_DNS_SERVFAIL;
  }
}

/* The dnsbl engine takes records as text: dotted quads for A, the joined
 * strings of the first record for TXT. */
static void answer_dnsbl(job *j, const lookup *l, const dns_client_result *r) {
  GPtrArray *recs = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; r->rrs && i < r->rrs->len; i++) {
    const dns_rr *rr = &g_array_index(r->rrs, dns_rr, i);
    if (rr->type != l->type)
      continue;
    if (rr->type == DNS_T_A)
      g_ptr_array_add(recs, g_strdup_printf("%u.%u.%u.%u", rr->rd.a[0], rr->rd.a[1], rr->rd.a[2],
                                            rr->rd.a[3]));
    else if (recs->len == 0) {
      size_t n;
      char *t = auth_dns_txt_join(rr, &n);
      g_ptr_array_add(recs, t);
    }
  }
  dnsbl_rcode rc = r->rcode == 3   ? DNSBL_RCODE_NXDOMAIN
                   : r->rcode != 0 ? DNSBL_RCODE_FAIL
                   : recs->len     ? DNSBL_RCODE_ANSWER
                                   : DNSBL_RCODE_NODATA;
  dnsbl_check_answer(j->bl, l->id, rc, (const char *const *)recs->pdata, recs->len);
  g_ptr_array_free(recs, TRUE);
}

static void job_pump(job *j);

static void on_dns(void *user, const dns_client_result *r) {
  lookup *l = user;
  job *j = l->j;
  g_ptr_array_remove(j->lookups, l);
  auth_dns_status st = auth_status(r);
  const dns_rr *rrs = r->rrs && r->rrs->len ? &g_array_index(r->rrs, dns_rr, 0) : NULL;
  size_t n = r->rrs ? r->rrs->len : 0;
  switch (l->kind) {
  case LK_DNSBL:
    answer_dnsbl(j, l, r);
    break;
  case LK_SPF:
    spf_check_answer(j->spf, l->id, st, rrs, n);
    break;
  case LK_DKIM:
    dkim_verify_answer(j->dkim, l->id, st, rrs, n);
    break;
  case LK_DMARC:
    dmarc_check_answer(j->dmarc, l->id, st, rrs, n);
    break;
  }
  g_free(l);
  job_pump(j);
}

/* ---- verdict records ---- */

static void trace_dnsbl(job *j) {
  const dnsbl_verdict *v = dnsbl_check_verdict(j->bl);
  GPtrArray *zones = g_ptr_array_new();
  for (guint i = 0; i < v->hits->len; i++)
    g_ptr_array_add(zones, (char *)((const dnsbl_hit *)v->hits->pdata[i])->zone);
  const char *action = v->reject ? "reject" : v->hits->len ? "score" : "none";
  mail_trace_policy_dnsbl(j->f->h, j->msg, j->msg ? 0 : j->conn, j->client, (const char *const *)zones->pdata,
                          zones->len, action);
  g_ptr_array_free(zones, TRUE);
}

static void trace_dkim(job *j) {
  size_t n = dkim_verify_count(j->dkim);
  mail_trace_dkim_sig *sigs = g_new0(mail_trace_dkim_sig, n + 1);
  for (size_t i = 0; i < n; i++) {
    const dkim_sig_result *s = dkim_verify_get(j->dkim, i);
    sigs[i] = (mail_trace_dkim_sig){s->domain, s->selector, dkim_result_name(s->result),
                                    s->reason};
  }
  mail_trace_policy_dkim(j->f->h, j->msg, dkim_result_name(dkim_verify_summary(j->dkim)), sigs,
                         n);
  g_free(sigs);
}

/* ---- RCPT ---- */

/* An X-Greylist field waiting for its connection's DATA. */
typedef struct {
  char *field;
  sim_time at;
} xgrey_field;

#define XGREY_KEEP (3600 * SIM_S)

static void xgrey_free(gpointer p) {
  xgrey_field *xf = p;
  g_free(xf->field);
  g_free(xf);
}

static gboolean xgrey_stale(gpointer key, gpointer value, gpointer cutoff) {
  (void)key;
  return ((xgrey_field *)value)->at < *(sim_time *)cutoff;
}

/* Greylisting after the DNSBL passed: answered at once (a local lookup). */
static void rcpt_greylist(job *j) {
  mx_filters *f = j->f;
  if (!f->cfg.greylist) {
    mta_host_filter_answer(f->m, j->ticket, 0, NULL, NULL, NULL);
    return;
  }
  sim_time now = host_now(f->h);
  greylist_verdict v;
  greylist_check(f->gl, j->client, j->sender, j->rcpt, now, &v);
  mail_trace_policy_greylist(f->h, NULL, j->conn, j->client, j->sender, j->rcpt,
                             greylist_result_name(v.result), v.waited);
  char *state = greylist_save(f->gl);
  /* A full disk keeps the old state: the greylist degrades, mail flows. */
  (void)disk_put(host_disk(f->h), MX_FILTERS_GREYLIST_KEY, g_bytes_new_take(state, strlen(state)));
  if (v.defer) {
    f->st.greylisted++;
    mta_host_filter_answer(f->m, j->ticket, v.code, v.esc, v.text, NULL);
  } else {
    if (v.result == GREYLIST_PASS_DELAYED) {
      mx_filters_delay d = {g_strdup(j->client), v.waited};
      g_array_append_val(f->delays, d);
      /* Forget fields of connections that never reached DATA (the set
       * removed does not depend on the table's order). */
      sim_time cutoff = now - XGREY_KEEP;
      g_hash_table_foreach_remove(f->xgrey, xgrey_stale, &cutoff);
      char *val = greylist_header_value(&v, mta_host_name(f->m), now, f->cfg.epoch_unix);
      xgrey_field *xf = g_new0(xgrey_field, 1);
      xf->at = now;
      xf->field = g_strdup_printf(GREYLIST_HEADER_NAME ": %s\r\n", val);
      g_hash_table_replace(f->xgrey, g_memdup2(&j->conn, sizeof j->conn), xf);
      g_free(val);
    }
    mta_host_filter_answer(f->m, j->ticket, 0, NULL, NULL, NULL);
  }
  greylist_verdict_clear(&v);
}

static void rcpt_finish(job *j) {
  const dnsbl_verdict *v = j->bl ? dnsbl_check_verdict(j->bl) : NULL;
  if (v && v->reject) {
    j->f->st.dnsbl_rejected++;
    mta_host_filter_answer(j->f->m, j->ticket, v->code, v->esc, v->text, NULL);
  } else {
    rcpt_greylist(j);
  }
  job_done(j);
}

/* ---- DATA ---- */

/* spam.h mirrors the RFC result enums in the same order. */
G_STATIC_ASSERT((int)SPF_PERMERROR == (int)SPAM_SPF_PERMERROR);
G_STATIC_ASSERT((int)DKIM_PERMERROR == (int)SPAM_DKIM_PERMERROR);
G_STATIC_ASSERT((int)DMARC_PERMERROR == (int)SPAM_DMARC_PERMERROR);
G_STATIC_ASSERT((int)DKIM_NEUTRAL == (int)SPAM_DKIM_NEUTRAL);
static spam_spf spam_spf_of(spf_result r) { return (spam_spf)r; /* same order, spam.h */ }
static spam_dkim spam_dkim_of(dkim_result r) { return (spam_dkim)r; }
static spam_dmarc spam_dmarc_of(dmarc_result r) { return (spam_dmarc)r; }

static void data_finish(job *j) {
  mx_filters *f = j->f;
  GString *pre = g_string_new(NULL);
  gpointer key = NULL, xg = NULL;
  if (g_hash_table_steal_extended(f->xgrey, &j->conn, &key, &xg)) {
    g_string_append(pre, ((xgrey_field *)xg)->field);
    g_free(key);
    xgrey_free(xg);
  }
  authres *ar = authres_new(f->authserv_id);
  if (j->spf)
    authres_add_spf(ar, j->spf);
  if (j->dkim)
    authres_add_dkim(ar, j->dkim);
  if (j->dmarc)
    authres_add_dmarc(ar, j->dmarc);
  char *arh = authres_header(ar);
  authres_free(ar);
  g_string_append(pre, arh);
  g_free(arh);
  if (j->spf) {
    char *rs = spf_check_received_spf(j->spf);
    g_string_append_printf(pre, "%s\r\n", rs);
    g_free(rs);
  }
  dmarc_policy disp = j->dmarc ? dmarc_check_disposition(j->dmarc) : DMARC_POLICY_NONE;
  int code = 0;
  const char *esc = NULL;
  char *text = NULL;
  if (disp == DMARC_POLICY_REJECT) {
    f->st.dmarc_rejected++;
    code = 550;
    esc = "5.7.1";
    text = g_strdup_printf("Rejected by DMARC policy for %s", j->from_domain);
  }
  bool flag = disp == DMARC_POLICY_QUARANTINE;
  if (!code && f->cfg.spam) {
    mime_msg *mm = mime_msg_parse(j->data, j->len, NULL);
    spam_input in;
    spam_input_init(&in, mm, j->sender);
    if (j->spf)
      in.spf = spam_spf_of(spf_check_result(j->spf));
    if (j->dkim)
      in.dkim = spam_dkim_of(dkim_verify_summary(j->dkim));
    if (j->dmarc) {
      in.dmarc = spam_dmarc_of(dmarc_check_result(j->dmarc));
      dmarc_policy p = dmarc_check_policy(j->dmarc);
      in.dmarc_policy = p == DMARC_POLICY_REJECT       ? SPAM_DMARC_P_REJECT
                        : p == DMARC_POLICY_QUARANTINE ? SPAM_DMARC_P_QUARANTINE
                                                       : SPAM_DMARC_P_NONE;
    }
    in.dnsbl = j->bl ? dnsbl_check_verdict(j->bl) : NULL;
    spam_result r;
    spam_score(&f->cfg.spam_cfg, &in, &r);
    GPtrArray *names = g_ptr_array_new();
    for (guint i = 0; i < r.hits->len; i++)
      g_ptr_array_add(names, ((spam_hit *)r.hits->pdata[i])->name);
    mail_trace_policy_spam(f->h, j->msg, r.score, (const char *const *)names->pdata, names->len,
                           spam_decision_name(r.decision));
    g_ptr_array_free(names, TRUE);
    if (r.decision == SPAM_REJECT) {
      f->st.spam_rejected++;
      code = r.code;
      esc = r.esc;
      text = g_strdup(r.text);
    } else {
      if (r.flag_header)
        flag = true;
      if (flag)
        g_string_append(pre, "X-Spam-Flag: YES\r\n");
      g_string_append_printf(pre, "X-Spam-Score: %s\r\nX-Spam-Status: %s\r\n", r.score_header,
                             r.status_header);
    }
    spam_result_clear(&r);
    mime_msg_free(mm);
  } else if (!code && flag) {
    g_string_append(pre, "X-Spam-Flag: YES\r\n");
  }
  if (code)
    mta_host_filter_answer(f->m, j->ticket, code, esc, text, NULL);
  else {
    if (flag)
      f->st.spam_tagged++;
    if (j->removed)
      mta_host_filter_accept_rewritten(f->m, j->ticket, pre->str, (const uint8_t *)j->data,
                                       j->len);
    else
      mta_host_filter_answer(f->m, j->ticket, 0, NULL, NULL, pre->str);
  }
  g_free(text);
  g_string_free(pre, TRUE);
  job_done(j);
}

static uint32_t draw(void *ud) { return (uint32_t)sim_rng_u64(host_rng(ud)); }

static void dmarc_start(job *j) {
  mx_filters *f = j->f;
  char *dom = NULL;
  if (!f->cfg.dmarc || dmarc_from_domain(j->data, j->len, &dom) != DMARC_FROM_OK) {
    j->dmarc_done = true; /* no single From domain: no DMARC (§6.6.1, caller's choice) */
    return;
  }
  j->from_domain = dom;
  size_t n = j->dkim ? dkim_verify_count(j->dkim) : 0;
  dmarc_dkim *dk = g_new0(dmarc_dkim, n + 1);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const dkim_sig_result *s = dkim_verify_get(j->dkim, i);
    if (s->domain)
      dk[k++] = (dmarc_dkim){s->domain, s->result};
  }
  dmarc_request req = {.from_domain = dom,
                       .spf = j->spf ? spf_check_result(j->spf) : SPF_NONE,
                       .spf_domain = j->spf ? spf_check_domain(j->spf) : NULL,
                       .dkim = dk,
                       .ndkim = k,
                       .public_suffixes = f->cfg.public_suffixes,
                       .nsuffixes = f->cfg.nsuffixes};
  /* pct sampling draws from the node's stream (dmarc_check.h: at most one
   * draw, only for a failing message under pct < 100). */
  auth_env env = {.rand = draw, .rand_ud = f->h};
  j->dmarc = dmarc_check_new(&req, &env);
  g_free(dk);
}

/* Drives every engine of J as far as it goes; finishes J when all are
 * done. J may be freed on return. */
static void job_pump(job *j) {
  if (j->bl && !j->bl_done) {
    dnsbl_query q;
    while (dnsbl_check_next_query(j->bl, &q))
      ask(j, LK_DNSBL, q.id, q.name, q.qtype == DNSBL_QTYPE_A ? DNS_T_A : DNS_T_TXT);
    if (dnsbl_check_state_get(j->bl) == DNSBL_CHECK_DONE) {
      j->bl_done = true;
      trace_dnsbl(j);
    }
  }
  if (j->spf && !j->spf_done) {
    spf_event ev;
    while (spf_check_next(j->spf, &ev)) {
      if (ev.kind == SPF_EV_DNS_QUERY) {
        ask_auth(j, LK_SPF, &ev.query);
      } else {
        j->spf_done = true;
        mail_trace_policy_spf(j->f->h, j->msg, j->client,
                              spf_identity_name(spf_check_identity(j->spf)),
                              spf_check_domain(j->spf), spf_result_name(spf_check_result(j->spf)));
      }
    }
  }
  if (j->dkim && !j->dkim_done) {
    dkim_event ev;
    while (dkim_verify_next(j->dkim, &ev)) {
      if (ev.kind == DKIM_EV_DNS_QUERY) {
        ask_auth(j, LK_DKIM, &ev.query);
      } else {
        j->dkim_done = true;
        trace_dkim(j);
      }
    }
  }
  if (j->stage == MTA_FILTER_DATA && !j->dmarc && !j->dmarc_done && j->spf_done && j->dkim_done)
    dmarc_start(j);
  if (j->dmarc && !j->dmarc_done) {
    dmarc_event ev;
    while (dmarc_check_next(j->dmarc, &ev)) {
      if (ev.kind == DMARC_EV_DNS_QUERY) {
        ask_auth(j, LK_DMARC, &ev.query);
      } else {
        j->dmarc_done = true;
        dmarc_check *d = j->dmarc;
        mail_trace_policy_dmarc(j->f->h, j->msg, dmarc_check_from_domain(d),
                                dmarc_result_name(dmarc_check_result(d)),
                                dmarc_policy_name(dmarc_check_policy(d)),
                                dmarc_policy_name(dmarc_check_disposition(d)));
      }
    }
  }
  if (!j->bl_done || !j->spf_done || !j->dkim_done || !j->dmarc_done)
    return;
  if (j->stage == MTA_FILTER_RCPT)
    rcpt_finish(j);
  else
    data_finish(j);
}

static void filter(void *user, mta_host *m, uint64_t ticket, const mta_filter_query *q) {
  mx_filters *f = user;
  g_assert(m == f->m);
  job *j = g_new0(job, 1);
  j->f = f;
  j->ticket = ticket;
  j->conn = q->conn;
  j->stage = q->stage;
  j->client = g_strdup(q->client);
  j->helo = g_strdup(q->helo ? q->helo : "");
  j->sender = g_strdup(q->sender ? q->sender : "");
  j->lookups = g_ptr_array_new();
  g_ptr_array_add(f->jobs, j);
  j->spf_done = j->dkim_done = j->dmarc_done = true;
  j->bl_done = true;
  if (q->stage == MTA_FILTER_RCPT) {
    f->st.rcpt_checks++;
    j->rcpt = g_strdup(q->rcpt);
    if (f->bl_reject) {
      j->bl = dnsbl_check_new(f->cfg.dnsbl, (guint)f->cfg.ndnsbl, j->client);
      j->bl_done = false;
    }
  } else {
    f->st.data_checks++;
    j->msg = msgkey_of(q->data, q->len);
    j->data = authres_strip((const char *)q->data, q->len, f->authserv_id, &j->len, &j->removed);
    f->st.authres_removed += j->removed;
    int64_t t = now_unix(f);
    if (f->bl_score) {
      j->bl = dnsbl_check_new(f->cfg.dnsbl, (guint)f->cfg.ndnsbl, j->client);
      j->bl_done = false;
    }
    if (f->cfg.spf) {
      bool null_path = !*j->sender;
      spf_request req = {.ip = j->client,
                         .helo = j->helo,
                         .mailfrom = j->sender,
                         .identity = null_path ? SPF_ID_HELO : SPF_ID_MAILFROM,
                         .receiver = f->authserv_id,
                         .now_unix = t};
      j->spf = spf_check_new(&req, NULL);
      j->spf_done = j->spf == NULL;
    }
    if (f->cfg.dkim) {
      j->dkim = dkim_verify_new(NULL, NULL);
      dkim_verify_feed(j->dkim, j->data, j->len);
      dkim_verify_end(j->dkim, t);
      j->dkim_done = false;
    }
    j->dmarc_done = !f->cfg.dmarc;
  }
  job_pump(j);
}

/* ---- the service ---- */

static void reload_greylist(mx_filters *f) {
  GBytes *b = disk_get(host_disk(f->h), MX_FILTERS_GREYLIST_KEY);
  if (!b)
    return;
  gsize n;
  const char *t = g_bytes_get_data(b, &n);
  char *err = NULL;
  if (!greylist_load(f->gl, t, n, &err)) /* our own bytes: a bug if unreadable */
    g_error("mx_filters: greylist state on %s: %s", host_name(f->h), err);
}

static void on_crash(void *user, bool crashed) {
  mx_filters *f = user;
  if (crashed) {
    while (f->jobs->len)
      job_done(f->jobs->pdata[f->jobs->len - 1]);
    g_hash_table_remove_all(f->xgrey);
    greylist_free(f->gl); /* memory is lost; the disk keeps the state */
    f->gl = greylist_new(&f->cfg.greylist_cfg);
  } else {
    reload_greylist(f);
  }
}

mx_filters *mx_filters_new(host *h, mta_host *m, dns_client *dns, const mx_filters_config *cfg) {
  g_assert(h && m && cfg);
  g_assert(dns || (!cfg->ndnsbl && !cfg->spf && !cfg->dkim && !cfg->dmarc));
  mx_filters *f = g_new0(mx_filters, 1);
  f->h = h;
  f->m = m;
  f->dns = dns;
  f->cfg = *cfg;
  f->authserv_id = g_strdup(cfg->authserv_id ? cfg->authserv_id : mta_host_name(m));
  f->cfg.authserv_id = f->authserv_id;
  f->gl = greylist_new(&cfg->greylist_cfg);
  for (size_t i = 0; i < cfg->ndnsbl; i++) {
    if (cfg->dnsbl[i].action == DNSBL_REJECT)
      f->bl_reject = true;
    else
      f->bl_score = true;
  }
  f->jobs = g_ptr_array_new();
  f->xgrey = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, xgrey_free);
  f->delays = g_array_new(FALSE, FALSE, sizeof(mx_filters_delay));
  reload_greylist(f);
  host_on_crash(h, on_crash, f);
  mta_host_set_filter(m, filter, f);
  return f;
}

void mx_filters_free(mx_filters *f) {
  if (!f)
    return;
  mta_host_set_filter(f->m, NULL, NULL);
  while (f->jobs->len)
    job_done(f->jobs->pdata[f->jobs->len - 1]);
  g_ptr_array_free(f->jobs, TRUE);
  g_hash_table_destroy(f->xgrey);
  for (guint i = 0; i < f->delays->len; i++)
    g_free((char *)g_array_index(f->delays, mx_filters_delay, i).client);
  g_array_free(f->delays, TRUE);
  greylist_free(f->gl);
  g_free(f->authserv_id);
  g_free(f);
}

void mx_filters_get_stats(const mx_filters *f, mx_filters_stats *st) { *st = f->st; }

const mx_filters_delay *mx_filters_delays(const mx_filters *f, size_t *n) {
  *n = f->delays->len;
  return (const mx_filters_delay *)(void *)f->delays->data;
}

int64_t mx_filters_greylist_delay(const mx_filters *f) {
  return f->cfg.greylist ? f->cfg.greylist_cfg.delay : 0;
}
