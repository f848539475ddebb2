/* scn_mailworld.c — scenario roles -> MTA, mailbox and client services. */
#include "scn_mailworld.h"

#include <string.h>

#include "mailbox_host.h"
#include "mta.h"
#include "mta_dkim.h"
#include "mta_retry.h"
#include "mx_filters.h"
#include "mua.h"
#include "tls_host.h"
#include "userdir.h"

struct scn_mailworld {
  userdir *users;
  bool any;       /* a host with a mail role */
  tls_world *tls; /* made with the first host that uses TLS (its CA key is costly) */
  GPtrArray *tls_hosts; /* tls_host* */
  GPtrArray *mtas;      /* mta_host* */
  mta_queue_texts *mta_texts; /* the MTAs' reply texts, shared; freed after them */
  GPtrArray *mta_nodes; /* char*: the node of each MTA (borrowed from the config) */
  GPtrArray *filters;   /* mx_filters*: freed before the MTAs */
  GPtrArray *signers;   /* mta_dkim*: freed before the MTAs */
  GPtrArray *mailboxes; /* mailbox_host* */
  GPtrArray *muas;      /* mua* or NULL, by host index */
  GPtrArray *filter_data; /* what the filters borrow (DNSBL lists, string arrays) */
  GPtrArray *filter_hosts; /* scn_host* of each filters entry (borrowed from the config) */
  /* borrowed, by host index (NULL: none) */
  GPtrArray *mta_of, *mbox_of, *tls_of;
  /* the traffic: the config's messages (borrowed: the config outlives the
   * world; released as they are sent when c->release_messages), their
   * indexes in the order they are sent (freed after the last), the next
   * one */
  const scn_config *cfg;
  sim_world *w;
  sim_time t0; /* the world's time when built: no message is sent before */
  guint32 *send_order;
  guint nsend, next_send;
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

G_STATIC_ASSERT((int)SCN_TLS_SVC_SUBMISSION == (int)TLS_HOST_SUBMISSION &&
                (int)SCN_TLS_SVC_RELAY == (int)TLS_HOST_RELAY &&
                (int)SCN_TLS_SVC_LMTP == (int)TLS_HOST_LMTP &&
                (int)SCN_TLS_SVC_IMAP == (int)TLS_HOST_IMAP &&
                (int)SCN_TLS_SVC_POP3 == (int)TLS_HOST_POP3 &&
                (int)SCN_TLS_SVC__COUNT == (int)TLS_HOST__SERVICES);

/* The services a host of ROLE takes part in, as a server or a client. */
static unsigned role_services(const char *role) {
  if (!strcmp(role, "mta"))
    return 1u << TLS_HOST_SUBMISSION | 1u << TLS_HOST_RELAY | 1u << TLS_HOST_LMTP;
  if (!strcmp(role, "mailbox"))
    return 1u << TLS_HOST_LMTP | 1u << TLS_HOST_IMAP | 1u << TLS_HOST_POP3;
  return 1u << TLS_HOST_SUBMISSION | 1u << TLS_HOST_IMAP | 1u << TLS_HOST_POP3; /* mua */
}

/* H's TLS for the scenario's services ("tls"), or NULL when none of them
 * concerns it (no certificate, no contexts: its stream "tls:NAME" is drawn
 * by nothing else). */
static tls_host *make_tls(scn_mailworld *mw, const scn_config *c, const scn_host *h, host *ho) {
  if (!(c->tls_services & role_services(h->role)))
    return NULL;
  const char *names[2] = {h->name, h->mta.hostname};
  size_t n = h->mta.hostname && strcmp(h->mta.hostname, h->name) ? 2 : 1;
  if (!mw->tls) /* its stream ("tls:ca") is its own: made here or first, same draws */
    mw->tls = tls_world_new(host_world(ho));
  tls_host *th = tls_host_new(mw->tls, ho, names, n);
  tls_host_set_services(th, c->tls_services);
  g_ptr_array_add(mw->tls_hosts, th);
  return th;
}

/* A NULL-terminated copy of A's strings' pointers, kept until the world
 * ends (the filters borrow it). NULL for NULL. */
static const char *const *kept_strv(scn_mailworld *mw, const GPtrArray *a) {
  if (!a)
    return NULL;
  const char **v = g_new0(const char *, a->len + 1);
  for (guint i = 0; i < a->len; i++)
    v[i] = a->pdata[i];
  g_ptr_array_add(mw->filter_data, v);
  return v;
}

/* The scenario's filter settings (scn_filters.c) over the defaults in FC. */
static void filters_config(scn_mailworld *mw, const scn_filters *sf, sim_time delay,
                           mx_filters_config *fc) {
  fc->greylist = !sf->greylist_off;
  if (delay)
    fc->greylist_cfg.delay = delay;
  if (sf->gl_retry_window)
    fc->greylist_cfg.retry_window = sf->gl_retry_window;
  if (sf->gl_max_age)
    fc->greylist_cfg.max_age = sf->gl_max_age;
  if (sf->gl_awl_clients >= 0)
    fc->greylist_cfg.awl_clients = (guint)sf->gl_awl_clients;
  guint n = sf->dnsbl ? sf->dnsbl->len : 0;
  if (n) {
    dnsbl_zone *z = g_new0(dnsbl_zone, n);
    for (guint i = 0; i < n; i++) {
      const scn_dnsbl *d = &g_array_index(sf->dnsbl, scn_dnsbl, i);
      dnsbl_zone_default(&z[i], d->zone);
      z[i].action = d->reject ? DNSBL_REJECT : DNSBL_SCORE;
      z[i].weight = d->weight;
      if (d->rule)
        z[i].rule = d->rule;
    }
    g_ptr_array_add(mw->filter_data, z);
    fc->dnsbl = z;
    fc->ndnsbl = n;
  }
  if (sf->has_tag)
    fc->spam_cfg.tag_threshold = sf->spam_tag;
  if (sf->has_reject)
    fc->spam_cfg.reject_threshold = sf->spam_reject;
  for (guint i = 0; sf->rule_weights && i < sf->rule_weights->len; i++) {
    const scn_rule_weight *w = &g_array_index(sf->rule_weights, scn_rule_weight, i);
    gboolean ok = spam_config_set_weight(&fc->spam_cfg, w->name, w->tenths);
    g_assert(ok); /* the loader checked the name */
  }
  if (sf->subject_keywords)
    fc->spam_cfg.subject_keywords = kept_strv(mw, sf->subject_keywords);
  if (sf->public_suffixes) {
    fc->public_suffixes = kept_strv(mw, sf->public_suffixes);
    fc->nsuffixes = sf->public_suffixes->len;
  }
}

static mta_host *start_mta(scn_mailworld *mw, const scn_config *c, const scn_host *h, host *ho,
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
  cfg.tls_policy = h->mta.tls_encrypt ? MTA_TLS_ENCRYPT : MTA_TLS_MAY;
  cfg.texts = mw->mta_texts;
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
    filters_config(mw, &h->mta.filt, h->mta.greylist_delay, &fc);
    g_ptr_array_add(mw->filters, mx_filters_new(ho, mta, dns, &fc));
    g_ptr_array_add(mw->filter_hosts, (gpointer)h);
  }
  return mta;
}

