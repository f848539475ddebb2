/* mime_display.c — the view a person gets of a message.
 *
 * Fields are decoded per RFC 2047 (§6 display of encoded words) and
 * RFC 5322 §3.4 address lists; Received fields (RFC 5321 §4.4) are listed
 * in header order, which is the reverse of the path: the top one was added
 * by the last host. Attachments follow RFC 2183 (disposition and file
 * name), sizes after undoing the transfer encoding. */
#include "mime_display.h"

#include "mime_addr.h"
#include "mime_ew.h"
#include "mime_int.h"

#include <string.h>

char *mime_display_addresses(const char *value) {
  if (value && mime__plain_addr_spec(value))
    return g_strdup(value);
  GPtrArray *l = mime_addr_parse(value, NULL);
  GString *o = g_string_new(NULL);
  gboolean comma = FALSE;
  for (guint i = 0; i < l->len; i++) {
    const mime_addr *a = g_ptr_array_index(l, i);
    if (a->kind == MIME_ADDR_GROUP_END) {
      g_string_append_c(o, ';');
      comma = TRUE;
      continue;
    }
    if (comma)
      g_string_append(o, ", ");
    if (a->kind == MIME_ADDR_GROUP_START) {
      g_string_append_printf(o, "%s:", a->name ? a->name : "");
      comma = FALSE;
      if (i + 1 < l->len &&
          ((const mime_addr *)g_ptr_array_index(l, i + 1))->kind == MIME_ADDR_MAILBOX)
        g_string_append_c(o, ' ');
      continue;
    }
    char *spec = mime_addr_spec(a);
    if (a->name && *a->name)
      g_string_append_printf(o, "%s <%s>", a->name, spec);
    else
      g_string_append(o, spec);
    g_free(spec);
    comma = TRUE;
  }
  g_ptr_array_unref(l);
  return g_string_free(o, FALSE);
}

static void field_free(gpointer p) {
  mime_display_field *f = p;
  g_free(f->name);
  g_free(f->value);
  g_free(f);
}

static void att_free(gpointer p) {
  mime_display_attachment *a = p;
  g_free(a->section);
  g_free(a->filename);
  g_free(a->type);
  g_free(a);
}

static void rcv_free(gpointer p) {
  mime_received_info_clear(p);
  g_free(p);
}

static void collect(const mime_msg *m, const mime_part *p, GPtrArray *out) {
  if (mime_part_is_multipart(p)) {
    for (guint i = 0; i < p->children->len; i++)
      collect(m, g_ptr_array_index(p->children, i), out);
    return;
  }
  if (!p->parent)
    return; /* the message itself is not an attachment */
  if (g_strcmp0(p->disposition, "attachment") != 0 && !p->filename)
    return;
  mime_display_attachment *a = g_new0(mime_display_attachment, 1);
  a->section = g_strdup(p->section);
  a->filename = g_strdup(p->filename);
  a->type = g_strdup_printf("%s/%s", p->type, p->subtype);
  GBytes *b = mime_part_decode(m, p, NULL);
  a->size = g_bytes_get_size(b);
  g_bytes_unref(b);
  g_ptr_array_add(out, a);
}

/* What a reader's client shows: the usual fields, then the receiving
 * server's verdict on who sent it (RFC 8601; the topmost one is ours). */
static const char *const shown_names[] = {"From", "To", "Cc", "Subject", "Date",
                                          "Authentication-Results"};

mime_display *mime_display_new(const mime_msg *m) {
  mime_display *d = g_new0(mime_display, 1);
  d->fields = g_ptr_array_new_with_free_func(field_free);
  d->received = g_ptr_array_new_with_free_func(rcv_free);
  d->attachments = g_ptr_array_new_with_free_func(att_free);
  const mime_part *root = mime_msg_root(m);
  for (gsize i = 0; i < G_N_ELEMENTS(shown_names); i++) {
    const char *v = mime_hdr_get(root->hdr, shown_names[i]);
    if (!v)
      continue;
    mime_display_field *f = g_new0(mime_display_field, 1);
    f->name = g_strdup(shown_names[i]);
    if (i < 3)
      f->value = mime_display_addresses(v);
    else
      f->value = mime_ew_decode(v); /* Subject; the others: sanitised to UTF-8 */
    g_ptr_array_add(d->fields, f);
  }
  const mime_hdr_field *rf;
  for (guint n = 0; (rf = mime_hdr_find(root->hdr, "Received", n)) != NULL; n++) {
    mime_received_info *ri = g_new0(mime_received_info, 1);
    mime_trace_received_parse(rf->value, ri);
    g_ptr_array_add(d->received, ri);
  }
  collect(m, root, d->attachments);
  return d;
}

