/* mime_msg.c — a message and its MIME part tree.
 *
 * The header/body split follows RFC 5322 §2.1 (the first empty line) with
 * LF-only line ends tolerated and reported (§2.3). MIME structure follows
 * RFC 2045 (§5 Content-Type and its defaults in §5.2, §6 transfer
 * encodings) and RFC 2046 §5.1.1: a delimiter is CRLF "--" boundary at the
 * start of a line, optionally followed by "--" (close delimiter) and
 * transport padding; the CRLF before it belongs to the delimiter, so a
 * part's body ends before that CRLF; preamble and epilogue are ignored; a
 * missing close delimiter is tolerated and flagged. multipart/digest parts
 * default to message/rfc822 (§5.1.5), whose body is parsed as a message
 * (§5.2.1). Parts are numbered as IMAP does (RFC 3501 §6.4.5). Depth, part
 * count and field count are bounded; a multipart that cannot be split
 * (no boundary, depth limit, no delimiter found) is kept as one opaque
 * text/plain leaf, so every tree is valid for IMAP BODYSTRUCTURE. */
#include "mime_msg.h"

#include "mime_codec.h"
#include "mime_ew.h"
#include "mime_int.h"

#include <string.h>

static const char *const cte_names[MIME_CTE_COUNT] = {
    "7bit", "8bit", "binary", "quoted-printable", "base64", "other"};

const char *mime_cte_name(mime_cte c) { return (unsigned)c < MIME_CTE_COUNT ? cte_names[c] : "?"; }

void mime_limits_default(mime_limits *l) {
  l->max_depth = 32;
  l->max_parts = 1000;
  l->max_fields = 1000;
}

struct mime_msg {
  guint8 *data;
  gsize len;
  mime_limits lim;
  guint nparts;
  guint flags;
  mime_part *root;
};

static void part_free(gpointer p) {
  mime_part *x = p;
  if (!x)
    return;
  if (x->children)
    g_ptr_array_free(x->children, TRUE);
  g_free(x->section);
  mime_hdr_free(x->hdr);
  g_free(x->type);
  g_free(x->subtype);
  if (x->ct_params_raw)
    g_ptr_array_free(x->ct_params_raw, TRUE);
  if (x->ct_params)
    g_ptr_array_free(x->ct_params, TRUE);
  g_free(x->cte_raw);
  g_free(x->disposition);
  if (x->disp_params_raw)
    g_ptr_array_free(x->disp_params_raw, TRUE);
  if (x->disp_params)
    g_ptr_array_free(x->disp_params, TRUE);
  g_free(x->filename);
  g_free(x);
}

gboolean mime_part_is_multipart(const mime_part *p) {
  return g_strcmp0(p->type, "multipart") == 0 && p->children->len > 0;
}

gboolean mime_part_is_message(const mime_part *p) {
  return g_strcmp0(p->type, "message") == 0 && p->children->len == 1;
}

const char *mime_part_param(const mime_part *p, const char *name) {
  return mime_params_get(p->ct_params, name);
}

static mime_cte parse_cte(const char *v) {
  if (!v)
    return MIME_CTE_7BIT;
  char *t = g_ascii_strdown(v, -1);
  g_strstrip(t);
  mime_cte c = MIME_CTE_OTHER;
  for (int i = 0; i < MIME_CTE_OTHER; i++)
    if (strcmp(t, cte_names[i]) == 0)
      c = (mime_cte)i;
  g_free(t);
  return c;
}

static void set_default_type(mime_part *p, gboolean digest) {
  g_free(p->type);
  g_free(p->subtype);
  p->type = g_strdup(digest ? "message" : "text");
  p->subtype = g_strdup(digest ? "rfc822" : "plain");
  if (!digest && !mime_params_get(p->ct_params_raw, "charset")) {
    mime_param *cs = g_new0(mime_param, 1);
    cs->name = g_strdup("charset");
    cs->value = g_strdup("us-ascii");
    g_ptr_array_insert(p->ct_params_raw, 0, cs);
    mime_param *cs2 = g_new0(mime_param, 1);
    cs2->name = g_strdup("charset");
    cs2->value = g_strdup("us-ascii");
    g_ptr_array_insert(p->ct_params, 0, cs2);
  }
}

static gsize count_lines(const guint8 *d, gsize n) {
  gsize lines = 0;
  for (gsize i = 0; i < n; i++)
    lines += d[i] == '\n';
  if (n && d[n - 1] != '\n')
    lines++;
  return lines;
}