/* Does some MX of the scenario run filters (and so may flag spam)? */
static bool any_filters(const scn_config *c) {
  for (guint i = 0; i < c->hosts->len; i++)
    if (g_array_index(c->hosts, scn_host, i).mta.filters)
      return true;
  return false;
}

static mailbox_host *start_mailbox(scn_mailworld *mw, const scn_config *c, const scn_host *h,
                                   host *ho, tls_host *th) {
  mailbox_host_config cfg;
  mailbox_host_config_init(&cfg);
  cfg.quota_bytes = h->mailbox.quota;
  cfg.imap = h->mailbox.imap;
  cfg.pop3 = h->mailbox.pop3;
  cfg.epoch_unix = c->epoch_unix;
  /* Flagged mail goes to Junk when some MX flags it (otherwise the check
   * would parse every message for nothing). */
  if (h->mailbox.spam_folder || any_filters(c))
    cfg.spam_folder = h->mailbox.spam_folder ? h->mailbox.spam_folder : "Junk";
  cfg.keep_messages = c->keep_messages;
  mailbox_host *mb = mailbox_host_new(ho, &cfg, mw->users, th);
  g_ptr_array_add(mw->mailboxes, mb);
  for (guint i = 0; i < c->users->len; i++) {
    const scn_user *u = &g_array_index(c->users, scn_user, i);
    if (u->sieve && u->mailbox && !strcmp(u->mailbox, h->name)) {
      bool ok = mailbox_host_set_sieve(mb, u->address, u->sieve, NULL);
      g_assert(ok); /* the loader parsed it */
    }
  }
  return mb;
}

