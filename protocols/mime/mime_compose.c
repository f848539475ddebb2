/* mime_compose.c — the message builder.
 *
 * Header per RFC 5322 §3.6 (Date §3.3, originator §3.6.2, destination
 * §3.6.3 with Bcc left out of the header, Message-ID §3.6.4), folded at
 * 78 octets (§2.1.1, §2.2.3); non-ASCII subject and display names as
 * RFC 2047 encoded words; MIME per RFC 2045 (MIME-Version, Content-Type,
 * Content-Transfer-Encoding) and RFC 2046 §5.1 multiparts with boundaries
 * derived from a caller seed (SHA-256, so equal input gives equal output
 * and no randomness is drawn); attachments per RFC 2183 with RFC 2231
 * filenames when not ASCII. Every line ends in CRLF. */
#include "mime_compose.h"

#include "mime_addr.h"
#include "mime_codec.h"
#include "mime_date.h"
#include "mime_ew.h"
#include "mime_int.h"

#include <string.h>

/* g_string_append without GLib's general insert when there is room (a
 * message header is ~25 appends). */
static inline void put(GString *g, const char *s, gsize n) {
  if (g->len + n < g->allocated_len) {
    memcpy(g->str + g->len, s, n);
    g->len += n;
    g->str[g->len] = '\0';
  } else {
    g_string_append_len(g, s, (gssize)n);
  }
}
#define PUT_LIT(g, lit) put(g, lit, sizeof lit - 1)
static inline void put_str(GString *g, const char *s) { put(g, s, strlen(s)); }

GQuark mime_compose_error_quark(void) {
  return g_quark_from_static_string("mime-compose-error-quark");
}

static const char *const err_names[MIME_COMPOSE_ERROR_COUNT] = {"from", "address", "no-rcpt",
                                                                "date", "arg"};

const char *mime_compose_error_name(mime_compose_error e) {
  return (unsigned)e < MIME_COMPOSE_ERROR_COUNT ? err_names[e] : "?";
}

char *mime_compose_boundary(const char *seed, guint level) {
  GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(c, (const guchar *)(seed ? seed : ""), -1);
  char lv[16];
  g_snprintf(lv, sizeof lv, "\n%u", level);
  g_checksum_update(c, (const guchar *)lv, -1);
  char *r = g_strdup_printf("=_ms_%.32s", g_checksum_get_string(c));
  g_checksum_free(c);
  return r;
}

/* Appends VALUE (N octets) folded as mime_compose_fold does to O. */
static void fold_into(GString *o, const char *value, gsize n, gsize first_col) {
  /* Words are the runs between single spaces (two spaces make an empty
   * word), read in place. */
  gsize col = first_col;
  const char *w = value, *end = value + n;
  for (;;) {
    const char *sp = memchr(w, ' ', (gsize)(end - w));
    gsize wl = (gsize)((sp ? sp : end) - w);
    if (w != value) {
      if (col + 1 + wl > 78 && col > 1) {
        PUT_LIT(o, "\r\n ");
        col = 1;
      } else {
        PUT_LIT(o, " ");
        col++;
      }
    }
    put(o, w, wl);
    col += wl;
    if (!sp)
      break;
    w = sp + 1;
  }
}

char *mime_compose_fold(const char *value, gsize first_col) {
  gsize n = strlen(value);
  GString *o = g_string_sized_new(n + n / 32 * 3 + 1);
  fold_into(o, value, n, first_col);
  return g_string_free(o, FALSE);
}

/* TRUE when the subject S (N octets) is its own header text before
 * folding: printable ASCII (mime__utf8_sanitize and the CR/LF/TAB
 * replacement leave it as it is), no "=?" and no run of more than 76
 * octets between spaces (mime_ew_encode in MIME_EW_TEXT returns a copy). */
static gboolean subject_as_is(const char *s, gsize n) {
  gsize run = 0;
  for (gsize i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c >= 0x7f)
      return FALSE;
    run = c == ' ' ? 0 : run + 1;
    if (run > 76)
      return FALSE;
  }
  return !strstr(s, "=?");
}

/* Checks the address list V: FALSE when malformed. Appends the
 * addr-specs of its mailboxes to RCPTS (when not NULL) and counts them in *MAILBOXES; when
 * FORMATTED is not NULL it receives the header value (mime_addr_format at
 * column COL), or NULL for an empty list. A bare addr-spec (the usual
 * value) is its own header value: no parse, no list, and *FORMATTED is V
 * itself (not a new string: the caller frees it only when it is not V). */