static mime_part *parse_entity(mime_msg *m, mime_part *parent, gsize off, gsize len, guint depth,
                               const char *section, gboolean encapsulated);

static char *child_section(const char *prefix, guint k) {
  return *prefix ? g_strdup_printf("%s.%u", prefix, k) : g_strdup_printf("%u", k);
}

/* Is the line at LS (ending at EOL) a delimiter for BOUNDARY? *CLOSE says
 * whether it is the close delimiter. RFC 2046 §5.1.1: "--" boundary
 * ["--"] *LWSP-char. */
static gboolean is_delim(const guint8 *d, gsize ls, gsize eol, const char *b, gsize bl,
                         gboolean *close) {
  if (eol - ls < bl + 2 || d[ls] != '-' || d[ls + 1] != '-' || memcmp(d + ls + 2, b, bl) != 0)
    return FALSE;
  gsize p = ls + 2 + bl;
  *close = FALSE;
  if (p + 2 <= eol && d[p] == '-' && d[p + 1] == '-') {
    *close = TRUE;
    p += 2;
  }
  while (p < eol && (d[p] == ' ' || d[p] == '\t'))
    p++;
  return p == eol;
}

/* Splits a multipart body; returns FALSE when no delimiter was found. */
static gboolean split_multipart(mime_msg *m, mime_part *p, guint depth) {
  const char *b = mime_params_get(p->ct_params, "boundary");
  gsize bl = b ? strlen(b) : 0;
  if (bl == 0 || bl > 200) { /* RFC 2046 §5.1.1: 1 to 70 characters (tolerant) */
    p->flags |= MIME_FLAG_NO_BOUNDARY;
    return FALSE;
  }
  const guint8 *d = m->data;
  gsize bs = p->body_off, be = p->body_off + p->body_len;
  gsize ls = bs, part_start = 0;
  gboolean in_part = FALSE, closed = FALSE, any = FALSE;
  guint k = 0;
  while (ls < be && !closed) {
    const guint8 *nl = memchr(d + ls, '\n', be - ls);
    gsize next = nl ? (gsize)(nl - d) + 1 : be;
    gsize eol = nl ? (gsize)(nl - d) : be;
    if (nl && eol > ls && d[eol - 1] == '\r')
      eol--;
    gboolean close = FALSE;
    if (is_delim(d, ls, eol, b, bl, &close)) {
      gsize dstart = ls;
      if (ls > bs && d[ls - 1] == '\n') {
        dstart = ls - 1;
        if (dstart > bs && d[dstart - 1] == '\r')
          dstart--;
      }
      if (in_part && dstart < part_start)
        dstart = part_start; /* two delimiters on adjacent lines: empty part */
      if (in_part) {
        if (m->nparts >= m->lim.max_parts) {
          p->flags |= MIME_FLAG_PART_LIMIT;
          break;
        }
        char *sec = child_section(p->section, ++k);
        mime_part *c = parse_entity(m, p, part_start, dstart - part_start, depth + 1, sec, FALSE);
        g_free(sec);
        if (c)
          g_ptr_array_add(p->children, c);
      }
      any = TRUE;
      in_part = !close;
      closed = close;
      part_start = next;
    }
    ls = next;
  }
  if (in_part && !closed && !(p->flags & MIME_FLAG_PART_LIMIT)) {
    p->flags |= MIME_FLAG_NO_CLOSE;
    if (m->nparts < m->lim.max_parts) {
      char *sec = child_section(p->section, ++k);
      mime_part *c =
          parse_entity(m, p, part_start, be - MIN(part_start, be), depth + 1, sec, FALSE);
      g_free(sec);
      if (c)
        g_ptr_array_add(p->children, c);
    } else {
      p->flags |= MIME_FLAG_PART_LIMIT;
    }
  }
  if (!any)
    p->flags |= MIME_FLAG_NO_CLOSE;
  return p->children->len > 0;
}