/* The client on H for its users: FIRST, then NEXT[...] (-1 ends), in
 * the order of $.users. */
static mua *start_mua(const scn_config *c, host *ho, tls_host *th, dns_client *dns, gint first,
                      const gint *next) {
  mua_config cfg;
  mua_config_init(&cfg);
  cfg.epoch_unix = c->epoch_unix;
  mua *m = mua_new(ho, &cfg, th, dns);
  for (gint i = first; i >= 0; i = next[i]) {
    const scn_user *u = &g_array_index(c->users, scn_user, i);
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

static void send_message(scn_mailworld *mw, guint i) {
  const scn_config *c = mw->cfg;
  const scn_message *sm = scn_msgs_at(c->messages, i);
  const scn_user *u = scn_find_user(c, sm->from);
  mua *m = mw->muas->pdata[scn_find_host(c, u->client)];
  mua_attachment *att = g_new(mua_attachment, sm->attachments->len + 1);
  for (guint k = 0; k < sm->attachments->len; k++) {
    const scn_attachment *a = &g_array_index(sm->attachments, scn_attachment, k);
    att[k] = (mua_attachment){a->name, a->type, a->size};
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
                     att,
                     sm->attachments->len};
  mua_send_now(m, &msg, i);
  g_free(att);
  /* the client has composed it or keeps its own copy (mua.h): the
   * scenario's copy is not needed again when this run is its last use */
  if (c->release_messages)
    scn_msgs_release(c->messages, i);
}

static sim_time msg_time(const scn_mailworld *mw, guint i) {
  sim_time at = scn_msgs_at(mw->cfg->messages, i)->at;
  return at > mw->t0 ? at : mw->t0;
}

/* The scheduler's source (sim_sched_set_source): the message due now. */
static sim_time send_next(void *ctx) {
  scn_mailworld *mw = ctx;
  send_message(mw, mw->send_order[mw->next_send++]);
  if (mw->next_send == mw->nsend) { /* the order is no longer needed */
    g_free(mw->send_order);
    mw->send_order = NULL;
    return SIM_TIME_NEVER;
  }
  return msg_time(mw, mw->send_order[mw->next_send]);
}

typedef struct {
  sim_time at; /* msg_time */
  guint32 i;
} timed;

static int by_time(gconstpointer x, gconstpointer y, gpointer user) {
  (void)user;
  const timed *a = x, *b = y;
  return a->at < b->at ? -1 : a->at > b->at ? 1 : a->i < b->i ? -1 : a->i > b->i;
}

/* Every message is sent at its time (not before now), in the order of the
 * scenario among equal times: what one event per message scheduled here
 * would do, without holding an event and an outbox entry per message from
 * the start. */
static void send_messages(scn_mailworld *mw, const scn_config *c, sim_world *w) {
  mw->cfg = c;
  mw->w = w;
  mw->nsend = (guint)scn_msgs_count(c->messages);
  if (!mw->nsend)
    return;
  mw->t0 = sim_sched_now(sim_world_sched(w));
  mw->send_order = g_new(guint32, mw->nsend);
  /* each time read once; a file in time order (a generated load world)
   * needs no sort */
  timed *t = g_new(timed, mw->nsend);
  bool sorted = true;
  for (guint i = 0; i < mw->nsend; i++) {
    t[i] = (timed){msg_time(mw, i), i};
    sorted &= i == 0 || t[i - 1].at <= t[i].at;
  }
  if (!sorted)
    g_qsort_with_data(t, (gint)mw->nsend, sizeof *t, by_time, NULL);
  for (guint i = 0; i < mw->nsend; i++)
    mw->send_order[i] = t[i].i;
  g_free(t);
  sim_sched_set_source(sim_world_sched(w), msg_time(mw, mw->send_order[0]), send_next, mw);
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
  mw->mta_texts = mta_queue_texts_new();
  mw->mta_nodes = g_ptr_array_new();
  mw->filters = g_ptr_array_new_with_free_func((GDestroyNotify)mx_filters_free);
  mw->signers = g_ptr_array_new_with_free_func((GDestroyNotify)mta_dkim_free);
  mw->mailboxes = g_ptr_array_new_with_free_func((GDestroyNotify)mailbox_host_free);
  mw->muas = g_ptr_array_new_with_free_func((GDestroyNotify)mua_free);
  mw->filter_data = g_ptr_array_new_with_free_func(g_free);
  mw->filter_hosts = g_ptr_array_new();
  mw->mta_of = g_ptr_array_new();
  mw->mbox_of = g_ptr_array_new();
  mw->tls_of = g_ptr_array_new();
  bool any = false;
  for (guint i = 0; i < c->hosts->len; i++)
    any |= is_mail_role(g_array_index(c->hosts, scn_host, i).role);
  /* each client host's users, without a pass over every user per host
   * (1,000 users x 100 clients in a load world) */
  gint *ufirst = g_new(gint, c->hosts->len), *unext = g_new(gint, c->users->len + 1);
  for (guint i = 0; i < c->hosts->len; i++)
    ufirst[i] = -1;
  for (guint i = c->users->len; i-- > 0;) {
    const scn_user *u = &g_array_index(c->users, scn_user, i);
    int hi = u->client ? scn_find_host(c, u->client) : -1;
    if (hi >= 0) {
      unext[i] = ufirst[hi];
      ufirst[hi] = (gint)i;
    }
  }
  mw->any = any;
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    mua *m = NULL;
    mta_host *mta = NULL;
    mailbox_host *mb = NULL;
    tls_host *th = NULL;
    if (is_mail_role(h->role)) {
      /* "tls": false — no certificates, no STARTTLS offered or asked for. */
      th = make_tls(mw, c, h, hosts[i]);
      dns_client *dc = scn_dns_client(dns, (int)i);
      if (!strcmp(h->role, "mta"))
        mta = start_mta(mw, c, h, hosts[i], th, dc);
      else if (!strcmp(h->role, "mailbox"))
        mb = start_mailbox(mw, c, h, hosts[i], th);
      else
        m = start_mua(c, hosts[i], th, dc, ufirst[i], unext);
    }
    g_ptr_array_add(mw->muas, m);
    g_ptr_array_add(mw->mta_of, mta);
    g_ptr_array_add(mw->mbox_of, mb);
    g_ptr_array_add(mw->tls_of, th);
  }
  g_free(ufirst);
  g_free(unext);
  send_messages(mw, c, host_world(hosts[0]));
  return mw;
}

void scn_mailworld_free(scn_mailworld *mw) {
  if (!mw)
    return;
  g_ptr_array_unref(mw->mta_of);
  g_ptr_array_unref(mw->mbox_of);
  g_ptr_array_unref(mw->tls_of);
  g_ptr_array_unref(mw->muas);
  g_ptr_array_unref(mw->mailboxes);
  g_ptr_array_unref(mw->filters);
  g_ptr_array_unref(mw->filter_data);
  g_ptr_array_unref(mw->filter_hosts);
  g_ptr_array_unref(mw->signers);
  g_ptr_array_unref(mw->mtas);
  mta_queue_texts_free(mw->mta_texts); /* after every MTA's queue */
  g_ptr_array_unref(mw->mta_nodes);
  g_ptr_array_unref(mw->tls_hosts);
  tls_world_free(mw->tls);
  userdir_free(mw->users);
  g_free(mw->send_order);
  g_free(mw);
}

bool scn_mailworld_any(const scn_mailworld *mw) { return mw->any; }

const char *scn_mailworld_ca_pem(const scn_mailworld *mw) {
  return mw->tls && mw->tls_hosts->len ? tls_ca_cert_pem(tls_world_ca(mw->tls)) : NULL;
}

void scn_mailworld_write_kept(scn_mailworld *mw) {
  for (guint i = 0; i < mw->mailboxes->len; i++)
    mailbox_host_write_kept(mw->mailboxes->pdata[i]);
}

struct mta_host *scn_mailworld_mta(scn_mailworld *mw, int i) { return mw->mta_of->pdata[i]; }
struct mailbox_host *scn_mailworld_mailbox(scn_mailworld *mw, int i) {
  return mw->mbox_of->pdata[i];
}
struct tls_host *scn_mailworld_tls(scn_mailworld *mw, int i) { return mw->tls_of->pdata[i]; }

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

/* The retry profile of the scenario's MTA with address ADDR, as an index
 * of mta_retry_kind (MTA_RETRY__COUNT: no such MTA). */
static int profile_of(const scn_config *c, const char *addr) {
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    if (strcmp(h->role, "mta") != 0)
      continue;
    for (guint k = 0; k < h->addrs->len; k++) {
      if (strcmp(h->addrs->pdata[k], addr) != 0)
        continue;
      mta_retry_kind kind = MTA_RETRY_POSTFIX;
      if (h->mta.retry && !mta_retry_kind_parse(h->mta.retry, &kind))
        kind = MTA_RETRY_POSTFIX;
      return (int)kind;
    }
  }
  return MTA_RETRY__COUNT;
}

