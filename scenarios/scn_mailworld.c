/* scn_mailworld.c — scenario roles -> MTA, mailbox and client services. */
#include "scn_mailworld.h"

#include <string.h>

#include "mailbox_host.h"
#include "mta.h"
#include "mta_dkim.h"
#include "mx_filters.h"
#include "mua.h"
#include "tls_host.h"
#include "userdir.h"

struct scn_mailworld {
  userdir *users;
  tls_world *tls;
  GPtrArray *tls_hosts; /* tls_host* */
  GPtrArray *mtas;      /* mta_host* */
  GPtrArray *mta_nodes; /* char*: the node of each MTA (borrowed from the config) */
  GPtrArray *filters;   /* mx_filters*: freed before the MTAs */
  GPtrArray *signers;   /* mta_dkim*: freed before the MTAs */
  GPtrArray *mailboxes; /* mailbox_host* */
  GPtrArray *muas;      /* mua* or NULL, by host index */
};

static const scn_host *cfg_host(const scn_config *c, const char *name) {
  return &g_array_index(c->hosts, scn_host, scn_find_host(c, name));
}

static const char *first_addr(const scn_host *h) {
  for (guint i = 0; i < h->addrs->len; i++)
    if (!strchr(h->addrs->pdata[i], ':'))
      return h->addrs->pdata[i];
  return h->addrs->len ? h->addrs->pdata[0] : NULL;
}

static bool is_mail_role(const char *role) {
  return !strcmp(role, "mta") || !strcmp(role, "mailbox") || !strcmp(role, "mua");
}

static tls_host *make_tls(scn_mailworld *mw, const scn_host *h, host *ho) {
  const char *names[2] = {h->name, h->mta.hostname};
  size_t n = h->mta.hostname && strcmp(h->mta.hostname, h->name) ? 2 : 1;
  tls_host *th = tls_host_new(mw->tls, ho, names, n);
  g_ptr_array_add(mw->tls_hosts, th);
  return th;
}

static void start_mta(scn_mailworld *mw, const scn_config *c, const scn_host *h, host *ho,
                      tls_host *th, dns_client *dns) {
  mta_host_config cfg;
  mta_host_config_init(&cfg);
  cfg.hostname = h->mta.hostname ? h->mta.hostname : h->name;
  cfg.local_domains = (const char *const *)h->mta.domains->pdata;
  cfg.nlocal_domains = h->mta.domains->len;
  cfg.submission = h->mta.submission;
  cfg.mx = h->mta.mx;
  /* By name: the node is found, and TLS checks the name its certificate has. */
  cfg.mailbox_host = h->mta.mailbox_host;
  cfg.retry_profile = h->mta.retry;
  cfg.smarthost = h->mta.smarthost;
  cfg.epoch_unix = c->epoch_unix;
  mta_host *mta = mta_host_new(ho, &cfg, mw->users, th, dns);
  g_ptr_array_add(mw->mtas, mta);
  g_ptr_array_add(mw->mta_nodes, h->name);
  if (h->mta.dkim_domain) {
    uint8_t sd[32];
    scn_dkim_seed(sim_world_seed(host_world(ho)), h, sd);
    mta_dkim_config dc;
    mta_dkim_config_init(&dc);
    dc.domain = h->mta.dkim_domain;
    dc.selector = h->mta.dkim_selector;
    dc.ed25519_seed = sd;
    dc.seed_len = sizeof sd;
    mta_dkim *sig = mta_dkim_new(mta, &dc);
    g_assert(sig); /* a seed is always a valid Ed25519 key */
    g_ptr_array_add(mw->signers, sig);
  }
  if (h->mta.filters) {
    mx_filters_config fc;
    mx_filters_config_init(&fc);
    fc.epoch_unix = c->epoch_unix;
    if (h->mta.greylist_delay)
      fc.greylist_cfg.delay = h->mta.greylist_delay;
    g_ptr_array_add(mw->filters, mx_filters_new(ho, mta, dns, &fc));
  }
}

static void start_mailbox(scn_mailworld *mw, const scn_config *c, const scn_host *h, host *ho,
                          tls_host *th) {
  mailbox_host_config cfg;
  mailbox_host_config_init(&cfg);
  cfg.quota_bytes = h->mailbox.quota;
  cfg.imap = h->mailbox.imap;
  cfg.pop3 = h->mailbox.pop3;
  cfg.epoch_unix = c->epoch_unix;
  g_ptr_array_add(mw->mailboxes, mailbox_host_new(ho, &cfg, mw->users, th));
}

static mua *start_mua(const scn_config *c, const scn_host *h, host *ho, tls_host *th,
                      dns_client *dns) {
  mua_config cfg;
  mua_config_init(&cfg);
  cfg.epoch_unix = c->epoch_unix;
  mua *m = mua_new(ho, &cfg, th, dns);
  for (guint i = 0; i < c->users->len; i++) {
    const scn_user *u = &g_array_index(c->users, scn_user, i);
    if (!u->client || strcmp(u->client, h->name) != 0)
      continue;
    if (u->submit) { /* an account to send from */
      const scn_host *sub = cfg_host(c, u->submit);
      mua_account a = {u->address, u->password, NULL, sub->name, first_addr(sub)};
      mua_add_account(m, &a);
    }
    if (u->fetch != SCN_FETCH_NONE) {
      const scn_host *mb = cfg_host(c, u->mailbox);
      mua_fetch f = {u->fetch == SCN_FETCH_IMAP ? MUA_IMAP : MUA_POP3,
                     mb->name,
                     first_addr(mb),
                     u->address,
                     u->password,
                     u->every,
                     u->every,
                     u->keep};
      mua_fetch_every(m, &f);
    }
  }
  return m;
}