static mime_part *parse_entity(mime_msg *m, mime_part *parent, gsize off, gsize len, guint depth,
                               const char *section, gboolean encapsulated) {
  m->nparts++;
  mime_part *p = g_new0(mime_part, 1);
  p->parent = parent;
  p->children = g_ptr_array_new_with_free_func(part_free);
  p->section = g_strdup(section);
  p->encapsulated = encapsulated;
  gsize hl = 0;
  p->hdr = mime_hdr_parse((const char *)m->data + off, len, off, m->lim.max_fields, &hl, &p->flags);
  p->hdr_off = off;
  p->hdr_len = hl;
  p->body_off = off + hl;
  p->body_len = len - hl;

  const char *ct = mime_hdr_get(p->hdr, "Content-Type");
  gboolean digest = parent && !encapsulated && g_strcmp0(parent->type, "multipart") == 0 &&
                    g_strcmp0(parent->subtype, "digest") == 0;
  mime_ctype c;
  gboolean ok = mime_ctype_parse(ct, TRUE, &c);
  p->ct_params_raw = c.raw_params;
  p->ct_params = c.params;
  if (ct && ok) {
    p->type = c.type;
    p->subtype = c.subtype;
  } else {
    if (ct)
      p->flags |= MIME_FLAG_BAD_CTYPE; /* RFC 2045 §5.2: then text/plain */
    g_free(c.type);
    g_free(c.subtype);
    set_default_type(p, digest && !ct);
  }
  p->cte_raw = g_strdup(mime_hdr_get(p->hdr, "Content-Transfer-Encoding"));
  p->cte = parse_cte(p->cte_raw);
  const char *cd = mime_hdr_get(p->hdr, "Content-Disposition");
  if (cd) {
    mime_ctype dc;
    mime_ctype_parse(cd, FALSE, &dc);
    p->disposition = dc.type;
    p->disp_params_raw = dc.raw_params;
    p->disp_params = dc.params;
    g_free(dc.subtype);
  }
  const char *fn = mime_params_get(p->disp_params, "filename");
  p->filename = g_strdup(fn ? fn : mime_params_get(p->ct_params, "name"));

  if (strcmp(p->type, "multipart") == 0) {
    if (depth >= m->lim.max_depth) {
      p->flags |= MIME_FLAG_DEPTH_LIMIT;
    } else {
      split_multipart(m, p, depth);
    }
    if (p->children->len == 0) {
      /* Unsplittable: an opaque leaf, typed so IMAP stays well-formed. */
      g_free(p->type);
      g_free(p->subtype);
      p->type = g_strdup("text");
      p->subtype = g_strdup("plain");
    }
  } else if (strcmp(p->type, "message") == 0 &&
             (strcmp(p->subtype, "rfc822") == 0 || strcmp(p->subtype, "global") == 0) &&
             p->cte != MIME_CTE_BASE64 && p->cte != MIME_CTE_QP) {
    if (depth >= m->lim.max_depth) {
      p->flags |= MIME_FLAG_DEPTH_LIMIT;
    } else if (m->nparts >= m->lim.max_parts) {
      p->flags |= MIME_FLAG_PART_LIMIT;
    } else {
      /* A message entity (root or encapsulated) of type message/rfc822 is
       * itself part 1 of its message, so its inner message is ".1". */
      char *sec =
          (p->encapsulated || !parent) ? child_section(p->section, 1) : g_strdup(p->section);
      mime_part *e = parse_entity(m, p, p->body_off, p->body_len, depth + 1, sec, TRUE);
      g_free(sec);
      g_ptr_array_add(p->children, e);
    }
  }
  p->body_lines = count_lines(m->data + p->body_off, p->body_len);
  m->flags |= p->flags;
  return p;
}

static guint scan_lines(const guint8 *d, gsize len) {
  guint fl = 0;
  gsize ls = 0;
  for (gsize i = 0; i < len; i++) {
    const guint8 *lf = memchr(d + i, '\n', len - i); /* line by line */
    if (!lf)
      break;
    i = (gsize)(lf - d);
    if (i == 0 || d[i - 1] != '\r')
      fl |= MIME_FLAG_BARE_LF;
    gsize l = i - ls - ((i > ls && d[i - 1] == '\r') ? 1 : 0);
    if (l > MIME_LINE_MAX)
      fl |= MIME_FLAG_LONG_LINE;
    ls = i + 1;
  }
  if (len - ls > MIME_LINE_MAX)
    fl |= MIME_FLAG_LONG_LINE;
  return fl;
}

mime_msg *mime_msg_parse(const void *data, gsize len, const mime_limits *limits) {
  g_assert(data || len == 0);
  mime_msg *m = g_new0(mime_msg, 1);
  m->data = g_malloc(len + 1);
  if (len)
    memcpy(m->data, data, len);
  m->data[len] = 0;
  m->len = len;
  if (limits)
    m->lim = *limits;
  else
    mime_limits_default(&m->lim);
  if (m->lim.max_parts == 0)
    m->lim.max_parts = 1;
  m->root = parse_entity(m, NULL, 0, len, 0, "", FALSE);
  m->root->flags |= scan_lines(m->data, len);
  m->flags |= m->root->flags;
  return m;
}

