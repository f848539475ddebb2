/* trace_check.c — the mail invariants over trace records (see trace_check.h
 * and CHECK.md).
 *
 * The unit of custody is a queue entry: (node, queue_id), created by the
 * record of the 250 that accepted it (msg.submit, msg.relay naming the node
 * as "to") or by its msg.queue (a DSN the node wrote itself). Each of its
 * recipients stays open until the node passes it on (a msg.relay "from"
 * the node: the next host said 250, RFC 5321 §6.1 hands responsibility
 * over), stores it (msg.deliver) or bounces it (msg.bounce). A recipient
 * still open when the entry leaves the queue (msg.expire) was lost; one
 * open at the end of the run must still be queued. Relays carry the
 * receiver's queue id only, so a relay from a node resolves that node's
 * oldest open entry of the message holding the recipient; a second relay
 * (a retry after a crash, a duplicate, RFC 1047) finds nothing to resolve
 * and is not an error.
 *
 * Lookups use hash tables; everything that reaches the output is walked in
 * arrays, in the order the records came, so the report is deterministic.
 *
 * Memory (issue #6: every unit is kept to the end, so the checker grows
 * with the mail): the units and their lookups are compact, in
 * trace_units.c (over trace_store, trace_atoms and trace_msgid); this
 * file holds the invariants.
 */
#include "trace_check.h"

#include <inttypes.h>
#include <string.h>

#include "trace_read.h"
#include "trace_rec.h"
#include "trace_rec_int.h"
#include "trace_time.h"
#include "trace_units.h"

static const char *const inv_names[TRACE_CHECK__COUNT] = {
    "no-loss",       "bounce-of-bounce", "delivery-after-bounce",
    "wrong-mailbox", "uid-order",        "lifetime",
    "hop-limit",     "liveness"};

const char *trace_check_invariant_name(trace_check_invariant inv) {
  g_assert((unsigned)inv < TRACE_CHECK__COUNT);
  return inv_names[inv];
}

typedef struct {
  uint64_t id;
  char *node;
} bounce_st;

static void bounce_st_free(void *p) {
  bounce_st *b = p;
  g_free(b->node);
  g_free(b);
}

typedef struct {
  uint32_t uidvalidity, uid;
  uint64_t id;
} uid_st;

/* Faults with records of their own that stay in force until their closing
 * record, by key. Every other kind opens with fault.start and closes with
 * fault.end (kind and target or hosts); their acts (fault.reply,
 * fault.dns, fault.cut, fault.tarpit, fault.link_params) count only as
 * "the last fault". */
static const struct {
  const char *down, *up, *key;
} fault_pairs[] = {
    {"fault.link_down", "fault.link_up", "link"},
    {"fault.crash", "fault.restart", "node"},
};

struct trace_check {
  trace_units us;        /* the queue entries */
  GHashTable *bounced;   /* "msg\nrcpt" (rcpt lower case) -> event id (first) */
  GHashTable *cut;       /* "msg\nrcpt" (rcpt lower case) -> bounce_st of the first fault.cut */
  GHashTable *uids;      /* "node\nmailbox\nfolder" -> uid_st* */
  GHashTable *roles;     /* node -> role (from the header) */
  GHashTable *down;      /* "pair\nkey" -> fault record id (in force) */
  GPtrArray *down_order; /* the keys of down, in the order they went down */
  GHashTable *restarted; /* node -> time of its last restart (int64 boxed) */
  int64_t last_fault;    /* time of the last fault.* record, -1 none */
  int64_t last_t;
  GPtrArray *viol;     /* trace_check_violation* */
  GPtrArray *reported; /* the end record's violations, or NULL */
  GHashTable *held;    /* "node\nqueue_id" held at the end with no unit then (set) */
  bool held_known;
  char *liveness_note;
  bool finished;
  trace_rec *rec; /* trace_check_feed_line's record, reused */
  GString *line;  /* its NUL-terminated copy of the line */
};

static void viol_free(void *p) {
  trace_check_violation *v = p;
  g_free(v->msg);
  g_free(v->hosts);
  g_free(v->text);
  g_free(v);
}

trace_check *trace_check_new(void) {
  trace_check *tc = g_new0(trace_check, 1);
  trace_units_init(&tc->us);
  tc->bounced = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, bounce_st_free);
  tc->cut = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, bounce_st_free);
  tc->uids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  tc->roles = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  tc->down = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  tc->down_order = g_ptr_array_new_with_free_func(g_free);
  tc->restarted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  tc->viol = g_ptr_array_new_with_free_func(viol_free);
  tc->held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  tc->last_fault = -1;
  tc->rec = trace_rec__new();
  tc->line = g_string_new(NULL);
  return tc;
}

void trace_check_free(trace_check *tc) {
  if (!tc)
    return;
  trace_units_clear(&tc->us);
  g_hash_table_unref(tc->bounced);
  g_hash_table_unref(tc->cut);
  g_hash_table_unref(tc->uids);
  g_hash_table_unref(tc->roles);
  g_hash_table_unref(tc->down);
  g_ptr_array_unref(tc->down_order);
  g_hash_table_unref(tc->restarted);
  g_ptr_array_unref(tc->viol);
  g_hash_table_unref(tc->held);
  if (tc->reported)
    g_ptr_array_unref(tc->reported);
  g_free(tc->liveness_note);
  trace_rec__free(tc->rec);
  g_string_free(tc->line, TRUE);
  g_free(tc);
}