static gboolean check_list(const char *v, gsize col, char **formatted, guint *mailboxes,
                           GPtrArray *rcpts) {
  if (formatted)
    *formatted = NULL;
  *mailboxes = 0;
  if (mime__plain_addr_spec(v)) { /* one mailbox, local part and domain as written */
    if (strlen(v) - 1 > 900)
      return FALSE; /* cannot be folded under 998 octets (RFC 5322 §2.1.1) */
    if (rcpts)
      g_ptr_array_add(rcpts, g_strdup(v));
    if (formatted)
      *formatted = (char *)v; /* borrowed: see the caller */
    *mailboxes = 1;
    return TRUE;
  }
  guint bad = 0;
  GPtrArray *l = mime_addr_parse(v, &bad);
  gboolean ok = bad == 0;
  for (guint i = 0; ok && i < l->len; i++) {
    const mime_addr *a = g_ptr_array_index(l, i);
    if (a->kind != MIME_ADDR_MAILBOX)
      continue;
    if (!a->local || !*a->local || !a->domain || a->route)
      ok = FALSE;
    else if (strlen(a->local) + strlen(a->domain) > 900)
      ok = FALSE; /* cannot be folded under 998 octets (RFC 5322 §2.1.1) */
    else {
      (*mailboxes)++;
      if (rcpts)
        g_ptr_array_add(rcpts, mime_addr_spec(a));
    }
  }
  if (ok && formatted && l->len)
    *formatted = mime_addr_format(l, col);
  g_ptr_array_unref(l);
  return ok;
}

static void add_field(GString *h, const char *name, const char *folded) {
  /* appends, not printf: this runs for every field of every message */
  put_str(h, name);
  PUT_LIT(h, ": ");
  put_str(h, folded);
  PUT_LIT(h, "\r\n");
}

static gboolean is_ascii(const char *s, gsize n) {
  for (gsize i = 0; i < n; i++)
    if ((unsigned char)s[i] >= 0x80)
      return FALSE;
  return TRUE;
}

/* Appends "; name=value" on its own folded line: quoted when ASCII, else
 * RFC 2231 §4 charset'' form split into §3 continuations. */
static void add_param(GString *o, const char *name, const char *value) {
  gsize n = strlen(value);
  gboolean simple = is_ascii(value, n) && n <= 60 && !strstr(value, "=?");
  for (gsize i = 0; i < n && simple; i++)
    if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
      simple = FALSE;
  if (simple) {
    g_string_append_printf(o, ";\r\n %s=", name);
    g_string_append_c(o, '"');
    for (gsize i = 0; i < n; i++) {
      if (value[i] == '"' || value[i] == '\\')
        g_string_append_c(o, '\\');
      g_string_append_c(o, value[i]);
    }
    g_string_append_c(o, '"');
    return;
  }
  /* attribute-char: token chars except '*', '\'' and '%'. */
  GString *enc = g_string_new("utf-8''");
  for (gsize i = 0; i < n; i++) {
    unsigned char c = (unsigned char)value[i];
    if (mime__is_token_char(c) && c != '*' && c != '\'' && c != '%')
      g_string_append_c(enc, (char)c);
    else
      g_string_append_printf(enc, "%%%02X", c);
  }
  if (enc->len <= 60) {
    g_string_append_printf(o, ";\r\n %s*=%s", name, enc->str);
  } else {
    guint k = 0;
    for (gsize i = 0; i < enc->len; k++) {
      gsize take = MIN((gsize)60, enc->len - i);
      /* Never split a %XX triplet. */
      if (i + take < enc->len) {
        if (take >= 1 && enc->str[i + take - 1] == '%')
          take -= 1;
        else if (take >= 2 && enc->str[i + take - 2] == '%')
          take -= 2;
      }
      g_string_append_printf(o, ";\r\n %s*%u*=%.*s", name, k, (int)take, enc->str + i);
      i += take;
    }
  }
  g_string_free(enc, TRUE);
}

/* Appends T (N octets) to O, CRLF-normalised and ending in CRLF (runs
 * without CR or LF copied whole). */
static void normalise_into(GString *o, const char *t, gsize n) {
  gsize start = o->len;
  const char *p = t, *end = t + n;
  while (p < end) {
    gsize run = strcspn(p, "\r\n");
    put(o, p, run);
    p += run;
    if (p >= end)
      break;
    if (*p == '\r' && p[1] == '\n')
      p++;
    PUT_LIT(o, "\r\n");
    p++;
  }
  gsize m = o->len - start;
  if (m && (m < 2 || memcmp(o->str + o->len - 2, "\r\n", 2) != 0))
    PUT_LIT(o, "\r\n");
}

