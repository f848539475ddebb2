/* trace_eml.c — stored messages out of a trace (see trace_eml.h): the
 * msg.store / msg.kept / msg.deliver records joined, mboxrd quoting and
 * file names.
 *
 * mbox: the "mboxrd" variant (the From_ line, then the message with every
 * line matching ^>*From␣ quoted by one more '>', then an empty line), as
 * documented at https://www.loc.gov/preservation/digital/formats/fdd/fdd000385.shtml
 * and read by Python's mailbox.mbox, mutt and Thunderbird. The message
 * itself is RFC 5322 text; its CRLF line ends become LF, the mbox
 * convention on Unix. The From_ date is asctime(3) form in UTC, written from
 * fixed name tables (no locale).
 */
#include "trace_eml.h"

#include <string.h>

G_DEFINE_QUARK(trace - eml - error - quark, trace_eml_error)

static void msg_free(trace_eml_msg *m) {
  g_free(m->node);
  g_free(m->mailbox);
  g_free(m->folder);
  g_free(m->msg);
  g_free(m->env_from);
  if (m->data)
    g_bytes_unref(m->data);
  g_free(m);
}

/* A msg.store record, kept while reading. */
typedef struct {
  char *env_from;
  int64_t date_unix;
  GBytes *data;
} stored;

static void stored_free(stored *s) {
  g_free(s->env_from);
  g_bytes_unref(s->data);
  g_free(s);
}

typedef struct {
  trace_reader *r;
  const char *name;
  GError **err;
} ctx;

static bool lacks(ctx *x, const char *ev, const char *kind, const char *key) {
  g_set_error(x->err, TRACE_READ_ERROR, TRACE_READ_ERROR_RECORD,
              "%s:%" G_GUINT64_FORMAT ": %s record lacks the %s key \"%s\"", x->name,
              trace_reader_line(x->r), ev, kind, key);
  return false;
}

static bool get_str(ctx *x, const cJSON *rec, const char *ev, const char *key, const char **out) {
  *out = trace_get_str(rec, key);
  return *out ? true : lacks(x, ev, "text", key);
}

static bool get_int(ctx *x, const cJSON *rec, const char *ev, const char *key, int64_t *out) {
  return trace_get_int(rec, key, out) ? true : lacks(x, ev, "integer", key);
}

static char *key2(const char *a, const char *b) { return g_strconcat(a, "\n", b, NULL); }

static bool want_mailbox(const char *filter, const char *mailbox) {
  return !filter || g_ascii_strcasecmp(filter, mailbox) == 0;
}

static trace_eml_msg *msg_new(const char *node, const char *mailbox, const char *folder,
                              int64_t uid, const char *msg, const char *env_from, int64_t date_unix,
                              GBytes *data) {
  trace_eml_msg *m = g_new0(trace_eml_msg, 1);
  m->node = g_strdup(node);
  m->mailbox = g_strdup(mailbox);
  m->folder = g_strdup(folder);
  m->uid = (uint32_t)uid;
  m->msg = g_strdup(msg);
  m->env_from = g_strdup(env_from);
  m->date_unix = date_unix;
  m->data = g_bytes_ref(data);
  return m;
}

/* msg.store: remember its bytes by id and by (node, msg). */
static bool on_store(ctx *x, const cJSON *rec, GHashTable *by_id, GHashTable *latest) {
  const char *ev = "msg.store", *node, *msg, *from;
  int64_t id, date;
  if (!get_int(x, rec, ev, "id", &id) || !get_str(x, rec, ev, "node", &node) ||
      !get_str(x, rec, ev, "msg", &msg) || !get_str(x, rec, ev, "env_from", &from) ||
      !get_int(x, rec, ev, "date_unix", &date))
    return false;
  GBytes *data = trace_get_bytes(rec, "data");
  if (!data)
    return lacks(x, ev, "bytes", "data");
  stored *s = g_new0(stored, 1);
  s->env_from = g_strdup(from);
  s->date_unix = date;
  s->data = data;
  g_hash_table_replace(by_id, g_memdup2(&id, sizeof id), s);
  g_hash_table_replace(latest, key2(node, msg), s); /* borrowed from by_id */
  return true;
}

