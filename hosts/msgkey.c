/* msgkey.c — message keys from the header (RFC 5322 §3.6.4 Message-ID,
 * RFC 5321 §4.4 Received fields), parsed with protocols/mime's mime_hdr. */
#include "msgkey.h"

#include <glib.h>
#include <string.h>

#include "mime_hdr.h"

/* The header is read in place (mime_hdr_scan): no field list is built for
 * the one or two fields wanted here. 1,000 fields: mime_msg's limit. */
#define MSGKEY_MAX_FIELDS 1000

/* The key from the unfolded Message-ID value V (NULL: none), a new string. */
static char *key_of_value(const char *v) {
  if (!v)
    return g_strdup("");
  const char *lt = strchr(v, '<');
  const char *gt = lt ? strchr(lt, '>') : NULL;
  return lt && gt ? g_strndup(lt + 1, (gsize)(gt - lt - 1)) : g_strstrip(g_strdup(v));
}

char *msgkey_of(const uint8_t *data, size_t len) {
  char *v = mime_hdr_scan_get((const char *)data, len, MSGKEY_MAX_FIELDS, "Message-ID");
  char *r = key_of_value(v);
  g_free(v);
  return r;
}

char *msgkey_of_hdr(const mime_hdr *root) {
  return key_of_value(mime_hdr_get(root, "Message-ID"));
}

char *msgkey_of_hops(const uint8_t *data, size_t len, unsigned *hops) {
  mime_hdr_scan sc;
  mime_hdr_view v;
  char *id = NULL;
  unsigned n = 0;
  mime_hdr_scan_init(&sc, (const char *)data, len, FALSE);
  for (guint i = 0; i < MSGKEY_MAX_FIELDS && mime_hdr_scan_next(&sc, &v); i++) {
    if (mime_hdr_name_is(v.name, v.name_len, "Received", 8))
      n++;
    else if (!id && mime_hdr_name_is(v.name, v.name_len, "Message-ID", 10))
      id = mime_hdr_unfold(v.raw_value, v.raw_len);
  }
  char *r = key_of_value(id);
  g_free(id);
  *hops = n;
  return r;
}

unsigned msgkey_hops(const uint8_t *data, size_t len) {
  return mime_hdr_scan_count((const char *)data, len, MSGKEY_MAX_FIELDS, "Received");
}