/* The facts the transfer encoding is chosen by, of the normalised text
 * of T (N octets; CR and LF count as line ends, as normalising makes
 * them): 8-bit octets, controls, the longest line. */
static void text_facts(const char *t, gsize n, gboolean *ascii, gboolean *ctl, gsize *maxline) {
  gsize line = 0, longest = 0;
  *ascii = TRUE;
  *ctl = FALSE;
  for (gsize i = 0; i < n; i++) {
    unsigned char c = (unsigned char)t[i];
    if (c >= 0x80)
      *ascii = FALSE;
    else if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
      *ctl = TRUE;
    if (c == '\n' || c == '\r') {
      line = 0;
      continue;
    }
    line++;
    longest = MAX(longest, line);
  }
  *maxline = longest;
}

/* Header fields and body of a text/SUBTYPE entity. When HDR and BODY are
 * the same string (a message of one text part), the fields, the empty
 * line and the body follow each other in it. */
static void text_entity(GString *hdr, GString *body, const char *text, const char *subtype) {
  gsize n = strlen(text), k = 0;
  while (k < n && (guchar)(text[k] - 1) < 0x7f) /* mime__utf8_sanitize's ASCII test */
    k++;
  /* ASCII (the usual text) is valid as it is: the facts are read from
   * TEXT and it is normalised straight into BODY. */
  char *valid = k == n ? NULL : mime__utf8_sanitize(text, n);
  const char *t = valid ? valid : text;
  gsize tn = valid ? strlen(valid) : n;
  gboolean ascii, ctl;
  gsize maxline;
  text_facts(t, tn, &ascii, &ctl, &maxline);
  /* "=_ms_" has no line end: normalising cannot make or break one. */
  gboolean seven = ascii && !ctl && maxline <= 76 && !strstr(t, "=_ms_");
  PUT_LIT(hdr, "Content-Type: text/");
  put_str(hdr, subtype);
  put_str(hdr, ascii ? "; charset=us-ascii\r\n" : "; charset=utf-8\r\n");
  put_str(hdr, seven ? "Content-Transfer-Encoding: 7bit\r\n"
                     : "Content-Transfer-Encoding: quoted-printable\r\n");
  if (hdr == body)
    PUT_LIT(hdr, "\r\n");
  if (seven) {
    normalise_into(body, t, tn);
  } else {
    GString *nt = g_string_sized_new(tn + tn / 16 + 3);
    normalise_into(nt, t, tn);
    char *qp = mime_codec_qp_encode((const guint8 *)nt->str, nt->len, FALSE);
    put_str(body, qp);
    g_free(qp);
    g_string_free(nt, TRUE);
  }
  g_free(valid);
}

static gboolean valid_ctype(const char *ct) {
  const char *slash = strchr(ct, '/');
  if (!slash || slash == ct || !slash[1])
    return FALSE;
  for (const char *p = ct; *p; p++)
    if (p != slash && !mime__is_token_char((unsigned char)*p))
      return FALSE;
  return TRUE;
}

static void attachment_entity(GString *hdr, GString *body, const mime_compose_attachment *a) {
  const char *ct = a->content_type ? a->content_type : "application/octet-stream";
  char *low = g_ascii_strdown(ct, -1);
  g_string_append_printf(hdr, "Content-Type: %s", low);
  g_free(low);
  if (a->filename)
    add_param(hdr, "name", a->filename);
  PUT_LIT(hdr, "\r\nContent-Disposition: attachment");
  if (a->filename)
    add_param(hdr, "filename", a->filename);
  PUT_LIT(hdr, "\r\nContent-Transfer-Encoding: base64\r\n");
  char *b = mime_codec_base64_encode(a->data, a->len);
  put_str(body, b);
  g_free(b);
}

/* Appends "Content-Type: multipart/SUB; boundary=..." to HDR and the parts
 * to BODY. PARTS is an array of (hdr, body) GString pairs. */
