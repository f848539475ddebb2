/* mime_imap.c — ENVELOPE, BODY, BODYSTRUCTURE and section ranges.
 *
 * Grammar from RFC 3501 §9 (envelope, address, body, body-type-1part,
 * body-type-mpart, body-ext-1part, body-ext-mpart, body-fld-*), meanings
 * from §7.4.2; section numbering from §6.4.5. Strings are quoted when they
 * can be, literals otherwise (§4.3). Parts lists and address lists have no
 * space between their elements, as in the §7.4.2 examples. */
#include "mime_imap.h"

#include "mime_addr.h"

#include <string.h>

void mime_imap_append_nstring(GString *out, const char *s) {
  if (!s) {
    g_string_append(out, "NIL");
    return;
  }
  gsize n = strlen(s);
  gboolean quoted = n < 1024;
  for (gsize i = 0; i < n && quoted; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x80 || c == '\r' || c == '\n')
      quoted = FALSE;
  }
  if (!quoted) {
    g_string_append_printf(out, "{%" G_GSIZE_FORMAT "}\r\n", n);
    g_string_append_len(out, s, (gssize)n);
    return;
  }
  g_string_append_c(out, '"');
  for (gsize i = 0; i < n; i++) {
    if (s[i] == '"' || s[i] == '\\')
      g_string_append_c(out, '\\');
    g_string_append_c(out, s[i]);
  }
  g_string_append_c(out, '"');
}

static void append_upper(GString *out, const char *s) {
  if (!s) {
    g_string_append(out, "NIL");
    return;
  }
  char *u = g_ascii_strup(s, -1);
  mime_imap_append_nstring(out, u);
  g_free(u);
}

static void append_addr(GString *out, const mime_addr *a) {
  g_string_append_c(out, '(');
  switch (a->kind) {
  case MIME_ADDR_MAILBOX:
    mime_imap_append_nstring(out, a->name_raw);
    g_string_append_c(out, ' ');
    mime_imap_append_nstring(out, a->route);
    g_string_append_c(out, ' ');
    mime_imap_append_nstring(out, a->local && *a->local ? a->local : NULL);
    g_string_append_c(out, ' ');
    mime_imap_append_nstring(out, a->domain);
    break;
  case MIME_ADDR_GROUP_START: /* §7.4.2: [RFC-2822] group syntax */
    g_string_append(out, "NIL NIL ");
    mime_imap_append_nstring(out, a->name_raw ? a->name_raw : "");
    g_string_append(out, " NIL");
    break;
  case MIME_ADDR_GROUP_END:
    g_string_append(out, "NIL NIL NIL NIL");
    break;
  default:
    g_assert_not_reached();
  }
  g_string_append_c(out, ')');
}

/* Appends the address list of field NAME; returns FALSE (nothing
 * appended) when the field is absent or has no address. */
static gboolean append_addr_list(GString *out, const mime_hdr *h, const char *name) {
  const char *v = mime_hdr_get(h, name);
  if (!v)
    return FALSE;
  GPtrArray *l = mime_addr_parse(v, NULL);
  if (l->len == 0) {
    g_ptr_array_unref(l);
    return FALSE;
  }
  g_string_append_c(out, '(');
  for (guint i = 0; i < l->len; i++)
    append_addr(out, g_ptr_array_index(l, i));
  g_string_append_c(out, ')');
  g_ptr_array_unref(l);
  return TRUE;
}

char *mime_imap_envelope(const mime_part *e) {
  const mime_hdr *h = e->hdr;
  GString *o = g_string_new("(");
  mime_imap_append_nstring(o, mime_hdr_get(h, "Date"));
  g_string_append_c(o, ' ');
  mime_imap_append_nstring(o, mime_hdr_get(h, "Subject"));
  g_string_append_c(o, ' ');
  GString *from = g_string_new(NULL);
  if (!append_addr_list(from, h, "From"))
    g_string_append(from, "NIL");
  g_string_append(o, from->str);
  /* §7.4.2: absent or empty Sender / Reply-To are set to From. */
  const char *more[] = {"Sender", "Reply-To"};
  for (int i = 0; i < 2; i++) {
    g_string_append_c(o, ' ');
    if (!append_addr_list(o, h, more[i]))
      g_string_append(o, from->str);
  }
  g_string_free(from, TRUE);
  const char *lists[] = {"To", "Cc", "Bcc"};
  for (int i = 0; i < 3; i++) {
    g_string_append_c(o, ' ');
    if (!append_addr_list(o, h, lists[i]))
      g_string_append(o, "NIL");
  }
  g_string_append_c(o, ' ');
  mime_imap_append_nstring(o, mime_hdr_get(h, "In-Reply-To"));
  g_string_append_c(o, ' ');
  mime_imap_append_nstring(o, mime_hdr_get(h, "Message-ID"));
  g_string_append_c(o, ')');
  return g_string_free(o, FALSE);
}