static void send_messages(scn_mailworld *mw, const scn_config *c) {
  for (guint i = 0; i < c->messages->len; i++) {
    const scn_message *sm = &g_array_index(c->messages, scn_message, i);
    const scn_user *u = scn_find_user(c, sm->from);
    mua *m = mw->muas->pdata[scn_find_host(c, u->client)];
    GArray *att = g_array_new(FALSE, FALSE, sizeof(mua_attachment));
    for (guint k = 0; k < sm->attachments->len; k++) {
      const scn_attachment *a = &g_array_index(sm->attachments, scn_attachment, k);
      mua_attachment ma = {a->name, a->type, a->size};
      g_array_append_val(att, ma);
    }
    mua_message msg = {sm->id,
                       u->address,
                       (const char *const *)sm->to->pdata,
                       (const char *const *)sm->cc->pdata,
                       (const char *const *)sm->bcc->pdata,
                       sm->to->len,
                       sm->cc->len,
                       sm->bcc->len,
                       sm->subject,
                       sm->text,
                       sm->html,
                       (const mua_attachment *)att->data,
                       att->len};
    mua_send(m, &msg, sm->at);
    g_array_unref(att);
  }
}

scn_mailworld *scn_mailworld_new(const scn_config *c, host *const *hosts, scn_dns *dns) {
  scn_mailworld *mw = g_new0(scn_mailworld, 1);
  mw->users = userdir_new();
  for (guint i = 0; i < c->users->len; i++) {
    const scn_user *u = &g_array_index(c->users, scn_user, i);
    userdir_add(mw->users, u->address, u->password, u->mailbox);
  }
  mw->tls_hosts = g_ptr_array_new_with_free_func((GDestroyNotify)tls_host_free);
  mw->mtas = g_ptr_array_new_with_free_func((GDestroyNotify)mta_host_free);
  mw->mta_nodes = g_ptr_array_new();
  mw->filters = g_ptr_array_new_with_free_func((GDestroyNotify)mx_filters_free);
  mw->signers = g_ptr_array_new_with_free_func((GDestroyNotify)mta_dkim_free);
  mw->mailboxes = g_ptr_array_new_with_free_func((GDestroyNotify)mailbox_host_free);
  mw->muas = g_ptr_array_new_with_free_func((GDestroyNotify)mua_free);
  bool any = false;
  for (guint i = 0; i < c->hosts->len; i++)
    any |= is_mail_role(g_array_index(c->hosts, scn_host, i).role);
  if (any)
    mw->tls = tls_world_new(host_world(hosts[0]));
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    mua *m = NULL;
    if (is_mail_role(h->role)) {
      /* "tls": false — no certificates, no STARTTLS offered or asked for. */
      tls_host *th = c->tls ? make_tls(mw, h, hosts[i]) : NULL;
      dns_client *dc = scn_dns_client(dns, (int)i);
      if (!strcmp(h->role, "mta"))
        start_mta(mw, c, h, hosts[i], th, dc);
      else if (!strcmp(h->role, "mailbox"))
        start_mailbox(mw, c, h, hosts[i], th);
      else
        m = start_mua(c, h, hosts[i], th, dc);
    }
    g_ptr_array_add(mw->muas, m);
  }
  send_messages(mw, c);
  return mw;
}

void scn_mailworld_free(scn_mailworld *mw) {
  if (!mw)
    return;
  g_ptr_array_unref(mw->muas);
  g_ptr_array_unref(mw->mailboxes);
  g_ptr_array_unref(mw->filters);
  g_ptr_array_unref(mw->signers);
  g_ptr_array_unref(mw->mtas);
  g_ptr_array_unref(mw->mta_nodes);
  g_ptr_array_unref(mw->tls_hosts);
  tls_world_free(mw->tls);
  userdir_free(mw->users);
  g_free(mw);
}

bool scn_mailworld_any(const scn_mailworld *mw) { return mw->tls != NULL; }

void scn_mailworld_totals(scn_mailworld *mw, scn_mail_totals *t, GPtrArray *violations) {
  memset(t, 0, sizeof *t);
  for (guint i = 0; i < mw->muas->len; i++) {
    if (!mw->muas->pdata[i])
      continue;
    mua_stats st;
    mua_get_stats(mw->muas->pdata[i], &st);
    t->composed += st.composed;
    t->accepted += st.accepted;
    t->fetched += st.fetched;
    t->failed += st.failed;
  }
  for (guint i = 0; i < mw->mailboxes->len; i++)
    t->delivered += mailbox_host_delivered(mw->mailboxes->pdata[i]);
  for (guint i = 0; i < mw->mtas->len; i++) {
    mta_host_stats st;
    mta_host_get_stats(mw->mtas->pdata[i], &st);
    t->queued += st.queued;
    t->violations += mta_host_check(mw->mtas->pdata[i], violations);
  }
}

size_t scn_mailworld_mta_count(const scn_mailworld *mw) { return mw->mtas->len; }

const char *scn_mailworld_mta_node(const scn_mailworld *mw, size_t i) {
  g_assert(i < mw->mta_nodes->len);
  return mw->mta_nodes->pdata[i];
}

void scn_mailworld_mta_queue(const scn_mailworld *mw, size_t i, GPtrArray *ids) {
  g_assert(i < mw->mtas->len);
  mta_host_queue_ids(mw->mtas->pdata[i], ids);
}
