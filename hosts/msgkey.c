/* msgkey.c — message keys from the header (RFC 5322 §3.6.4 Message-ID,
 * RFC 5321 §4.4 Received fields), parsed with protocols/mime's mime_hdr. */
#include "msgkey.h"

#include <glib.h>
#include <stdbool.h>
#include <string.h>

#include "mime_hdr.h"
#include "mime_scan.h"

/* The header is read in place (mime_hdr_scan): no field list is built for
 * the one or two fields wanted here. 1,000 fields: mime_msg's limit. */
#define MSGKEY_MAX_FIELDS 1000

/* The key from the unfolded Message-ID value V (taken; NULL: none), made
 * in V's own storage (the key is never longer than the value). */
static char *key_take(char *v) {
  if (!v)
    return g_strdup("");
  char *lt = strchr(v, '<');
  char *gt = lt ? strchr(lt, '>') : NULL;
  if (!(lt && gt))
    return g_strstrip(v);
  size_t n = (size_t)(gt - lt - 1);
  memmove(v, lt + 1, n);
  v[n] = '\0';
  return v;
}

char *msgkey_of_value_take(char *value) { return key_take(value); }

char *msgkey_of(const uint8_t *data, size_t len) {
  return key_take(mime_hdr_scan_get((const char *)data, len, MSGKEY_MAX_FIELDS, "Message-ID"));
}

char *msgkey_of_hdr(const mime_hdr *root) {
  const char *v = mime_hdr_get(root, "Message-ID");
  return key_take(v ? g_strdup(v) : NULL);
}

/* A field given (name BUF[START..NAME_END), value after COLON to VEND):
 * a Received counted into *N, the first Message-ID's raw value (folding
 * kept) into *ID and *ID_LEN. */
static void field_seen(const char *buf, size_t start, size_t name_end, size_t colon, size_t vend,
                       unsigned *n, const char **id, size_t *id_len) {
  size_t nlen = name_end - start;
  /* A name is ftext (no CR, no octet below 33): OR-ing 0x20 into each
   * octet maps exactly the two cases of a letter together and leaves
   * '-' apart, as mime_hdr_name_is compares. */
  const guint64 low = G_GUINT64_CONSTANT(0x2020202020202020);
  guint64 w, rec, msg;
  memcpy(&rec, "received", 8);
  memcpy(&msg, "message-", 8);
  if (nlen == 8) {
    memcpy(&w, buf + start, 8);
    if ((w | low) == rec)
      (*n)++;
  } else if (!*id && nlen == 10) {
    memcpy(&w, buf + start, 8);
    if ((w | low) == msg &&
        ((buf[start + 8] | 0x20) == 'i') && ((buf[start + 9] | 0x20) == 'd')) {
      *id = buf + colon + 1;
      *id_len = vend - colon - 1;
    }
  }
}

/* One pass over the header, fields split as mime_hdr_scan splits them
 * (the empty line or a line that is not a field ends the header; a
 * continuation extends the field before it; at most MSGKEY_MAX_FIELDS),
 * without building a view a field: only the names are looked at, and the
 * Message-ID's value (issue #6: ~3,600 instructions a delivery through
 * mime_hdr_scan_next). */
static const char *scan_hops(const uint8_t *data, size_t len, unsigned *hops, size_t *id_len) {
  const char *buf = (const char *)data;
  const char *id = NULL;
  unsigned n = 0, given = 0;
  bool have = false; /* a field read and not yet given */
  size_t start = 0, name_end = 0, colon = 0, vend = 0, pos = 0;
  while (pos < len && given < MSGKEY_MAX_FIELDS) {
    size_t p = pos, eol, next;
    const char *nl = mime_scan_lf(buf + p, len - p);
    if (nl) {
      size_t e = (size_t)(nl - buf);
      next = e + 1;
      eol = e > p && buf[e - 1] == '\r' ? e - 1 : e;
    } else {
      eol = next = len;
    }
    if (eol == p) /* the empty line */
      break;
    pos = next;
    if (buf[p] == ' ' || buf[p] == '\t') {
      if (have)
        vend = eol;
      continue;
    }
    size_t ne = mime_scan_name_end(buf, p, eol);
    size_t c = ne;
    while (c < eol && (buf[c] == ' ' || buf[c] == '\t'))
      c++;
    if (ne == p || c == eol || buf[c] != ':') /* not a field: the body */
      break;
    if (have) { /* the field before is given */
      given++;
      field_seen(buf, start, name_end, colon, vend, &n, &id, id_len);
    }
    have = true;
    start = p;
    name_end = ne;
    colon = c;
    vend = eol;
  }
  if (have && given < MSGKEY_MAX_FIELDS) /* the last field */
    field_seen(buf, start, name_end, colon, vend, &n, &id, id_len);
  *hops = n;
  return id;
}

char *msgkey_of_hops(const uint8_t *data, size_t len, unsigned *hops) {
  size_t id_len = 0;
  const char *id = scan_hops(data, len, hops, &id_len);
  return key_take(id ? mime_hdr_unfold(id, id_len) : NULL);
}

char *msgkey_of_hops_buf(const uint8_t *data, size_t len, unsigned *hops, char *buf,
                         size_t bufsz) {
  size_t id_len = 0;
  const char *id = scan_hops(data, len, hops, &id_len);
  return msgkey_of_raw_buf(id, id_len, buf, bufsz);
}

char *msgkey_of_raw_buf(const char *id, size_t id_len, char *buf, size_t bufsz) {
  if (id && id_len < bufsz) { /* mime_hdr_unfold_into writes at most ID_LEN + 1 */
    mime_hdr_unfold_into(id, id_len, buf);
    return key_take(buf); /* made in place */
  }
  if (!id && bufsz) {
    *buf = '\0';
    return buf;
  }
  return key_take(id ? mime_hdr_unfold(id, id_len) : NULL);
}

unsigned msgkey_hops(const uint8_t *data, size_t len) {
  return mime_hdr_scan_count((const char *)data, len, MSGKEY_MAX_FIELDS, "Received");
}
