/* dns_name.c — domain names in wire form (RFC 1035 §2.3.4, §3.1), their
 * presentation format with escapes (RFC 1035 §5.1), compression-pointer
 * decoding hardened against the bug classes of RFC 9267, ASCII-only case
 * folding (RFC 4343) and the canonical order of RFC 4034 §6.1. */
#include "dns_name.h"

#include <string.h>

static inline uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c; }

/* --- eight octets a step ----------------------------------------------
 * Names are compared and folded a word at a time: a name's octets are
 * read as whole words, the last one overlapping the one before so that
 * nothing past the name's length is read (names under eight octets as
 * two overlapping halves, under four octet by octet). */

#define ONES UINT64_C(0x0101010101010101)

/* The eight octets of W with each of 'A'..'Z' folded (lower() of each):
 * on the low seven bits X of an octet (where adding at most 0x7f never
 * carries into the next), X + 0x3f reaches the high bit when X >= 'A'
 * and X + 0x25 when X > 'Z'; an octet from 0x80 is no letter. */
static inline uint64_t lower8(uint64_t w) {
  uint64_t x = w & (ONES * 0x7f);
  uint64_t up = (x + ONES * 0x3f) & ~(x + ONES * 0x25) & ~w & (ONES * 0x80);
  return w | up >> 2;
}

/* True if the words A and B are equal but for ASCII case: mostly decided
 * by the first two tests (equal, or different in a bit other than the
 * case bit 0x20). */
static inline bool words_ieq(uint64_t a, uint64_t b) {
  if (a == b)
    return true;
  if ((a ^ b) & ~(ONES * 0x20))
    return false;
  return lower8(a) == lower8(b);
}

bool dns_name_octets_ieq(const uint8_t *a, const uint8_t *b, size_t n) {
  uint64_t x, y;
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      memcpy(&x, a + i, 8);
      memcpy(&y, b + i, 8);
      if (!words_ieq(x, y))
        return false;
    }
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, b + n - 8, 8);
    return words_ieq(x, y);
  }
  if (n >= 4) {
    uint32_t al, ah, bl, bh;
    memcpy(&al, a, 4);
    memcpy(&ah, a + n - 4, 4);
    memcpy(&bl, b, 4);
    memcpy(&bh, b + n - 4, 4);
    return words_ieq((uint64_t)ah << 32 | al, (uint64_t)bh << 32 | bl);
  }
  for (size_t i = 0; i < n; i++)
    if (lower(a[i]) != lower(b[i]))
      return false;
  return true;
}

void dns_name_set_root(dns_name *n) {
  n->len = 1;
  n->wire[0] = 0;
}

dns_err dns_name_from_text(dns_name *n, const char *text) {
  uint8_t out[DNS_NAME_MAX + DNS_LABEL_MAX + 2];
  size_t olen = 0;
  uint8_t label[DNS_LABEL_MAX + 1];
  size_t llen = 0;
  bool any = false; /* a label (maybe empty so far) is open */
  dns_name_set_root(n);
  if (text[0] == '\0' || (text[0] == '.' && text[1] == '\0'))
    return DNS_OK;
  for (const char *p = text;; p++) {
    if (*p == '\0' || *p == '.') {
      if (llen == 0) {
        /* An empty label is legal only as the final root: "a." ends here. */
        if (*p == '\0' && !any && olen > 0)
          break;
        return DNS_ERR_SYNTAX;
      }
      if (olen + 1 + llen + 1 > DNS_NAME_MAX)
        return DNS_ERR_NAME_TOO_LONG;
      out[olen++] = (uint8_t)llen;
      memcpy(out + olen, label, llen);
      olen += llen;
      llen = 0;
      any = false;
      if (*p == '\0')
        break;
      continue;
    }
    uint8_t c = (uint8_t)*p;
    if (c == '\\') {
      p++;
      if (*p == '\0')
        return DNS_ERR_SYNTAX;
      if (g_ascii_isdigit(*p)) {
        if (!g_ascii_isdigit(p[1]) || !g_ascii_isdigit(p[2]))
          return DNS_ERR_SYNTAX;
        int v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
        if (v > 255)
          return DNS_ERR_SYNTAX;
        c = (uint8_t)v;
        p += 2;
      } else {
        c = (uint8_t)*p;
      }
    }
    if (llen == DNS_LABEL_MAX)
      return DNS_ERR_LABEL_TOO_LONG;
    label[llen++] = c;
    any = true;
  }
  out[olen++] = 0;
  n->len = (uint8_t)olen;
  memcpy(n->wire, out, olen);
  return DNS_OK;
}