/* ---- reporting ---- */

static void report(trace_check *tc, trace_check_invariant inv, const char *msg, const char *hosts,
                   const uint64_t *ids, unsigned nids, const char *fmt, ...) G_GNUC_PRINTF(7, 8);

static void report(trace_check *tc, trace_check_invariant inv, const char *msg, const char *hosts,
                   const uint64_t *ids, unsigned nids, const char *fmt, ...) {
  trace_check_violation *v = g_new0(trace_check_violation, 1);
  v->inv = inv;
  v->msg = g_strdup(msg ? msg : "");
  v->hosts = g_strdup(hosts ? hosts : "");
  for (unsigned i = 0; i < nids && i < TRACE_CHECK_MAX_IDS; i++)
    if (ids[i])
      v->ids[v->nids++] = ids[i];
  va_list ap;
  va_start(ap, fmt);
  char *body = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  v->text = g_strdup_printf("%s: %s", inv_names[inv], body);
  g_free(body);
  g_ptr_array_add(tc->viol, v);
}

static char *hosts2(const char *a, const char *b) {
  return strcmp(a, b) == 0 ? g_strdup(a) : g_strdup_printf("%s,%s", a, b);
}

/* ---- record helpers ---- */

/* A record as the checker reads it: indexed by trace_rec (the tap's and
 * check-trace's fast path, no tree) or a cJSON tree (trace_check_feed, and
 * a line the scanner declines). The getters mean the same on both. */
typedef struct {
  const trace_rec *rec; /* or NULL: use tree */
  const cJSON *tree;
} rd;

static const char *str(const rd *r, const char *key) {
  return r->rec ? trace_rec_str(r->rec, key) : trace_get_str(r->tree, key);
}

static bool get_int(const rd *r, const char *key, int64_t *out) {
  return r->rec ? trace_rec_int(r->rec, key, out) : trace_get_int(r->tree, key, out);
}

static int64_t int_or(const rd *r, const char *key, int64_t dflt) {
  int64_t v;
  return get_int(r, key, &v) ? v : dflt;
}

static uint64_t rec_id(const rd *r) {
  uint64_t v = 0;
  if (r->rec)
    trace_rec_uint(r->rec, "id", &v);
  else
    trace_get_uint(r->tree, "id", &v);
  return v;
}

static const cJSON *item(const rd *r, const char *key) {
  return r->rec ? trace_rec_json(r->rec, key) : cJSON_GetObjectItemCaseSensitive(r->tree, key);
}

static char *key2(const char *a, const char *b) { return g_strconcat(a, "\n", b, NULL); }

static char *bounce_key(const char *msg, const char *rcpt) {
  char *low = g_ascii_strdown(rcpt, -1);
  char *k = key2(msg, low);
  g_free(low);
  return k;
}

static trace_unit_rcpt *unit_rcpt(trace_units *us, trace_unit *u, const char *addr) {
  return trace_units_rcpt_fold(us, u, trace_atoms_fold(&us->addrs, addr));
}

/* The oldest entry of MSG at NODE not yet gone whose ADDR is open. */
static trace_unit_rcpt *open_rcpt(trace_check *tc, const char *node, const char *msg,
                                  const char *addr, trace_unit **out) {
  trace_unit *u = trace_units_of(&tc->us, node, msg);
  if (!u)
    return NULL;
  uint32_t fold = trace_atoms_fold(&tc->us.addrs, addr);
  for (; u; u = trace_units_next(&tc->us, u->next, trace_units_node(&tc->us, u))) {
    trace_unit_rcpt *r =
        trace_units_flag(u, TRACE_UNIT_EXPIRED) ? NULL : trace_units_rcpt_fold(&tc->us, u, fold);
    if (r && !r->resolved) {
      if (out)
        *out = u;
      return r;
    }
  }
  return NULL;
}

/* A recipient's list of still-open addresses, "a, b". */
static char *open_list(const trace_check *tc, trace_unit *u) {
  GString *s = g_string_new(NULL);
  const trace_unit_rcpt *rs = trace_units_rcpts(&tc->us, u);
  for (uint32_t i = 0, n = trace_units_nrcpts(u); i < n; i++) {
    const trace_unit_rcpt *r = &rs[i];
    if (r->resolved)
      continue;
    if (s->len)
      g_string_append(s, ", ");
    g_string_append(s, trace_atoms_str(&tc->us.addrs, trace_units_addr(r)));
  }
  return g_string_free(s, FALSE);
}

/* ---- the records ---- */

