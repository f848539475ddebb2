/* msgkey.c — message keys from the header (RFC 5322 §3.6.4 Message-ID,
 * RFC 5321 §4.4 Received fields), parsed with protocols/mime's mime_hdr. */
#include "msgkey.h"

#include <glib.h>
#include <string.h>

#include "mime_hdr.h"

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

char *msgkey_of_hops(const uint8_t *data, size_t len, unsigned *hops) {
  mime_hdr_scan sc;
  mime_hdr_view v;
  char *id = NULL;
  unsigned n = 0;
  mime_hdr_scan_init(&sc, (const char *)data, len, FALSE);
  for (guint i = 0; i < MSGKEY_MAX_FIELDS && mime_hdr_scan_next(&sc, &v); i++) {
    if (v.name_len == 8 && mime_hdr_name_is(v.name, v.name_len, "Received", 8))
      n++;
    else if (!id && v.name_len == 10 && mime_hdr_name_is(v.name, v.name_len, "Message-ID", 10))
      id = mime_hdr_unfold(v.raw_value, v.raw_len);
  }
  *hops = n;
  return key_take(id);
}

unsigned msgkey_hops(const uint8_t *data, size_t len) {
  return mime_hdr_scan_count((const char *)data, len, MSGKEY_MAX_FIELDS, "Received");
}