static void multipart_entity(GString *hdr, GString *body, const char *sub, const char *boundary,
                             GPtrArray *parts) {
  PUT_LIT(hdr, "Content-Type: multipart/");
  put_str(hdr, sub);
  PUT_LIT(hdr, ";\r\n boundary=\"");
  put_str(hdr, boundary);
  PUT_LIT(hdr, "\"\r\n");
  PUT_LIT(body, "This is a multi-part message in MIME format.\r\n");
  for (guint i = 0; i + 1 < parts->len; i += 2) {
    GString *ph = g_ptr_array_index(parts, i), *pb = g_ptr_array_index(parts, i + 1);
    PUT_LIT(body, "\r\n--");
    put_str(body, boundary);
    PUT_LIT(body, "\r\n");
    g_string_append_len(body, ph->str, (gssize)ph->len);
    PUT_LIT(body, "\r\n");
    g_string_append_len(body, pb->str, (gssize)pb->len);
  }
  PUT_LIT(body, "\r\n--");
  put_str(body, boundary);
  PUT_LIT(body, "--\r\n");
}

static void free_gstring(gpointer p) { g_string_free(p, TRUE); }

GBytes *mime_compose_build(const mime_compose_config *cfg, GPtrArray *rcpts, GError **err) {
  g_assert(cfg);
  char *from = NULL, *to = NULL, *cc = NULL; /* header values */
  GString *h = NULL, *body = NULL;
  /* The recipients go straight to the caller's RCPTS, taken back out on
   * an error (a list of their own only without RCPTS: one array less a
   * message). */
  GPtrArray *found = rcpts ? rcpts : g_ptr_array_new_with_free_func(g_free);
  guint found0 = found->len;
  GBytes *result = NULL;
  guint nfrom = 0, nlist;
  if (!cfg->from || !check_list(cfg->from, 6, &from, &nfrom, NULL) || nfrom == 0) {
    g_set_error(err, MIME_COMPOSE_ERROR, MIME_COMPOSE_ERROR_FROM, "From: not a mailbox list: %s",
                cfg->from ? cfg->from : "(none)");
    goto out;
  }
  const char *names[] = {"To", "Cc", "Bcc"};
  const char *vals[] = {cfg->to, cfg->cc, cfg->bcc};
  char **fields[] = {&to, &cc, NULL}; /* Bcc is left out of the header (RFC 5322 §3.6.3) */
  for (int i = 0; i < 3; i++) {
    if (vals[i] && !check_list(vals[i], 4, fields[i], &nlist, found)) {
      g_set_error(err, MIME_COMPOSE_ERROR, MIME_COMPOSE_ERROR_ADDRESS, "%s: malformed address: %s",
                  names[i], vals[i]);
      goto out;
    }
  }
  if (found->len == found0) {
    g_set_error(err, MIME_COMPOSE_ERROR, MIME_COMPOSE_ERROR_NO_RCPT, "no recipient");
    goto out;
  }
  char date[MIME__DATE_MAX];
  if (!mime__date_format_into(date, cfg->date_ns, cfg->epoch_unix, cfg->tz_min)) {
    g_set_error(err, MIME_COMPOSE_ERROR, MIME_COMPOSE_ERROR_DATE, "date out of range");
    goto out;
  }
  const char *mid = cfg->message_id;
  if (!mid || !strchr(mid, '@') || strpbrk(mid, "<> \t\r\n\"()[]\\,;:") || strlen(mid) > 900) {
    g_set_error(err, MIME_COMPOSE_ERROR, MIME_COMPOSE_ERROR_ARG, "bad message id: %s",
                mid ? mid : "(none)");
    goto out;
  }
  for (gsize i = 0; i < cfg->n_attachments; i++) {
    const mime_compose_attachment *a = &cfg->attachments[i];
    if ((a->content_type && !valid_ctype(a->content_type)) || (!a->data && a->len)) {
      g_set_error(err, MIME_COMPOSE_ERROR, MIME_COMPOSE_ERROR_ARG, "attachment %zu: bad type", i);
      goto out;
    }
  }
  if (cfg->in_reply_to && (strpbrk(cfg->in_reply_to, "\r\n") || strlen(cfg->in_reply_to) > 900)) {
    g_set_error(err, MIME_COMPOSE_ERROR, MIME_COMPOSE_ERROR_ARG, "bad In-Reply-To");
    goto out;
  }
  for (const char *const *x = cfg->extra_fields; x && *x; x++) {
    const char *colon = strchr(*x, ':');
    if (!colon || colon == *x || strpbrk(*x, "\r\n") || !is_ascii(*x, strlen(*x)) ||
        strlen(*x) > 998) {
      g_set_error(err, MIME_COMPOSE_ERROR, MIME_COMPOSE_ERROR_ARG, "bad extra field: %s", *x);
      goto out;
    }
  }

  /* Sized for the usual message (a 1 KiB block: malloc's per-thread cache
   * serves it; 2 KiB blocks cost more than the reallocations saved). */
  h = g_string_sized_new(600);
  add_field(h, "Date", date);
  add_field(h, "From", from);
  if (to)
    add_field(h, "To", to);
  if (cc)
    add_field(h, "Cc", cc);
  if (cfg->subject && subject_as_is(cfg->subject, strlen(cfg->subject))) {
    PUT_LIT(h, "Subject: ");
    fold_into(h, cfg->subject, strlen(cfg->subject), 9);
    PUT_LIT(h, "\r\n");
  } else if (cfg->subject) {
    char *valid = mime__utf8_sanitize(cfg->subject, strlen(cfg->subject));
    g_strdelimit(valid, "\r\n\t", ' ');
    char *enc = mime_ew_encode(valid, MIME_EW_TEXT);
    char *folded = strcmp(enc, valid) == 0 ? mime_compose_fold(enc, 9) : g_strdup(enc);
    add_field(h, "Subject", folded);
    g_free(folded);
    g_free(enc);
    g_free(valid);
  }
  PUT_LIT(h, "Message-ID: <");
  put_str(h, mid);
  PUT_LIT(h, ">\r\n");
  if (cfg->in_reply_to)
    add_field(h, "In-Reply-To", cfg->in_reply_to);
  for (const char *const *x = cfg->extra_fields; x && *x; x++) {
    put_str(h, *x);
    PUT_LIT(h, "\r\n");
  }
  PUT_LIT(h, "MIME-Version: 1.0\r\n");

  const char *seed = cfg->boundary_seed ? cfg->boundary_seed : mid;
  if (!(cfg->text && cfg->html) && !cfg->n_attachments) {
    /* One text part: its fields, the empty line and its body straight
     * into the message. */
    text_entity(h, h, cfg->html ? cfg->html : (cfg->text ? cfg->text : ""),
                cfg->html ? "html" : "plain");
  } else {
    GString *mh = g_string_new(NULL), *mb = g_string_new(NULL);
    if (cfg->text && cfg->html) {
      GPtrArray *parts = g_ptr_array_new_with_free_func(free_gstring);
      GString *th = g_string_new(NULL), *tb = g_string_new(NULL);
      text_entity(th, tb, cfg->text, "plain");
      GString *hh = g_string_new(NULL), *hb = g_string_new(NULL);
      text_entity(hh, hb, cfg->html, "html");
      g_ptr_array_add(parts, th);
      g_ptr_array_add(parts, tb);
      g_ptr_array_add(parts, hh);
      g_ptr_array_add(parts, hb);
      char *b = mime_compose_boundary(seed, 1);
      multipart_entity(mh, mb, "alternative", b, parts);
      g_free(b);
      g_ptr_array_unref(parts);
    } else {
      text_entity(mh, mb, cfg->html ? cfg->html : (cfg->text ? cfg->text : ""),
                  cfg->html ? "html" : "plain");
    }
    if (cfg->n_attachments) {
      GPtrArray *parts = g_ptr_array_new_with_free_func(free_gstring);
      g_ptr_array_add(parts, mh);
      g_ptr_array_add(parts, mb);
      for (gsize i = 0; i < cfg->n_attachments; i++) {
        GString *ah = g_string_new(NULL), *ab = g_string_new(NULL);
        attachment_entity(ah, ab, &cfg->attachments[i]);
        g_ptr_array_add(parts, ah);
        g_ptr_array_add(parts, ab);
      }
      mh = g_string_new(NULL);
      mb = g_string_new(NULL);
      char *b = mime_compose_boundary(seed, 0);
      multipart_entity(mh, mb, "mixed", b, parts);
      g_free(b);
      g_ptr_array_unref(parts);
    }
    g_string_append_len(h, mh->str, (gssize)mh->len);
    PUT_LIT(h, "\r\n");
    g_string_append_len(h, mb->str, (gssize)mb->len);
    g_string_free(mh, TRUE);
    g_string_free(mb, TRUE);
  }
  gsize n = h->len;
  result = g_bytes_new_take(g_string_free(h, FALSE), n);
  h = NULL;
out:
  if (body)
    g_string_free(body, TRUE);
  if (h)
    g_string_free(h, TRUE);
  if (found != rcpts)
    g_ptr_array_unref(found);
  else if (!result) /* nothing appended stays */
    while (rcpts->len > found0)
      g_free(g_ptr_array_steal_index(rcpts, rcpts->len - 1));
  /* a bare addr-spec's header value is the caller's own string */
  if (from != cfg->from)
    g_free(from);
  if (to != cfg->to)
    g_free(to);
  if (cc != cfg->cc)
    g_free(cc);
  return result;
}