static void on_accept(trace_check *tc, const rd *rec, int64_t t, uint64_t id, bool relay) {
  const char *from = str(rec, "from"), *to = str(rec, "to"), *msg = str(rec, "msg"),
             *qid = str(rec, "queue_id");
  if (!to || !msg || !qid)
    return;
  trace_unit *u = trace_units_get(&tc->us, to, qid, msg, t, id);
  trace_units_add_rcpts(&tc->us, u, item(rec, "rcpts"));
  if (relay) {
    trace_units_set_hop(&tc->us, u, int_or(rec, "hop", -1));
    /* The sender's custody of these recipients ends here. */
    const cJSON *arr = item(rec, "rcpts"), *it;
    cJSON_ArrayForEach(it, arr) {
      if (!from || !cJSON_IsString(it))
        continue;
      trace_unit_rcpt *r = open_rcpt(tc, from, msg, it->valuestring, NULL);
      if (r) {
        r->resolved = trace_units_idref(&tc->us, id);
        r->addr |= TRACE_UNIT_RELAYED;
      }
    }
  }
}

static void check_hops(trace_check *tc, trace_unit *u, uint64_t id) {
  int64_t max_hops = trace_units_pol(&tc->us, u)->max_hops, hop = trace_units_hop(&tc->us, u);
  if (hop >= 0 && max_hops >= 0 && hop > max_hops) {
    uint64_t ids[] = {trace_units_id(&tc->us, u), id};
    report(tc, TRACE_CHECK_HOP_LIMIT, trace_units_msg(&tc->us, u),
           trace_units_node_name(&tc->us, u), ids, 2,
           "message %s: %s accepted it (event %" PRIu64 ") with %" PRId64
           " Received fields, over its limit of %" PRId64,
           trace_units_msg(&tc->us, u), trace_units_node_name(&tc->us, u),
           trace_units_id(&tc->us, u), hop, max_hops);
  }
}

static void on_queue(trace_check *tc, const rd *rec, int64_t t, uint64_t id) {
  const char *node = str(rec, "node"), *msg = str(rec, "msg"), *qid = str(rec, "queue_id");
  if (!node || !msg || !qid)
    return;
  trace_unit *u = trace_units_get(&tc->us, node, qid, msg, t, id);
  trace_units_add_rcpts(&tc->us, u, item(rec, "rcpts"));
  u->flags |= TRACE_UNIT_QUEUED;
  const char *sender = str(rec, "sender");
  if (sender) {
    u->flags |= TRACE_UNIT_SENDER_KNOWN;
    if (*sender)
      u->flags |= TRACE_UNIT_SENDER;
    else
      u->flags &= (uint8_t)~TRACE_UNIT_SENDER;
  }
  trace_units_set_pol(&tc->us, u, int_or(rec, "lifetime", -1), int_or(rec, "retry_gap", -1),
                      int_or(rec, "max_hops", -1));
  check_hops(tc, u, id);
}

static void on_defer(trace_check *tc, const rd *rec, int64_t t, uint64_t id) {
  const char *node = str(rec, "node"), *qid = str(rec, "queue_id");
  if (!node || !qid || !*qid) /* "" = a mail client's own retry */
    return;
  trace_unit *u = trace_units_find(&tc->us, node, qid);
  int64_t lifetime = u ? trace_units_pol(&tc->us, u)->lifetime : -1;
  if (!u || lifetime < 0 || trace_units_flag(u, TRACE_UNIT_LIFETIME_FLAGGED) ||
      t - trace_units_t(u) <= lifetime)
    return;
  u->flags |= TRACE_UNIT_LIFETIME_FLAGGED;
  char b1[TRACE_TIME_BUFSZ], b2[TRACE_TIME_BUFSZ];
  uint64_t ids[] = {trace_units_id(&tc->us, u), id};
  report(tc, TRACE_CHECK_LIFETIME, trace_units_msg(&tc->us, u), node, ids, 2,
         "message %s at %s (queue %s, accepted at event %" PRIu64
         "): deferred again (event %" PRIu64
         ") %s after it was queued; its lifetime is %s: it should have bounced",
         trace_units_msg(&tc->us, u), node, qid, trace_units_id(&tc->us, u), id,
         trace_time_format_short(t - trace_units_t(u), b1), trace_time_format_short(lifetime, b2));
}