/* msg.deliver (EVER): one copy, with the latest bytes of (node, msg). */
static bool on_deliver(ctx *x, const cJSON *rec, GHashTable *latest, const char *filter,
                       GPtrArray *out) {
  const char *ev = "msg.deliver", *node, *msg, *mailbox, *folder;
  int64_t uid;
  if (!get_str(x, rec, ev, "node", &node) || !get_str(x, rec, ev, "msg", &msg) ||
      !get_str(x, rec, ev, "mailbox", &mailbox) || !get_str(x, rec, ev, "folder", &folder) ||
      !get_int(x, rec, ev, "uid", &uid))
    return false;
  if (uid <= 0 || uid > G_MAXUINT32 || !want_mailbox(filter, mailbox))
    return true; /* a discard or a redirect: nothing stored */
  char *k = key2(node, msg);
  const stored *s = g_hash_table_lookup(latest, k);
  g_free(k);
  if (!s)
    return true; /* delivered before bodies were kept (not written by our runs) */
  g_ptr_array_add(out,
                  msg_new(node, mailbox, folder, uid, msg, s->env_from, s->date_unix, s->data));
  return true;
}

/* msg.kept (AT_END): the bytes from its msg.store, or its own "data". */
static bool on_kept(ctx *x, const cJSON *rec, GHashTable *by_id, const char *filter,
                    GPtrArray *out) {
  const char *ev = "msg.kept", *node, *msg, *mailbox, *folder;
  int64_t uid, date, store;
  if (!get_str(x, rec, ev, "node", &node) || !get_str(x, rec, ev, "mailbox", &mailbox) ||
      !get_str(x, rec, ev, "folder", &folder) || !get_int(x, rec, ev, "uid", &uid) ||
      !get_str(x, rec, ev, "msg", &msg) || !get_int(x, rec, ev, "date_unix", &date) ||
      !get_int(x, rec, ev, "store", &store))
    return false;
  if (!want_mailbox(filter, mailbox))
    return true;
  const stored *s = store ? g_hash_table_lookup(by_id, &store) : NULL;
  if (store && !s) {
    g_set_error(x->err, TRACE_READ_ERROR, TRACE_READ_ERROR_RECORD,
                "%s:%" G_GUINT64_FORMAT ": msg.kept names store %" G_GINT64_FORMAT
                ", which is not a msg.store record before it",
                x->name, trace_reader_line(x->r), store);
    return false;
  }
  GBytes *own = s ? NULL : trace_get_bytes(rec, "data");
  if (!s && !own)
    return lacks(x, ev, "bytes", "data");
  g_ptr_array_add(
      out, msg_new(node, mailbox, folder, uid, msg, s ? s->env_from : "", date, s ? s->data : own));
  if (own)
    g_bytes_unref(own);
  return true;
}

