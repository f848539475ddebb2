/* dkim_sign.c — RFC 6376 §5 signer actions: §5.4 header selection (From
 * always), §5.4.2 listing a name more times than it occurs (signing the
 * absence of further instances, "oversigning"), §3.7 computing bh= then b=
 * over the selected fields and the signature field with an empty b=, §3.5
 * tag order and folding. RFC 8463 for ed25519-sha256. */
#include "dkim_sign.h"

#include <glib.h>
#include <string.h>

#include "dkim_int.h"

static const char *const default_headers[] = {
    "from",       "to",           "cc",           "subject",
    "date",       "message-id",   "reply-to",     "in-reply-to",
    "references", "mime-version", "content-type", "content-transfer-encoding",
};

const char *const *dkim_sign_default_headers(size_t *n) {
  *n = G_N_ELEMENTS(default_headers);
  return default_headers;
}

/* Folding writer: tokens are appended, a line break "\r\n " inserted
 * before a token that would pass column 78. */
typedef struct {
  GString *s;
  size_t col;
} folder;

static void fold_add(folder *f, const char *tok, bool space_before) {
  size_t tl = strlen(tok) + (space_before ? 1 : 0);
  if (f->col + tl > 78 && f->col > 1) {
    g_string_append(f->s, "\r\n ");
    f->col = 1;
  } else if (space_before) {
    g_string_append_c(f->s, ' ');
    f->col++;
  }
  g_string_append(f->s, tok);
  f->col += strlen(tok);
}

/* Appends a base64 value in pieces that fit the line. */
static void fold_b64(folder *f, const char *v) {
  size_t len = strlen(v), i = 0;
  while (i < len) {
    size_t room = f->col < 76 ? 76 - f->col : 0;
    if (room < 8) {
      g_string_append(f->s, "\r\n ");
      f->col = 1;
      continue;
    }
    size_t n = MIN(room, len - i);
    g_string_append_len(f->s, v + i, (gssize)n);
    f->col += n;
    i += n;
  }
}

char *dkim_sign(const dkim_sign_cfg *cfg, const dkim_key *key, const void *msg, size_t len) {
  if (!cfg->domain || !cfg->selector || !key || !dkim_key_is_private(key))
    return NULL;
  dkim__msg m;
  dkim__msg_init(&m, msg, len);

  /* h= list */
  size_t nlist = cfg->nheaders;
  const char *const *list = cfg->headers;
  if (!list)
    list = dkim_sign_default_headers(&nlist);
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  bool from_listed = false;
  for (size_t i = 0; i < nlist; i++)
    from_listed |= g_ascii_strcasecmp(list[i], "from") == 0;
  for (size_t i = 0; i < nlist + (from_listed ? 0 : 1); i++) {
    const char *name = i == nlist ? "from" : list[i];
    bool dup = false;
    for (size_t k = 0; k < i && k < nlist; k++)
      dup |= g_ascii_strcasecmp(list[k], name) == 0;
    if (dup)
      continue;
    unsigned count = dkim__msg_count(&m, name);
    unsigned times = cfg->oversign ? count + 1 : count;
    if (times == 0 && g_ascii_strcasecmp(name, "from") == 0)
      times = 1;
    for (unsigned t = 0; t < times; t++)
      g_ptr_array_add(names, g_ascii_strdown(name, -1));
  }

  /* bh= */
  uint8_t bh[32];
  dkim__body_hash(&m, cfg->body_canon, -1, bh, NULL);
  char *bh64 = g_base64_encode(bh, sizeof bh);

  /* the field with an empty b= */
  folder f = {g_string_new("DKIM-Signature:"), strlen("DKIM-Signature:")};
  const char *alg = dkim_key_get_type(key) == DKIM_KEY_RSA ? "rsa-sha256" : "ed25519-sha256";
  char *tok = g_strdup_printf("v=1; a=%s;", alg);
  fold_add(&f, tok, true);
  g_free(tok);
  tok = g_strdup_printf("c=%s/%s;", dkim_canon_name(cfg->header_canon),
                        dkim_canon_name(cfg->body_canon));
  fold_add(&f, tok, true);
  g_free(tok);
  tok = g_strdup_printf("d=%s;", cfg->domain);
  fold_add(&f, tok, true);
  g_free(tok);
  tok = g_strdup_printf("s=%s;", cfg->selector);
  fold_add(&f, tok, true);
  g_free(tok);
  if (cfg->identity) {
    tok = g_strdup_printf("i=%s;", cfg->identity);
    fold_add(&f, tok, true);
    g_free(tok);
  }
  if (cfg->now_unix >= 0) {
    tok = g_strdup_printf("t=%" G_GINT64_FORMAT ";", cfg->now_unix);
    fold_add(&f, tok, true);
    g_free(tok);
    if (cfg->expire_after > 0) {
      tok = g_strdup_printf("x=%" G_GINT64_FORMAT ";", cfg->now_unix + cfg->expire_after);
      fold_add(&f, tok, true);
      g_free(tok);
    }
  }
  for (guint i = 0; i < names->len; i++) {
    bool last = i + 1 == names->len;
    tok = g_strdup_printf("%s%s%s", i == 0 ? "h=" : "", (char *)names->pdata[i], last ? ";" : ":");
    fold_add(&f, tok, i == 0);
    g_free(tok);
  }
  tok = g_strdup_printf("bh=%s;", bh64);
  fold_add(&f, tok, true);
  g_free(tok);
  fold_add(&f, "b=", true);

  /* §3.7: hash the selected fields, then this field without its CRLF. */
  GString *data = g_string_new(NULL);
  dkim__header_data(&m, cfg->header_canon, (char *const *)names->pdata, names->len, data);
  dkim_canon_header(cfg->header_canon, f.s->str, f.s->len, true, data);
  GByteArray *sig = g_byte_array_new();
  char *out = NULL;
  if (dkim__sign(key, data, sig)) {
    char *b64 = g_base64_encode(sig->data, sig->len);
    fold_b64(&f, b64);
    g_free(b64);
    g_string_append(f.s, "\r\n");
    out = g_string_free(f.s, FALSE);
  } else {
    g_string_free(f.s, TRUE);
  }
  g_byte_array_free(sig, TRUE);
  g_string_free(data, TRUE);
  g_free(bh64);
  g_ptr_array_free(names, TRUE);
  dkim__msg_clear(&m);
  return out;
}