static void on_bounce(trace_check *tc, const rd *rec, int64_t t, uint64_t id) {
  const char *node = str(rec, "node"), *msg = str(rec, "msg"), *qid = str(rec, "queue_id"),
             *rcpt = str(rec, "rcpt"), *dsn = str(rec, "dsn");
  if (!node || !msg || !qid || !rcpt)
    return;
  trace_unit *u = trace_units_find(&tc->us, node, qid);
  trace_unit_rcpt *r = u ? unit_rcpt(&tc->us, u, rcpt) : NULL;
  if (r && !r->resolved)
    r->resolved = trace_units_idref(&tc->us, id);
  char *bk = bounce_key(msg, rcpt);
  if (!g_hash_table_contains(tc->bounced, bk)) {
    bounce_st *b = g_new(bounce_st, 1);
    b->id = id;
    b->node = g_strdup(node);
    g_hash_table_insert(tc->bounced, bk, b);
  } else {
    g_free(bk);
  }
  uint64_t ids[] = {u ? trace_units_id(&tc->us, u) : 0, id};
  bool has_dsn = dsn && *dsn;
  if (u && trace_units_flag(u, TRACE_UNIT_SENDER_KNOWN) &&
      !trace_units_flag(u, TRACE_UNIT_SENDER) && has_dsn)
    report(tc, TRACE_CHECK_BOUNCE_OF_BOUNCE, msg, node, ids, 2,
           "message %s has a null sender (a DSN) and %s bounced it (event %" PRIu64
           ") with a DSN, %s (RFC 3464 §2)",
           msg, node, id, dsn);
  else if (u && trace_units_flag(u, TRACE_UNIT_SENDER) && !has_dsn)
    report(tc, TRACE_CHECK_NO_LOSS, msg, node, ids, 2,
           "message %s, recipient %s: %s bounced it (event %" PRIu64
           ") without a DSN: its sender is never told",
           msg, rcpt, node, id);
  if (has_dsn && !trace_units_of(&tc->us, node, dsn))
    report(tc, TRACE_CHECK_NO_LOSS, msg, node, ids, 2,
           "message %s, recipient %s: %s bounced it (event %" PRIu64
           ") with DSN %s, which it never queued",
           msg, rcpt, node, id, dsn);
  (void)t;
}

static void on_deliver(trace_check *tc, const rd *rec, int64_t t, uint64_t id) {
  (void)t;
  const char *node = str(rec, "node"), *msg = str(rec, "msg"), *rcpt = str(rec, "rcpt"),
             *mailbox = str(rec, "mailbox"), *folder = str(rec, "folder");
  if (!node || !msg || !rcpt)
    return;
  trace_unit *u = NULL;
  trace_unit_rcpt *r = open_rcpt(tc, node, msg, rcpt, &u);
  if (r)
    r->resolved = trace_units_idref(&tc->us, id);
  /* The recipient must be one its envelope named at this host. */
  bool known = r != NULL;
  if (!known) {
    uint32_t fold = trace_atoms_fold(&tc->us.addrs, rcpt);
    for (trace_unit *o = trace_units_of(&tc->us, node, msg); !known && o;
         o = trace_units_next(&tc->us, o->next, trace_units_node(&tc->us, o)))
      known = trace_units_rcpt_fold(&tc->us, o, fold) != NULL;
  }
  if (!known) {
    uint64_t ids[] = {id};
    report(tc, TRACE_CHECK_WRONG_MAILBOX, msg, node, ids, 1,
           "message %s: %s stored it for %s (event %" PRIu64
           "), not a recipient of any envelope it accepted it with",
           msg, node, rcpt, id);
  } else if (mailbox && g_ascii_strcasecmp(mailbox, rcpt) != 0) {
    uint64_t ids[] = {u ? trace_units_id(&tc->us, u) : 0, id};
    report(tc, TRACE_CHECK_WRONG_MAILBOX, msg, node, ids, 2,
           "message %s, recipient %s: %s stored it in mailbox %s (event %" PRIu64 ")", msg, rcpt,
           node, mailbox, id);
  }
  char *bk = bounce_key(msg, rcpt);
  const bounce_st *b = g_hash_table_lookup(tc->bounced, bk);
  /* RFC 1047: a copy stored by a host whose 250 never came back goes on
   * while the sender still holds its own; if the sender then bounces, the
   * other copy's delivery is the duplicate window, not a violation. */
  const bounce_st *cut = b ? g_hash_table_lookup(tc->cut, bk) : NULL;
  g_free(bk);
  if (b && !(cut && cut->id < b->id)) {
    uint64_t ids[] = {b->id, id};
    char *hs = hosts2(b->node, node);
    report(tc, TRACE_CHECK_DELIVERY_AFTER_BOUNCE, msg, hs, ids, 2,
           "message %s, recipient %s: %s stored it (event %" PRIu64
           ") after %s bounced it (event %" PRIu64 ")",
           msg, rcpt, node, id, b->node, b->id);
    g_free(hs);
  }
  /* UIDs strictly increase within a UIDVALIDITY (RFC 9051 §2.3.1.1). */
  int64_t uid = int_or(rec, "uid", 0), uv = int_or(rec, "uidvalidity", 0);
  if (uid > 0 && mailbox && folder) {
    char *k = g_strconcat(node, "\n", mailbox, "\n", folder, NULL);
    uid_st *s = g_hash_table_lookup(tc->uids, k);
    if (!s) {
      s = g_new0(uid_st, 1);
      g_hash_table_insert(tc->uids, k, s);
    } else {
      g_free(k);
      if (s->uidvalidity == (uint32_t)uv && (uint32_t)uid <= s->uid) {
        uint64_t ids[] = {s->id, id};
        report(tc, TRACE_CHECK_UID_ORDER, msg, node, ids, 2,
               "message %s: %s gave it UID %" PRId64 " in %s folder %s (event %" PRIu64
               ") after UID %u (event %" PRIu64 ") in UIDVALIDITY %" PRId64,
               msg, node, uid, mailbox, folder, id, s->uid, s->id, uv);
      }
    }
    s->uidvalidity = (uint32_t)uv;
    s->uid = (uint32_t)uid;
    s->id = id;
  }
}