typedef struct {
  int kind;
  scn_greylist_row row;
} grey_acc;

static gint grey_cmp(gconstpointer a, gconstpointer b) {
  const grey_acc *x = a, *y = b;
  if (x->kind != y->kind)
    return x->kind < y->kind ? -1 : 1;
  return x->row.delay < y->row.delay ? -1 : x->row.delay > y->row.delay;
}

GArray *scn_mailworld_greylist(const scn_mailworld *mw, const scn_config *c) {
  GArray *acc = g_array_new(FALSE, TRUE, sizeof(grey_acc));
  for (guint i = 0; i < mw->filters->len; i++) {
    const mx_filters *f = mw->filters->pdata[i];
    size_t n;
    const mx_filters_delay *d = mx_filters_delays(f, &n);
    sim_time delay = mx_filters_greylist_delay(f);
    for (size_t k = 0; k < n; k++) {
      int kind = profile_of(c, d[k].client);
      grey_acc *a = NULL;
      for (guint j = 0; j < acc->len && !a; j++) {
        grey_acc *e = &g_array_index(acc, grey_acc, j);
        if (e->kind == kind && e->row.delay == delay)
          a = e;
      }
      if (!a) {
        grey_acc e = {kind,
                      {kind < MTA_RETRY__COUNT ? mta_retry_kind_name((mta_retry_kind)kind)
                                               : "other",
                       delay, 0, d[k].waited, d[k].waited, 0}};
        g_array_append_val(acc, e);
        a = &g_array_index(acc, grey_acc, acc->len - 1);
      }
      a->row.n++;
      a->row.sum += d[k].waited;
      if (d[k].waited < a->row.min)
        a->row.min = d[k].waited;
      if (d[k].waited > a->row.max)
        a->row.max = d[k].waited;
    }
  }
  g_array_sort(acc, grey_cmp);
  GArray *out = g_array_new(FALSE, TRUE, sizeof(scn_greylist_row));
  for (guint j = 0; j < acc->len; j++)
    g_array_append_val(out, g_array_index(acc, grey_acc, j).row);
  g_array_free(acc, TRUE);
  return out;
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
