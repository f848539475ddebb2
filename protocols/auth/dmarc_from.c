/* dmarc_from.c — RFC 7489 §6.6.1 (extract the author domain: exactly one
 * From field; several addresses only when they share one domain), using
 * RFC 5322 §3.6.2 From syntax through mime_hdr and mime_addr. */
#include "dmarc_from.h"

#include <glib.h>

#include "mime_addr.h"
#include "mime_hdr.h"

static const char *const names[DMARC_FROM_COUNT] = {"ok", "missing", "multiple", "no-domain"};

const char *dmarc_from_status_name(dmarc_from_status s) {
  g_assert((unsigned)s < DMARC_FROM_COUNT);
  return names[s];
}

dmarc_from_status dmarc_from_domain(const char *msg, size_t len, char **domain) {
  *domain = NULL;
  gsize hlen = 0;
  guint flags = 0;
  mime_hdr *h = mime_hdr_parse(msg, len, 0, 0, &hlen, &flags);
  const mime_hdr_field *f = mime_hdr_find(h, "From", 0);
  dmarc_from_status st = DMARC_FROM_OK;
  if (!f)
    st = DMARC_FROM_MISSING;
  else if (mime_hdr_find(h, "From", 1))
    st = DMARC_FROM_MULTIPLE;
  if (st != DMARC_FROM_OK) {
    mime_hdr_free(h);
    return st;
  }
  GPtrArray *list = mime_addr_parse(f->value, NULL);
  char *dom = NULL;
  for (guint i = 0; i < list->len && st == DMARC_FROM_OK; i++) {
    const mime_addr *a = list->pdata[i];
    if (a->kind != MIME_ADDR_MAILBOX || !a->domain || !*a->domain)
      continue;
    char *d = g_ascii_strdown(a->domain, -1);
    if (!dom)
      dom = d;
    else {
      if (g_strcmp0(dom, d) != 0)
        st = DMARC_FROM_MULTIPLE;
      g_free(d);
    }
  }
  g_ptr_array_unref(list);
  mime_hdr_free(h);
  if (st == DMARC_FROM_OK && !dom)
    st = DMARC_FROM_NO_DOMAIN;
  if (st == DMARC_FROM_OK)
    *domain = dom;
  else
    g_free(dom);
  return st;
}