/* A relay names no sender queue id, so it was credited to the oldest open
 * copy of the message (open_rcpt). When U leaves its queue with a
 * recipient still open while a copy still queued at the same host had that
 * recipient passed on, the relay may as well have been U's (the copies
 * are the same message, RFC 1047 duplicates) if it came after U was
 * accepted: the credit moves to U and the still-queued copy holds the
 * recipient open again. */
static void swap_relays(trace_check *tc, trace_unit *u) {
  /* trace_units_first does not overwrite the message's text */
  trace_unit *first =
      trace_units_first(&tc->us, trace_units_msg(&tc->us, u), trace_units_node(&tc->us, u));
  trace_unit_rcpt *rs = trace_units_rcpts(&tc->us, u);
  for (uint32_t i = 0, n = trace_units_nrcpts(u); i < n; i++) {
    trace_unit_rcpt *r = &rs[i];
    uint32_t fold = trace_atoms_at(&tc->us.addrs, trace_units_addr(r))->fold;
    for (trace_unit *o = first; !r->resolved && o;
         o = trace_units_next(&tc->us, o->next, trace_units_node(&tc->us, o))) {
      trace_unit_rcpt *q = o == u || trace_units_flag(o, TRACE_UNIT_EXPIRED)
                               ? NULL
                               : trace_units_rcpt_fold(&tc->us, o, fold);
      if (!q || !q->resolved || !(q->addr & TRACE_UNIT_RELAYED) ||
          trace_units_id_of(&tc->us, q->resolved) < trace_units_id(&tc->us, u))
        continue; /* a relay before U was accepted cannot be U's */
      r->resolved = q->resolved;
      r->addr |= TRACE_UNIT_RELAYED;
      q->resolved = 0;
      q->addr &= ~TRACE_UNIT_RELAYED;
    }
  }
}

static void on_expire(trace_check *tc, const rd *rec, int64_t t, uint64_t id) {
  (void)t;
  const char *node = str(rec, "node"), *qid = str(rec, "queue_id");
  if (!node || !qid)
    return;
  trace_unit *u = trace_units_find(&tc->us, node, qid);
  if (!u || trace_units_flag(u, TRACE_UNIT_EXPIRED))
    return;
  u->flags |= TRACE_UNIT_EXPIRED;
  swap_relays(tc, u);
  char *open = open_list(tc, u);
  if (*open) {
    uint64_t ids[] = {trace_units_id(&tc->us, u), id};
    report(tc, TRACE_CHECK_NO_LOSS, trace_units_msg(&tc->us, u), node, ids, 2,
           "message %s, recipient(s) %s: accepted by %s (event %" PRIu64 ", queue %s), then left "
           "its queue (event %" PRIu64 ") neither passed on, stored nor bounced",
           trace_units_msg(&tc->us, u), open, node, trace_units_id(&tc->us, u), qid, id);
  }
  g_free(open);
}

static char *fault_key(size_t pair, const rd *rec) {
  const cJSON *k = item(rec, fault_pairs[pair].key);
  if (!k)
    return NULL;
  char *v = cJSON_PrintUnformatted(k);
  char *out = g_strdup_printf("%s\n%s", fault_pairs[pair].down, v);
  cJSON_free(v);
  return out;
}

/* The key of a fault.start / fault.end window: "fault.start" + kind +
 * target (or hosts), so the end closes its own start. */
static char *window_key(const rd *rec) {
  const char *kind = str(rec, "kind");
  if (!kind)
    return NULL;
  const cJSON *k = item(rec, "target");
  if (!k)
    k = item(rec, "hosts");
  char *v = k ? cJSON_PrintUnformatted(k) : g_strdup("null");
  char *out = g_strdup_printf("fault.start %s\n%s", kind, v);
  cJSON_free(v);
  return out;
}

/* One more (DOWN) or one fewer holder of key K in force. The count lets
 * windows of one kind and target overlap (a scenario may say so). */
static void in_force(trace_check *tc, char *k, bool down, uint64_t id) {
  uint64_t *p = g_hash_table_lookup(tc->down, k);
  if (down) {
    if (!p) {
      p = g_new0(uint64_t, 2);
      p[0] = id;
      g_hash_table_insert(tc->down, g_strdup(k), p);
      g_ptr_array_add(tc->down_order, g_strdup(k));
    }
    p[1]++;
  } else if (p && --p[1] == 0) {
    g_hash_table_remove(tc->down, k);
  }
  g_free(k);
}

/* fault.cut: NODE stored MSG for RCPTS and dropped the connection before
 * its 250 (RFC 1047). Kept per (message, recipient), the first one. */
static void on_cut(trace_check *tc, const rd *rec, uint64_t id) {
  const char *node = str(rec, "node"), *msg = str(rec, "msg");
  const cJSON *arr = item(rec, "rcpts"), *it;
  if (!node || !msg)
    return;
  cJSON_ArrayForEach(it, arr) {
    if (!cJSON_IsString(it))
      continue;
    char *k = bounce_key(msg, it->valuestring);
    if (g_hash_table_contains(tc->cut, k)) {
      g_free(k);
      continue;
    }
    bounce_st *c = g_new(bounce_st, 1);
    c->id = id;
    c->node = g_strdup(node);
    g_hash_table_insert(tc->cut, k, c);
  }
}