/* mime_display_scan's entries (fields with their values, Received
 * entries) are carved from blocks that stay with the display: a display
 * reused for the next message reuses its first block. */
typedef struct store_block {
  struct store_block *next; /* the block filled before this one */
  gsize cap, used;    /* octets of data */
  guint64 data[];      /* 8-aligned: the entries hold pointers and int64s */
} store_block;

#define STORE_BLOCK 2048       /* the usual display fits one */
#define STORE_KEEP (64 * 1024) /* a larger first block is not kept for reuse */

/* N octets (8-aligned) from the store *HEAD. */
static void *store_alloc(void *user, gsize n) {
  store_block **head = user;
  n = (n + 7) & ~(gsize)7;
  store_block *b = *head;
  if (!b || b->cap - b->used < n) {
    gsize cap = MAX(n, STORE_BLOCK - sizeof *b);
    store_block *nb = g_malloc(sizeof *nb + cap);
    nb->next = b;
    nb->cap = cap;
    nb->used = 0;
    *head = b = nb;
  }
  void *p = (char *)b->data + b->used;
  b->used += n;
  return p;
}

/* Empties the store *HEAD, keeping one block for reuse. */
static void store_reset(store_block **head) {
  store_block *keep = *head, *rest = keep ? keep->next : NULL;
  if (keep && keep->cap > STORE_KEEP) {
    rest = keep;
    keep = NULL;
  }
  while (rest) {
    store_block *n = rest->next;
    g_free(rest);
    rest = n;
  }
  if (keep) {
    keep->next = NULL;
    keep->used = 0;
  }
  *head = keep;
}

/* Unfolds RAW (LEN octets) into BUF (SMALL octets) when it fits, else
 * into a new string; the caller frees the result when it is not BUF.
 * *N (may be NULL) receives the unfolded length. */
static char *unfold_small(const char *raw, gsize len, char *buf, gsize small, gsize *n) {
  char *u = len < small ? buf : g_malloc(len + 1);
  gsize l = mime__unfold_into(raw, len, u);
  if (n)
    *n = l;
  return u;
}

/* The displayed field I (of shown_names) of the unfolded value U (N
 * octets): what mime_display_new shows, in the store *HEAD with its
 * value. A value shown as written (a bare addr-spec, or text of ASCII
 * without NUL and without an encoded word, which mime_display_addresses
 * and mime_ew_decode copy as they are) is copied from U, any other made
 * by them and copied. */
static mime_display_field *shown_field(store_block **head, guint i, const char *u, gsize n) {
  gboolean as_is;
  if (i < 3) {
    as_is = mime__plain_addr_spec(u);
  } else {
    gsize k = 0;
    while (k < n && (guchar)(u[k] - 1) < 0x7f) /* mime__utf8_sanitize's ASCII test */
      k++;
    as_is = k == n && !strstr(u, "=?");
  }
  char *made = as_is ? NULL : i < 3 ? mime_display_addresses(u) : mime_ew_decode(u);
  const char *v = made ? made : u;
  gsize vn = made ? strlen(made) : n;
  mime_display_field *f = store_alloc(head, sizeof *f + vn + 1);
  f->value = memcpy(f + 1, v, vn + 1);
  f->name = (char *)shown_names[i];
  g_free(made);
  return f;
}

/* TRUE when S holds "multipart" in any case: a Content-Type value whose
 * type is multipart does (the type is one token, RFC 2045 §5.1). */
static gboolean may_be_multipart(const char *s) {
  for (; *s; s++)
    if ((*s == 'm' || *s == 'M') && g_ascii_strncasecmp(s, "multipart", 9) == 0)
      return TRUE;
  return FALSE;
}

mime_display *mime_display_scan(const void *data, gsize len, char **message_id) {
  return mime_display_scan_into(NULL, data, len, message_id);
}

static mime_display *scan_into(mime_display *d, const void *data, gsize len, char **message_id,
                               const char **mid_raw, gsize *mid_len);

mime_display *mime_display_scan_into(mime_display *d, const void *data, gsize len,
                                     char **message_id) {
  return scan_into(d, data, len, message_id, NULL, NULL);
}

mime_display *mime_display_scan_into_raw(mime_display *d, const void *data, gsize len,
                                         const char **mid_raw, gsize *mid_len) {
  g_assert(mid_raw && mid_len);
  return scan_into(d, data, len, NULL, mid_raw, mid_len);
}

/* MESSAGE_ID (unfolded, a new string) or MID_RAW and MID_LEN (the raw
 * value in DATA) receive the first Message-ID; both may be NULL. */