GPtrArray *trace_eml_collect(trace_reader *r, const char *name, trace_eml_which which,
                             const char *mailbox, GError **err) {
  ctx x = {r, name, err};
  GHashTable *by_id =
      g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)stored_free);
  GHashTable *latest = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)msg_free);
  bool ok = true;
  size_t kept = 0; /* msg.kept records seen (any mailbox) */
  const cJSON *rec;
  trace_read_status st = TRACE_READ_OK;
  while (ok && (st = trace_reader_next(r, &rec, err)) == TRACE_READ_OK) {
    const char *ev = trace_get_str(rec, "ev");
    if (strcmp(ev, "msg.store") == 0) {
      ok = on_store(&x, rec, by_id, latest);
    } else if (which == TRACE_EML_EVER && strcmp(ev, "msg.deliver") == 0) {
      ok = on_deliver(&x, rec, latest, mailbox, out);
    } else if (which == TRACE_EML_AT_END && strcmp(ev, "msg.kept") == 0) {
      kept++;
      ok = on_kept(&x, rec, by_id, mailbox, out);
    }
  }
  if (ok && st == TRACE_READ_FAIL)
    ok = false;
  if (ok && g_hash_table_size(by_id) == 0 && kept == 0) {
    g_set_error(err, TRACE_EML_ERROR, TRACE_EML_ERROR_NO_BODIES,
                "%s: the trace carries no message bodies (no msg.store record): run the "
                "scenario with 'mailsim run --keep-messages'",
                name);
    ok = false;
  } else if (ok && out->len == 0) {
    g_set_error(err, TRACE_EML_ERROR, TRACE_EML_ERROR_NOT_FOUND, "%s: no message %s%s%s", name,
                which == TRACE_EML_AT_END ? "was stored at the end of the run" : "was ever stored",
                mailbox ? " in mailbox " : "", mailbox ? mailbox : "");
    ok = false;
  }
  g_hash_table_destroy(latest);
  g_hash_table_destroy(by_id);
  if (!ok) {
    g_ptr_array_unref(out);
    return NULL;
  }
  return out;
}

/* ---- mbox ---- */

static const char wday[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"}; /* 1970-01-01 */
static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* asctime(3) form of Unix time T in UTC: "Mon Mar  2 09:10:00 2026". */
static void append_asctime(GString *out, int64_t t) {
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  int64_t secs = t - days * 86400;
  /* Civil date from days since 1970-01-01 (H. Hinnant's algorithm). */
  int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  int64_t wd = ((days % 7) + 7) % 7;
  g_string_append_printf(out, "%s %s %2d %02d:%02d:%02d %" G_GINT64_FORMAT, wday[wd], mon[m - 1],
                         (int)d, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), y);
}

static bool is_from_line(const char *p, size_t n) {
  size_t i = 0;
  while (i < n && p[i] == '>')
    i++;
  return n - i >= 5 && memcmp(p + i, "From ", 5) == 0;
}

void trace_eml_mbox_append(GString *out, const trace_eml_msg *m) {
  g_string_append(out, "From ");
  const char *from = m->env_from && *m->env_from ? m->env_from : "MAILER-DAEMON";
  for (const char *p = from; *p; p++) /* the From_ line's address has no blanks */
    g_string_append_c(out, *p == ' ' || *p == '\t' ? '_' : *p);
  g_string_append_c(out, ' ');
  append_asctime(out, m->date_unix);
  g_string_append_c(out, '\n');
  gsize n;
  const char *p = g_bytes_get_data(m->data, &n);
  size_t i = 0;
  while (i < n) {
    const char *nl = memchr(p + i, '\n', n - i);
    size_t end = nl ? (size_t)(nl - p) : n, len = end - i;
    if (len > 0 && p[i + len - 1] == '\r')
      len--;
    if (is_from_line(p + i, len))
      g_string_append_c(out, '>');
    g_string_append_len(out, p + i, (gssize)len);
    g_string_append_c(out, '\n');
    i = nl ? end + 1 : n;
  }
  g_string_append_c(out, '\n');
}

static void append_safe(GString *out, const char *s) {
  for (; *s; s++)
    g_string_append_c(out, g_ascii_isalnum(*s) || strchr("@._+-", *s) ? *s : '_');
}

char *trace_eml_file_name(const trace_eml_msg *m, unsigned index) {
  GString *o = g_string_new(NULL);
  g_string_append_printf(o, "%03u-", index);
  append_safe(o, m->mailbox);
  g_string_append_c(o, '-');
  append_safe(o, m->folder);
  g_string_append_printf(o, "-%u.eml", m->uid);
  return g_string_free(o, FALSE);
}