static void on_fault(trace_check *tc, const rd *rec, const char *ev, int64_t t, uint64_t id) {
  /* Every fault.* record moves the last fault: a window's start or end,
   * a link or node going down or up, an act inside a window (an injected
   * reply, a DNS answer, a cut). */
  tc->last_fault = t;
  if (strcmp(ev, "fault.cut") == 0) {
    on_cut(tc, rec, id);
    return;
  }
  bool start = strcmp(ev, "fault.start") == 0;
  if (start || strcmp(ev, "fault.end") == 0) {
    char *k = window_key(rec);
    if (k)
      in_force(tc, k, start, id);
    return;
  }
  for (size_t i = 0; i < G_N_ELEMENTS(fault_pairs); i++) {
    bool down = strcmp(ev, fault_pairs[i].down) == 0, up = strcmp(ev, fault_pairs[i].up) == 0;
    if (!down && !up)
      continue;
    char *k = fault_key(i, rec);
    if (!k)
      return;
    /* A link or node is down or up, whatever the number of faults that
     * brought it there: no count. */
    if (down && !g_hash_table_contains(tc->down, k))
      in_force(tc, k, true, id);
    else if (up)
      in_force(tc, k, false, id);
    else
      g_free(k);
  }
  if (strcmp(ev, "fault.restart") == 0 && str(rec, "node")) {
    int64_t *p = g_new(int64_t, 1);
    *p = t;
    g_hash_table_replace(tc->restarted, g_strdup(str(rec, "node")), p);
  }
}

void trace_check_header(trace_check *tc, const cJSON *header) {
  const cJSON *roles = cJSON_GetObjectItemCaseSensitive(header, "roles"), *it;
  cJSON_ArrayForEach(it, roles) {
    if (cJSON_IsString(it))
      g_hash_table_replace(tc->roles, g_strdup(it->string), g_strdup(it->valuestring));
  }
}

void trace_check_end_queue(trace_check *tc, const char *node, const char *const *queue_ids,
                           size_t n) {
  tc->held_known = true;
  for (size_t i = 0; i < n; i++) { /* a unit marked; one not (yet) seen, by name */
    trace_unit *u = trace_units_find(&tc->us, node, queue_ids[i]);
    if (u)
      u->flags |= TRACE_UNIT_HELD;
    else
      g_hash_table_add(tc->held, key2(node, queue_ids[i]));
  }
}

/* The end record's "queues": {"node": ["queue_id", ...], ...}. */
static void end_queues(trace_check *tc, const rd *rec) {
  const cJSON *q = item(rec, "queues"), *node;
  if (!cJSON_IsObject(q))
    return;
  cJSON_ArrayForEach(node, q) {
    GPtrArray *ids = g_ptr_array_new();
    const cJSON *it;
    cJSON_ArrayForEach(it, node) {
      if (cJSON_IsString(it))
        g_ptr_array_add(ids, it->valuestring);
    }
    trace_check_end_queue(tc, node->string, (const char *const *)ids->pdata, ids->len);
    g_ptr_array_unref(ids);
  }
}

static void keep_reported(trace_check *tc, const rd *rec) {
  const cJSON *arr = item(rec, "violations"), *it;
  if (!cJSON_IsArray(arr))
    return;
  tc->reported = g_ptr_array_new_with_free_func(g_free);
  cJSON_ArrayForEach(it, arr) {
    g_ptr_array_add(tc->reported, g_strdup(cJSON_IsString(it) ? it->valuestring : "?"));
  }
}

static void feed(trace_check *tc, const rd *rec) {
  const char *ev = str(rec, "ev");
  int64_t t;
  if (!ev || !get_int(rec, "t", &t))
    return;
  uint64_t id = rec_id(rec);
  tc->last_t = t;
  if (strcmp(ev, "end") == 0) {
    if (!tc->reported)
      keep_reported(tc, rec);
    if (!tc->finished)
      end_queues(tc, rec);
    trace_check_finish(tc, t);
    return;
  }
  if (tc->finished)
    return;
  if (g_str_has_prefix(ev, "fault.")) {
    on_fault(tc, rec, ev, t, id);
    return;
  }
  if (!g_str_has_prefix(ev, "msg."))
    return;
  const char *k = ev + 4;
  if (!strcmp(k, "submit"))
    on_accept(tc, rec, t, id, false);
  else if (!strcmp(k, "relay"))
    on_accept(tc, rec, t, id, true);
  else if (!strcmp(k, "queue"))
    on_queue(tc, rec, t, id);
  else if (!strcmp(k, "defer"))
    on_defer(tc, rec, t, id);
  else if (!strcmp(k, "bounce"))
    on_bounce(tc, rec, t, id);
  else if (!strcmp(k, "deliver"))
    on_deliver(tc, rec, t, id);
  else if (!strcmp(k, "expire"))
    on_expire(tc, rec, t, id);
}