dns_name dns_name_lit(const char *text) {
  dns_name n;
  dns_err e = dns_name_from_text(&n, text);
  if (e != DNS_OK)
    g_error("dns_name_lit: bad name literal \"%s\": %s", text, dns_err_name(e));
  return n;
}

/* The presentation form of N into OUT (room for NAME_TEXT_MAX + 1
 * octets), NUL-terminated; returns its length. Octets in "\"().;\\@$"
 * are escaped as \c, octets outside 0x21..0x7e as \DDD (RFC 1035 §5.1):
 * at most 4 text octets per wire octet. */
enum { NAME_TEXT_MAX = 4 * DNS_NAME_MAX + 2 };

static size_t name_text(const dns_name *n, char *out) {
  size_t o = 0;
  if (n->len <= 1) {
    out[o++] = '.';
    out[o] = '\0';
    return o;
  }
  size_t i = 0;
  while (i < n->len && n->wire[i] != 0) {
    uint8_t l = n->wire[i++];
    for (uint8_t k = 0; k < l; k++) {
      uint8_t c = n->wire[i++];
      switch (c) {
      case '"':
      case '(':
      case ')':
      case '.':
      case ';':
      case '\\':
      case '@':
      case '$':
        out[o++] = '\\';
        out[o++] = (char)c;
        break;
      default:
        if (c < 0x21 || c > 0x7e) {
          out[o++] = '\\';
          out[o++] = (char)('0' + c / 100);
          out[o++] = (char)('0' + c / 10 % 10);
          out[o++] = (char)('0' + c % 10);
        } else {
          out[o++] = (char)c;
        }
      }
    }
    out[o++] = '.';
  }
  out[o] = '\0';
  return o;
}

void dns_name_append_text(const dns_name *n, GString *out) {
  char buf[NAME_TEXT_MAX + 1];
  size_t len = name_text(n, buf);
  g_string_append_len(out, buf, (gssize)len);
}

char *dns_name_to_text(const dns_name *n) {
  char buf[NAME_TEXT_MAX + 1];
  size_t len = name_text(n, buf);
  return g_memdup2(buf, len + 1); /* one block, its own size */
}

dns_err dns_name_decode(const uint8_t *msg, size_t len, size_t *off, dns_name *n) {
  size_t pos = *off;
  size_t run_start = pos; /* start of the label run being read (RFC 9267 §2) */
  size_t after = 0;
  bool jumped = false;
  size_t olen = 0;
  for (;;) {
    if (pos >= len)
      return DNS_ERR_SHORT;
    uint8_t c = msg[pos];
    if ((c & 0xC0) == 0xC0) {
      if (pos + 2 > len)
        return DNS_ERR_SHORT;
      size_t t = ((size_t)(c & 0x3F) << 8) | msg[pos + 1];
      if (!jumped) {
        after = pos + 2;
        jumped = true;
      }
      if (t >= len)
        return DNS_ERR_PTR_OUT_OF_BOUNDS;
      if (t > pos)
        return DNS_ERR_PTR_FORWARD;
      /* Pointing into the run we are reading (or to the pointer itself)
       * would loop: each jump must land strictly before the last start. */
      if (t >= run_start)
        return DNS_ERR_PTR_LOOP;
      run_start = pos = t;
      continue;
    }
    if (c & 0xC0)
      return DNS_ERR_LABEL_TYPE; /* 0x40 extended, 0x80 reserved */
    if (c == 0) {
      if (olen + 1 > DNS_NAME_MAX)
        return DNS_ERR_NAME_TOO_LONG;
      n->wire[olen++] = 0;
      pos++;
      break;
    }
    if (pos + 1 + c > len)
      return DNS_ERR_SHORT;
    /* Room for this label and at least the root label after it. */
    if (olen + 1 + c + 1 > DNS_NAME_MAX)
      return DNS_ERR_NAME_TOO_LONG;
    memcpy(n->wire + olen, msg + pos, (size_t)c + 1);
    olen += (size_t)c + 1;
    pos += (size_t)c + 1;
  }
  n->len = (uint8_t)olen;
  *off = jumped ? after : pos;
  return DNS_OK;
}

