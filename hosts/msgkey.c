/* msgkey.c — message keys from the header (RFC 5322 §3.6.4 Message-ID,
 * RFC 5321 §4.4 Received fields), parsed with protocols/mime's mime_hdr. */
#include "msgkey.h"

#include <glib.h>
#include <string.h>

#include "mime_hdr.h"

static mime_hdr *header(const uint8_t *data, size_t len) {
  gsize hl;
  guint flags = 0;
  return mime_hdr_parse((const char *)data, len, 0, 1000, &hl, &flags);
}

char *msgkey_of(const uint8_t *data, size_t len) {
  mime_hdr *h = header(data, len);
  const char *v = mime_hdr_get(h, "Message-ID");
  char *r;
  if (!v) {
    r = g_strdup("");
  } else {
    const char *lt = strchr(v, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    r = lt && gt ? g_strndup(lt + 1, (gsize)(gt - lt - 1)) : g_strstrip(g_strdup(v));
  }
  mime_hdr_free(h);
  return r;
}

unsigned msgkey_hops(const uint8_t *data, size_t len) {
  mime_hdr *h = header(data, len);
  unsigned n = 0;
  while (mime_hdr_find(h, "Received", n))
    n++;
  mime_hdr_free(h);
  return n;
}