static void append_params(GString *o, const GPtrArray *params) {
  if (!params || params->len == 0) {
    g_string_append(o, "NIL");
    return;
  }
  g_string_append_c(o, '(');
  for (guint i = 0; i < params->len; i++) {
    const mime_param *p = g_ptr_array_index((GPtrArray *)params, i);
    if (i)
      g_string_append_c(o, ' ');
    append_upper(o, p->name);
    g_string_append_c(o, ' ');
    mime_imap_append_nstring(o, p->value);
  }
  g_string_append_c(o, ')');
}

static void append_ext_common(GString *o, const mime_part *p) {
  g_string_append_c(o, ' ');
  if (p->disposition) {
    g_string_append_c(o, '(');
    append_upper(o, p->disposition);
    g_string_append_c(o, ' ');
    append_params(o, p->disp_params_raw);
    g_string_append_c(o, ')');
  } else {
    g_string_append(o, "NIL");
  }
  g_string_append_c(o, ' ');
  const char *lang = mime_hdr_get(p->hdr, "Content-Language");
  gchar **tags = lang ? g_strsplit_set(lang, ", \t", -1) : NULL;
  GPtrArray *t = g_ptr_array_new();
  for (gchar **x = tags; x && *x; x++)
    if (**x)
      g_ptr_array_add(t, *x);
  if (t->len == 0) {
    g_string_append(o, "NIL");
  } else if (t->len == 1) {
    mime_imap_append_nstring(o, g_ptr_array_index(t, 0));
  } else {
    g_string_append_c(o, '(');
    for (guint i = 0; i < t->len; i++) {
      if (i)
        g_string_append_c(o, ' ');
      mime_imap_append_nstring(o, g_ptr_array_index(t, i));
    }
    g_string_append_c(o, ')');
  }
  g_ptr_array_free(t, TRUE);
  g_strfreev(tags);
  g_string_append_c(o, ' ');
  mime_imap_append_nstring(o, mime_hdr_get(p->hdr, "Content-Location"));
}

static void append_body(GString *o, const mime_part *p, gboolean ext);

static void append_body(GString *o, const mime_part *p, gboolean ext) {
  g_string_append_c(o, '(');
  if (mime_part_is_multipart(p)) {
    for (guint i = 0; i < p->children->len; i++)
      append_body(o, g_ptr_array_index(p->children, i), ext);
    g_string_append_c(o, ' ');
    append_upper(o, p->subtype);
    if (ext) {
      g_string_append_c(o, ' ');
      /* body-ext-mpart: the boundary and other parameters */
      append_params(o, p->ct_params_raw);
      append_ext_common(o, p);
    }
    g_string_append_c(o, ')');
    return;
  }
  append_upper(o, p->type);
  g_string_append_c(o, ' ');
  append_upper(o, p->subtype);
  g_string_append_c(o, ' ');
  append_params(o, p->ct_params_raw);
  g_string_append_c(o, ' ');
  mime_imap_append_nstring(o, mime_hdr_get(p->hdr, "Content-ID"));
  g_string_append_c(o, ' ');
  mime_imap_append_nstring(o, mime_hdr_get(p->hdr, "Content-Description"));
  g_string_append_c(o, ' ');
  if (p->cte_raw)
    append_upper(o, p->cte_raw);
  else
    g_string_append(o, "\"7BIT\"");
  g_string_append_printf(o, " %" G_GSIZE_FORMAT, p->body_len);
  if (mime_part_is_message(p)) {
    const mime_part *e = g_ptr_array_index(p->children, 0);
    char *env = mime_imap_envelope(e);
    g_string_append_c(o, ' ');
    g_string_append(o, env);
    g_free(env);
    g_string_append_c(o, ' ');
    append_body(o, e, ext);
    g_string_append_printf(o, " %" G_GSIZE_FORMAT, p->body_lines);
  } else if (strcmp(p->type, "message") == 0 &&
             (strcmp(p->subtype, "rfc822") == 0 || strcmp(p->subtype, "global") == 0)) {
    /* Not parsed inside (encoded, or past a limit), but the grammar of
     * body-type-msg still needs an envelope and a body: give empty ones. */
    g_string_append(o, " (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"TEXT\" \"PLAIN\" NIL NIL NIL "
                       "\"7BIT\" 0 0");
    if (ext)
      g_string_append(o, " NIL NIL NIL NIL");
    g_string_append_printf(o, ") %" G_GSIZE_FORMAT, p->body_lines);
  } else if (strcmp(p->type, "text") == 0) {
    g_string_append_printf(o, " %" G_GSIZE_FORMAT, p->body_lines);
  }
  if (ext) {
    g_string_append_c(o, ' ');
    mime_imap_append_nstring(o, mime_hdr_get(p->hdr, "Content-MD5"));
    append_ext_common(o, p);
  }
  g_string_append_c(o, ')');
}