void trace_check_feed(trace_check *tc, const cJSON *rec) {
  rd r = {NULL, rec};
  feed(tc, &r);
}

/* Just past the first "ev":" that ends within LINE[0, LIM), or NULL (as
 * g_strstr_len, but comparing at quotes only; a record line has no NUL). */
static const char *find_ev(const char *line, size_t lim) {
  static const char pat[] = "\"ev\":\"";
  const size_t n = sizeof pat - 1;
  for (size_t i = 0; i + n <= lim; i++) {
    const char *q = memchr(line + i, '"', lim - n + 1 - i);
    if (!q)
      return NULL;
    i = (size_t)(q - line);
    if (memcmp(q, pat, n) == 0)
      return q + n;
  }
  return NULL;
}

/* True if the kind at EV (REST octets left, the quote after it included)
 * is one feed() reads: the msg.* kinds it dispatches on, fault.*, end. The
 * others (msg.compose, msg.display, msg.store, ...) are not scanned. */
static bool wanted(const char *ev, size_t rest) {
#define KIND(k) (rest > sizeof k - 1 && memcmp(ev, k, sizeof k - 1) == 0)
  switch (ev[0]) { /* most records are none of these: one test each */
  case 'f':
    return KIND("fault.");
  case 'e':
    return KIND("end\"");
  case 'm':
    break;
  default:
    return false;
  }
  if (!KIND("msg."))
    return false;
  switch (ev[4]) {
  case 's':
    return KIND("msg.submit\"");
  case 'r':
    return KIND("msg.relay\"");
  case 'q':
    return KIND("msg.queue\"");
  case 'd':
    return KIND("msg.defer\"") || KIND("msg.deliver\"");
  case 'b':
    return KIND("msg.bounce\"");
  case 'e':
    return KIND("msg.expire\"");
  default:
    return false;
  }
#undef KIND
}

void trace_check_feed_line(trace_check *tc, const char *line, size_t len) {
  if (len > 10 && memcmp(line, "{\"format\":", 10) == 0) { /* the header, once */
    cJSON *h = cJSON_ParseWithLength(line, len);
    if (h)
      trace_check_header(tc, h);
    cJSON_Delete(h);
    return;
  }
  /* {"t":N,"id":N,"ev":"...: look at the kind before reading the record. */
  const char *ev = find_ev(line, len < 64 ? len : 64);
  if (!ev)
    return;
  if (!wanted(ev, len - (size_t)(ev - line)))
    return;
  /* The scanner wants the line NUL-terminated: the tap's is not. */
  g_string_truncate(tc->line, 0);
  g_string_append_len(tc->line, line, (gssize)len);
  if (!trace_rec__scan(tc->rec, tc->line->str, len)) {
    /* A line the scanner is not sure of: the full parse. */
    cJSON *tree = cJSON_ParseWithLength(line, len);
    if (!tree) {
      trace_rec__clear(tc->rec);
      return;
    }
    trace_rec__set_tree(tc->rec, tree);
  }
  rd r = {tc->rec, NULL};
  feed(tc, &r);
  trace_rec__clear(tc->rec); /* frees what the getters parsed */
}

/* ---- the end of the run ---- */

static int64_t restarted_at(trace_check *tc, const char *node) {
  const int64_t *p = g_hash_table_lookup(tc->restarted, node);
  return p ? *p : -1;
}

