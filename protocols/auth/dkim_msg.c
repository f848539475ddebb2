/* dkim_msg.c — what signing and verifying share: the message as fields and
 * body (RFC 5322 §2.1–2.2), header hash input (RFC 6376 §3.7, §5.4.2), body
 * hash (§3.7 "bh"), removal of the b= value (§3.7) and the two signature
 * algorithms (§3.3.1 rsa-sha256; RFC 8463 §3 ed25519-sha256). */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

#include "dkim_int.h"

void dkim__msg_init(dkim__msg *m, const void *data, size_t len) {
  const char *p = data;
  m->data = g_string_sized_new(len + 16);
  for (size_t i = 0; i < len; i++) {
    if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
      g_string_append_c(m->data, '\r');
    g_string_append_c(m->data, p[i]);
  }
  m->fields = g_array_new(FALSE, FALSE, sizeof(dkim__field));
  const char *d = m->data->str;
  size_t n = m->data->len, i = 0;
  m->body_off = n;
  while (i < n) {
    const char *eol = g_strstr_len(d + i, (gssize)(n - i), "\r\n");
    size_t next = eol ? (size_t)(eol - d) + 2 : n;
    if (next - i == 2 && eol) { /* the empty line */
      m->body_off = next;
      break;
    }
    if ((d[i] == ' ' || d[i] == '\t') && m->fields->len > 0) {
      g_array_index(m->fields, dkim__field, m->fields->len - 1).len += next - i;
    } else {
      dkim__field f = {i, next - i};
      g_array_append_val(m->fields, f);
    }
    i = next;
  }
}

void dkim__msg_clear(dkim__msg *m) {
  g_string_free(m->data, TRUE);
  g_array_free(m->fields, TRUE);
}

const char *dkim__field_ptr(const dkim__msg *m, guint i, size_t *len) {
  const dkim__field *f = &g_array_index(m->fields, dkim__field, i);
  *len = f->len;
  return m->data->str + f->off;
}

size_t dkim__field_name_len(const char *f, size_t len) {
  const char *colon = memchr(f, ':', len);
  if (!colon)
    return 0;
  size_t n = (size_t)(colon - f);
  while (n > 0 && (f[n - 1] == ' ' || f[n - 1] == '\t'))
    n--;
  return n;
}

unsigned dkim__msg_count(const dkim__msg *m, const char *name) {
  unsigned c = 0;
  size_t nl = strlen(name);
  for (guint i = 0; i < m->fields->len; i++) {
    size_t len;
    const char *f = dkim__field_ptr(m, i, &len);
    if (dkim__field_name_len(f, len) == nl && g_ascii_strncasecmp(f, name, nl) == 0)
      c++;
  }
  return c;
}

void dkim__header_data(const dkim__msg *m, dkim_canon c, char *const *names, size_t n,
                       GString *out) {
  guint nf = m->fields->len;
  const char **ptrs = g_new0(const char *, nf + 1);
  size_t *lens = g_new0(size_t, nf + 1);
  for (guint i = 0; i < nf; i++)
    ptrs[i] = dkim__field_ptr(m, i, &lens[i]);
  GArray *sel = dkim_canon_select((const char *const *)names, n, ptrs, lens, nf);
  for (guint i = 0; i < sel->len; i++) {
    int k = g_array_index(sel, int, i);
    if (k >= 0)
      dkim_canon_header(c, ptrs[k], lens[k], false, out);
  }
  g_array_free(sel, TRUE);
  g_free(ptrs);
  g_free(lens);
}

static void hash_out(void *ud, const void *data, size_t len) { EVP_DigestUpdate(ud, data, len); }

void dkim__body_hash(const dkim__msg *m, dkim_canon c, int64_t limit, uint8_t out[32],
                     int64_t *total) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  dkim_body *b = dkim_body_new(c, limit, hash_out, ctx);
  dkim_body_feed(b, m->data->str + m->body_off, m->data->len - m->body_off);
  dkim_body_end(b);
  if (total)
    *total = dkim_body_length(b);
  dkim_body_free(b);
  unsigned int n = 32;
  EVP_DigestFinal_ex(ctx, out, &n);
  EVP_MD_CTX_free(ctx);
}

static bool is_fws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void dkim__strip_b(const char *field, size_t len, GString *out) {
  const char *colon = memchr(field, ':', len);
  if (!colon) {
    g_string_append_len(out, field, (gssize)len);
    return;
  }
  size_t end = len;
  if (end >= 2 && field[end - 2] == '\r' && field[end - 1] == '\n')
    end -= 2;
  size_t i = (size_t)(colon - field) + 1;
  g_string_append_len(out, field, (gssize)i);
  while (i < end) {
    size_t semi = i;
    while (semi < end && field[semi] != ';')
      semi++;
    size_t a = i;
    while (a < semi && is_fws(field[a]))
      a++;
    size_t eq = a;
    while (eq < semi && field[eq] != '=')
      eq++;
    size_t ne = eq;
    while (ne > a && is_fws(field[ne - 1]))
      ne--;
    if (eq < semi && ne - a == 1 && field[a] == 'b') {
      g_string_append_len(out, field + i, (gssize)(eq + 1 - i)); /* up to "b=" */
    } else {
      g_string_append_len(out, field + i, (gssize)(semi - i));
    }
    if (semi < end)
      g_string_append_c(out, ';');
    i = semi + 1;
  }
  g_string_append_len(out, field + end, (gssize)(len - end));
}

bool dkim__sign(const dkim_key *k, const GString *data, GByteArray *sig) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  bool ok = false;
  size_t n = 0;
  const unsigned char *in = (const unsigned char *)data->str;
  size_t inlen = data->len;
  uint8_t h[32];
  const EVP_MD *md = EVP_sha256();
  if (dkim_key_get_type(k) == DKIM_KEY_ED25519) {
    SHA256(in, inlen, h);
    in = h;
    inlen = sizeof h;
    md = NULL;
  }
  if (EVP_DigestSignInit(ctx, NULL, md, NULL, dkim_key_peek(k)) == 1 &&
      EVP_DigestSign(ctx, NULL, &n, in, inlen) == 1) {
    g_byte_array_set_size(sig, (guint)n);
    ok = EVP_DigestSign(ctx, sig->data, &n, in, inlen) == 1;
    g_byte_array_set_size(sig, (guint)n);
  }
  EVP_MD_CTX_free(ctx);
  return ok;
}

bool dkim__verify(const dkim_key *k, const GString *data, const uint8_t *sig, size_t siglen) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  const unsigned char *in = (const unsigned char *)data->str;
  size_t inlen = data->len;
  uint8_t h[32];
  const EVP_MD *md = EVP_sha256();
  if (dkim_key_get_type(k) == DKIM_KEY_ED25519) {
    SHA256(in, inlen, h);
    in = h;
    inlen = sizeof h;
    md = NULL;
  }
  bool ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, dkim_key_peek(k)) == 1 &&
            EVP_DigestVerify(ctx, sig, siglen, in, inlen) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}