char *mime_imap_bodystructure_part(const mime_part *p, gboolean extended) {
  GString *o = g_string_new(NULL);
  append_body(o, p, extended);
  return g_string_free(o, FALSE);
}

char *mime_imap_bodystructure(const mime_msg *m, gboolean extended) {
  return mime_imap_bodystructure_part(mime_msg_root(m), extended);
}

gboolean mime_imap_section_range(const mime_msg *m, const char *section, gsize *off, gsize *len) {
  gsize total = 0;
  mime_msg_data(m, &total);
  const mime_part *root = mime_msg_root(m);
  if (!section || !*section) {
    *off = 0;
    *len = total;
    return TRUE;
  }
  /* Split "1.2.MIME" into the number "1.2" and the text "MIME". */
  const char *s = section;
  const char *text = NULL;
  const char *p = s;
  while (*p) {
    if (g_ascii_isalpha(*p)) {
      text = p;
      break;
    }
    p++;
  }
  char *num = text ? g_strndup(s, (gsize)(text - s)) : g_strdup(s);
  gsize nl = strlen(num);
  if (text && nl > 0) {
    if (num[nl - 1] != '.') {
      g_free(num);
      return FALSE;
    }
    num[nl - 1] = 0;
  }
  const mime_part *part = *num ? mime_msg_find(m, num) : root;
  gboolean has_num = *num != 0;
  g_free(num);
  if (!part)
    return FALSE;
  if (!text) {
    *off = part->body_off;
    *len = part->body_len;
    return TRUE;
  }
  if (g_ascii_strcasecmp(text, "MIME") == 0) {
    if (!has_num)
      return FALSE;
    *off = part->hdr_off;
    *len = part->hdr_len;
    return TRUE;
  }
  gboolean hdr = g_ascii_strcasecmp(text, "HEADER") == 0;
  if (!hdr && g_ascii_strcasecmp(text, "TEXT") != 0)
    return FALSE;
  const mime_part *e = part;
  if (has_num) {
    if (!mime_part_is_message(part))
      return FALSE;
    e = g_ptr_array_index(part->children, 0);
  }
  *off = hdr ? e->hdr_off : e->body_off;
  *len = hdr ? e->hdr_len : e->body_len;
  return TRUE;
}

GBytes *mime_imap_header_fields(const mime_msg *m, const mime_part *entity,
                                const char *const *names, gsize n_names, gboolean exclude) {
  const guint8 *d = mime_msg_data(m, NULL);
  GByteArray *out = g_byte_array_new();
  for (guint i = 0; i < mime_hdr_count(entity->hdr); i++) {
    const mime_hdr_field *f = mime_hdr_nth(entity->hdr, i);
    gboolean listed = FALSE;
    for (gsize k = 0; k < n_names && !listed; k++)
      listed = g_ascii_strcasecmp(f->name, names[k]) == 0;
    if (listed == exclude)
      continue;
    g_byte_array_append(out, d + f->offset, (guint)f->length);
    /* The last field of a header without an empty line may lack its CRLF. */
    if (f->length == 0 || d[f->offset + f->length - 1] != '\n')
      g_byte_array_append(out, (const guint8 *)"\r\n", 2);
  }
  g_byte_array_append(out, (const guint8 *)"\r\n", 2);
  return g_byte_array_free_to_bytes(out);
}