static void end_unit(trace_check *tc, trace_unit *u, int64_t end, bool live) {
  char qb[TRACE_UNIT_QID_INLINE + 1];
  char *open = open_list(tc, u);
  if (!*open) {
    g_free(open);
    return;
  }
  char b1[TRACE_TIME_BUFSZ], b2[TRACE_TIME_BUFSZ], b3[TRACE_TIME_BUFSZ];
  uint64_t ids[] = {trace_units_id(&tc->us, u)};
  if (!trace_units_flag(u, TRACE_UNIT_QUEUED)) {
    report(tc, TRACE_CHECK_NO_LOSS, trace_units_msg(&tc->us, u), trace_units_node_name(&tc->us, u),
           ids, 1,
           "message %s, recipient(s) %s: accepted by %s (event %" PRIu64 ", queue %s), never "
           "queued, passed on, stored or bounced",
           trace_units_msg(&tc->us, u), open, trace_units_node_name(&tc->us, u),
           trace_units_id(&tc->us, u), trace_units_qid(&tc->us, u, qb));
    g_free(open);
    return;
  }
  bool held = !tc->held_known || trace_units_flag(u, TRACE_UNIT_HELD);
  if (!held && g_hash_table_size(tc->held)) {
    char *hk = key2(trace_units_node_name(&tc->us, u), trace_units_qid(&tc->us, u, qb));
    held = g_hash_table_contains(tc->held, hk);
    g_free(hk);
  }
  if (!held) {
    report(tc, TRACE_CHECK_NO_LOSS, trace_units_msg(&tc->us, u), trace_units_node_name(&tc->us, u),
           ids, 1,
           "message %s, recipient(s) %s: accepted by %s (event %" PRIu64 ", queue %s), not "
           "passed on, stored or bounced, and not in its queue at the end",
           trace_units_msg(&tc->us, u), open, trace_units_node_name(&tc->us, u),
           trace_units_id(&tc->us, u), trace_units_qid(&tc->us, u, qb));
    g_free(open);
    return;
  }
  const trace_unit_pol *up = trace_units_pol(&tc->us, u);
  int64_t gap = up->gap >= 0 ? up->gap : TRACE_CHECK_DEFAULT_GAP_NS;
  int64_t back = restarted_at(tc, trace_units_node_name(&tc->us, u));
  if (up->lifetime >= 0 && !trace_units_flag(u, TRACE_UNIT_LIFETIME_FLAGGED)) {
    int64_t due = MAX(trace_units_t(u) + up->lifetime, back) + gap + TRACE_CHECK_SLACK_NS;
    if (end > due) {
      report(tc, TRACE_CHECK_LIFETIME, trace_units_msg(&tc->us, u),
             trace_units_node_name(&tc->us, u), ids, 1,
             "message %s, recipient(s) %s: still queued at %s (queue %s, accepted at event %" PRIu64
             ") at the end, %s after it was queued; its lifetime is %s",
             trace_units_msg(&tc->us, u), open, trace_units_node_name(&tc->us, u),
             trace_units_qid(&tc->us, u, qb), trace_units_id(&tc->us, u),
             trace_time_format_short(end - trace_units_t(u), b1),
             trace_time_format_short(up->lifetime, b2));
      g_free(open);
      return;
    }
  }
  if (live) {
    int64_t from = MAX(MAX(tc->last_fault, trace_units_t(u)), back);
    if (end >= from + 2 * gap + TRACE_CHECK_SLACK_NS)
      report(tc, TRACE_CHECK_LIVENESS, trace_units_msg(&tc->us, u),
             trace_units_node_name(&tc->us, u), ids, 1,
             "message %s, recipient(s) %s: still queued at %s (queue %s, accepted at event %" PRIu64
             ") at the end, %s after %s; its retry schedule waits at most %s",
             trace_units_msg(&tc->us, u), open, trace_units_node_name(&tc->us, u),
             trace_units_qid(&tc->us, u, qb), trace_units_id(&tc->us, u),
             trace_time_format_short(end - from, b1),
             tc->last_fault >= 0 && tc->last_fault >= trace_units_t(u) ? "the last fault"
                                                                       : "it was queued",
             trace_time_format_short(gap, b3));
  }
  g_free(open);
}

void trace_check_finish(trace_check *tc, int64_t end) {
  if (tc->finished)
    return;
  tc->finished = true;
  /* Liveness holds only once every fault has healed. */
  bool live = true;
  for (guint i = 0; i < tc->down_order->len; i++) {
    const char *k = tc->down_order->pdata[i];
    const uint64_t *id = g_hash_table_lookup(tc->down, k); /* [first id, holders] */
    if (!id)
      continue;
    live = false;
    const char *nl = strchr(k, '\n');
    g_free(tc->liveness_note);
    tc->liveness_note = g_strdup_printf("not checked: %.*s %s (event %" PRIu64 ") never healed",
                                        (int)(nl - k), k, nl + 1, *id);
    break;
  }
  for (uint32_t i = 0; i < tc->us.n; i++) { /* creation order */
    trace_unit *u = trace_units_at(&tc->us, i);
    if (!trace_units_flag(u, TRACE_UNIT_EXPIRED))
      end_unit(tc, u, end, live);
  }
}

bool trace_check_finished(const trace_check *tc) { return tc->finished; }
size_t trace_check_count(const trace_check *tc) { return tc->viol->len; }

const trace_check_violation *trace_check_at(const trace_check *tc, size_t i) {
  g_assert(i < tc->viol->len);
  return tc->viol->pdata[i];
}

const char *trace_check_liveness_note(const trace_check *tc) { return tc->liveness_note; }
uint64_t trace_check_accepted(const trace_check *tc) { return tc->us.n; }
const GPtrArray *trace_check_reported(const trace_check *tc) { return tc->reported; }

bool trace_check_agrees(const trace_check *tc) {
  if (!tc->reported)
    return tc->viol->len == 0;
  if (tc->reported->len != tc->viol->len)
    return false;
  for (guint i = 0; i < tc->viol->len; i++)
    if (strcmp(tc->reported->pdata[i], trace_check_at(tc, i)->text) != 0)
      return false;
  return true;
}

trace_check *trace_check_file(const char *path, GError **err) {
  trace_reader *r = trace_reader_open(path, err);
  if (!r)
    return NULL;
  trace_check *tc = trace_check_new();
  trace_check_header(tc, trace_reader_header(r));
  const trace_rec *rec;
  trace_read_status st;
  while ((st = trace_reader_next_rec(r, &rec, err)) == TRACE_READ_OK) {
    rd rr = {rec, NULL};
    feed(tc, &rr);
  }
  trace_reader_free(r);
  if (st == TRACE_READ_FAIL) {
    trace_check_free(tc);
    return NULL;
  }
  trace_check_finish(tc, tc->last_t);
  return tc;
}