static mime_display *scan_into(mime_display *d, const void *data, gsize len, char **message_id,
                               const char **mid_raw, gsize *mid_len) {
  g_assert(data || len == 0);
  const char *buf = data ? data : "";
  if (message_id)
    *message_id = NULL;
  if (mid_raw) {
    *mid_raw = NULL;
    *mid_len = 0;
  }
  if (d) {
    g_assert(d->store_); /* one of mime_display_scan's */
    d->fields->len = 0; /* entries in the store: no free function */
    d->received->len = 0;
    if (d->attachments->len)
      g_ptr_array_set_size(d->attachments, 0); /* att_free on each */
    store_reset(d->store_);
  } else {
    d = g_new0(mime_display, 1);
    d->fields = g_ptr_array_sized_new(G_N_ELEMENTS(shown_names)); /* entries in the store */
    d->received = g_ptr_array_sized_new(8);
    d->attachments = g_ptr_array_new_with_free_func(att_free);
    d->store_ = g_new0(store_block *, 1);
  }
  store_block **head = d->store_;
  /* The root header as mime_msg_parse keeps it: its first 1,000 fields
   * (mime_limits_default), the first of each displayed name. */
  mime_limits lim;
  mime_limits_default(&lim);
  mime_hdr_view first[G_N_ELEMENTS(shown_names)];
  guint have = 0; /* bit i: first[i] is set */
  gboolean ctype_seen = FALSE, multi = FALSE;
  char small[512];
  mime_hdr_scan sc;
  mime_hdr_view v;
  mime_hdr_scan_init(&sc, buf, len, FALSE);
  for (guint n = 0; n < lim.max_fields && mime_hdr_scan_next(&sc, &v); n++) {
    if (v.name_len == 8 && mime_hdr_name_is(v.name, v.name_len, "Received", 8)) {
      char *u = unfold_small(v.raw_value, v.raw_len, small, sizeof small, NULL);
      g_ptr_array_add(d->received, mime__received_route_alloc(u, store_alloc, head));
      if (u != small)
        g_free(u);
      continue;
    }
    if (!ctype_seen && v.name_len == 12 &&
        mime_hdr_name_is(v.name, v.name_len, "Content-Type", 12)) {
      ctype_seen = TRUE;
      char *u = unfold_small(v.raw_value, v.raw_len, small, sizeof small, NULL);
      multi = may_be_multipart(u);
      if (u != small)
        g_free(u);
      continue;
    }
    if (((message_id && !*message_id) || (mid_raw && !*mid_raw)) && v.name_len == 10 &&
        mime_hdr_name_is(v.name, v.name_len, "Message-ID", 10)) {
      if (message_id)
        *message_id = mime_hdr_unfold(v.raw_value, v.raw_len);
      if (mid_raw) {
        *mid_raw = v.raw_value;
        *mid_len = v.raw_len;
      }
      continue;
    }
    static const gsize shown_len[G_N_ELEMENTS(shown_names)] = {4, 2, 2, 7, 4, 22};
    for (guint i = 0; i < G_N_ELEMENTS(shown_names); i++)
      if (v.name_len == shown_len[i] && !(have & 1u << i) &&
          mime_hdr_name_is(v.name, v.name_len, shown_names[i], shown_len[i])) {
        first[i] = v;
        have |= 1u << i;
        break;
      }
  }
  for (guint i = 0; i < G_N_ELEMENTS(shown_names); i++) {
    if (!(have & 1u << i))
      continue;
    gsize n;
    char *u = unfold_small(first[i].raw_value, first[i].raw_len, small, sizeof small, &n);
    g_ptr_array_add(d->fields, shown_field(head, i, u, n));
    if (u != small)
      g_free(u);
  }
  if (multi) {
    mime_msg *m = mime_msg_parse(buf, len, NULL);
    collect(m, mime_msg_root(m), d->attachments);
    mime_msg_free(m);
  }
  return d;
}

void mime_display_free(mime_display *d) {
  if (!d)
    return;
  g_ptr_array_unref(d->fields);
  g_ptr_array_unref(d->received);
  g_ptr_array_unref(d->attachments);
  if (d->store_) {
    store_block **head = d->store_;
    for (store_block *b = *head, *n; b; b = n) {
      n = b->next;
      g_free(b);
    }
    g_free(head);
  }
  g_free(d);
}

const char *mime_display_get(const mime_display *d, const char *name) {
  for (guint i = 0; i < d->fields->len; i++) {
    const mime_display_field *f = g_ptr_array_index(d->fields, i);
    if (g_ascii_strcasecmp(f->name, name) == 0)
      return f->value;
  }
  return NULL;
}