int dns_name_labels(const dns_name *n) {
  int count = 0;
  for (size_t i = 0; i < n->len && n->wire[i]; i += (size_t)n->wire[i] + 1)
    count++;
  return count;
}

bool dns_name_equal(const dns_name *a, const dns_name *b) {
  return a->len == b->len && dns_name_octets_ieq(a->wire, b->wire, a->len);
}

/* Offset in N's wire form where its last KEEP labels start. */
static size_t suffix_off(const dns_name *n, int keep) {
  int total = dns_name_labels(n);
  g_assert(keep >= 0 && keep <= total);
  size_t i = 0;
  for (int skip = total - keep; skip > 0; skip--)
    i += (size_t)n->wire[i] + 1;
  return i;
}

bool dns_name_is_under(const dns_name *n, const dns_name *parent) {
  if (n->len < parent->len)
    return false;
  int nl = dns_name_labels(n), pl = dns_name_labels(parent);
  if (nl < pl)
    return false;
  size_t off = suffix_off(n, pl);
  if ((size_t)n->len - off != parent->len)
    return false;
  return dns_name_octets_ieq(n->wire + off, parent->wire, parent->len);
}

void dns_name_suffix(const dns_name *n, int keep, dns_name *out) {
  size_t off = suffix_off(n, keep);
  uint8_t l = (uint8_t)(n->len - off);
  memmove(out->wire, n->wire + off, l);
  out->len = l;
}

dns_err dns_name_prepend(const dns_name *n, const uint8_t *label, size_t len, dns_name *out) {
  g_assert(len >= 1);
  if (len > DNS_LABEL_MAX)
    return DNS_ERR_LABEL_TOO_LONG;
  if ((size_t)n->len + 1 + len > DNS_NAME_MAX)
    return DNS_ERR_NAME_TOO_LONG;
  uint8_t tmp[DNS_NAME_MAX];
  tmp[0] = (uint8_t)len;
  memcpy(tmp + 1, label, len);
  memcpy(tmp + 1 + len, n->wire, n->len);
  out->len = (uint8_t)(n->len + 1 + len);
  memcpy(out->wire, tmp, out->len);
  return DNS_OK;
}

void dns_name_lower(const dns_name *n, dns_name *out) {
  dns_name_lower_octets(n->wire, n->len, out->wire);
  out->len = n->len;
}

void dns_name_lower_octets(const uint8_t *in, size_t n, uint8_t *out) {
  uint64_t w;
  if (n >= 8) { /* with IN = OUT the last word reads folded octets: folded again, the same */
    for (size_t i = 0; i + 8 < n; i += 8) {
      memcpy(&w, in + i, 8);
      w = lower8(w);
      memcpy(out + i, &w, 8);
    }
    memcpy(&w, in + n - 8, 8);
    w = lower8(w);
    memcpy(out + n - 8, &w, 8);
    return;
  }
  for (size_t i = 0; i < n; i++)
    out[i] = lower(in[i]);
}

int dns_name_compare(const dns_name *a, const dns_name *b) {
  size_t ao[128], bo[128];
  int an = 0, bn = 0;
  for (size_t i = 0; i < a->len && a->wire[i]; i += (size_t)a->wire[i] + 1)
    ao[an++] = i;
  for (size_t i = 0; i < b->len && b->wire[i]; i += (size_t)b->wire[i] + 1)
    bo[bn++] = i;
  for (int i = an - 1, j = bn - 1; i >= 0 && j >= 0; i--, j--) {
    const uint8_t *la = a->wire + ao[i], *lb = b->wire + bo[j];
    size_t m = la[0] < lb[0] ? la[0] : lb[0];
    for (size_t k = 1; k <= m; k++) {
      int d = (int)lower(la[k]) - (int)lower(lb[k]);
      if (d)
        return d;
    }
    if (la[0] != lb[0])
      return (int)la[0] - (int)lb[0];
  }
  return an - bn;
}

guint dns_name_hash(gconstpointer p) {
  const dns_name *n = p;
  guint h = 5381;
  for (size_t i = 0; i < n->len; i++)
    h = h * 33u + lower(n->wire[i]);
  return h;
}

gboolean dns_name_hash_equal(gconstpointer a, gconstpointer b) { return dns_name_equal(a, b); }