void mime_msg_free(mime_msg *m) {
  if (!m)
    return;
  part_free(m->root);
  g_free(m->data);
  g_free(m);
}

const guint8 *mime_msg_data(const mime_msg *m, gsize *len) {
  if (len)
    *len = m->len;
  return m->data;
}

const mime_part *mime_msg_root(const mime_msg *m) { return m->root; }
guint mime_msg_flags(const mime_msg *m) { return m->flags; }
guint mime_msg_part_count(const mime_msg *m) { return m->nparts; }

const mime_part *mime_msg_find(const mime_msg *m, const char *section) {
  const mime_part *cur = m->root;
  gboolean msg_entity = TRUE;
  const char *s = section;
  while (*s) {
    if (!g_ascii_isdigit(*s))
      return NULL;
    guint64 n = 0;
    while (g_ascii_isdigit(*s) && n < 1000000)
      n = n * 10 + (guint64)(*s++ - '0');
    if (*s == '.') {
      if (!*++s)
        return NULL; /* trailing dot */
    } else if (*s) {
      return NULL;
    }
    if (n == 0)
      return NULL;
    if (!msg_entity && mime_part_is_message(cur)) {
      cur = g_ptr_array_index(cur->children, 0);
      msg_entity = TRUE;
    }
    if (mime_part_is_multipart(cur)) {
      if (n > cur->children->len)
        return NULL;
      cur = g_ptr_array_index(cur->children, (guint)n - 1);
    } else if (msg_entity && n == 1) {
      /* RFC 3501 §6.4.5: a non-multipart message has just part 1. */
    } else {
      return NULL;
    }
    msg_entity = FALSE;
  }
  return cur;
}

GBytes *mime_part_decode(const mime_msg *m, const mime_part *p, guint *flags) {
  const char *b = (const char *)m->data + p->body_off;
  gboolean bad = FALSE;
  GBytes *r;
  switch (p->cte) {
  case MIME_CTE_BASE64:
    r = mime_codec_base64_decode(b, p->body_len, &bad);
    break;
  case MIME_CTE_QP:
    r = mime_codec_qp_decode(b, p->body_len, &bad);
    break;
  case MIME_CTE_7BIT:
  case MIME_CTE_8BIT:
  case MIME_CTE_BINARY:
  case MIME_CTE_OTHER:
    r = g_bytes_new(b, p->body_len);
    break;
  default:
    g_assert_not_reached();
  }
  if (bad && flags)
    *flags |= MIME_FLAG_BAD_ENCODING;
  return r;
}

static gboolean walk(const mime_part *p, mime_part_fn fn, void *ud) {
  if (!fn(p, ud))
    return FALSE;
  for (guint i = 0; i < p->children->len; i++)
    if (!walk(g_ptr_array_index(p->children, i), fn, ud))
      return FALSE;
  return TRUE;
}

void mime_msg_walk(const mime_msg *m, mime_part_fn fn, void *ud) { walk(m->root, fn, ud); }

struct mime_msg_parser {
  GString *buf; /* gsize lengths: no 4 GiB wrap as with GByteArray */
  mime_limits lim;
};

mime_msg_parser *mime_msg_parser_new(const mime_limits *limits) {
  mime_msg_parser *p = g_new0(mime_msg_parser, 1);
  p->buf = g_string_new(NULL);
  if (limits)
    p->lim = *limits;
  else
    mime_limits_default(&p->lim);
  return p;
}

void mime_msg_parser_feed(mime_msg_parser *p, const void *data, gsize len) {
  g_assert(p && (data || len == 0));
  if (len)
    g_string_append_len(p->buf, data, (gssize)len);
}

gsize mime_msg_parser_size(const mime_msg_parser *p) { return p->buf->len; }

mime_msg *mime_msg_parser_finish(mime_msg_parser *p) {
  mime_msg *m = mime_msg_parse(p->buf->str, p->buf->len, &p->lim);
  mime_msg_parser_free(p);
  return m;
}

void mime_msg_parser_free(mime_msg_parser *p) {
  if (!p)
    return;
  g_string_free(p->buf, TRUE);
  g_free(p);
}
