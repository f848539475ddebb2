/* auth_dns.c — DNS helpers shared by the authentication engines: domain
 * text to wire names (RFC 1035 §2.3.4 limits), TXT string joining (RFC 7208
 * §3.3; RFC 6376 §3.6.2.2) and the answer cache the engines replay from. */
#include "auth_dns.h"

#include <string.h>

static const char *const status_names[AUTH_DNS_STATUS_COUNT] = {
    [AUTH_DNS_OK] = "ok",
    [AUTH_DNS_NXDOMAIN] = "nxdomain",
    [AUTH_DNS_TIMEOUT] = "timeout",
    [AUTH_DNS_SERVFAIL] = "servfail",
};

const char *auth_dns_status_name(auth_dns_status s) {
  g_assert((unsigned)s < AUTH_DNS_STATUS_COUNT);
  return status_names[s];
}

bool auth_dns_name_from_domain(const char *domain, dns_name *out) {
  dns_name_set_root(out);
  size_t len = strlen(domain);
  if (len > 0 && domain[len - 1] == '.')
    len--;
  if (len == 0)
    return false;
  uint8_t wire[DNS_NAME_MAX];
  size_t w = 0;
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && domain[i] != '.')
      continue;
    size_t l = i - start;
    if (l == 0 || l > DNS_LABEL_MAX || w + 1 + l + 1 > DNS_NAME_MAX)
      return false;
    wire[w++] = (uint8_t)l;
    memcpy(wire + w, domain + start, l);
    w += l;
    start = i + 1;
  }
  wire[w++] = 0;
  memcpy(out->wire, wire, w);
  out->len = (uint8_t)w;
  return true;
}

char *auth_dns_txt_join(const dns_rr *rr, size_t *len) {
  GString *s = g_string_new(NULL);
  size_t n = dns_rr_txt_count(rr);
  for (size_t i = 0; i < n; i++) {
    size_t l;
    const uint8_t *p = dns_rr_txt_get(rr, i, &l);
    g_string_append_len(s, (const char *)p, (gssize)l);
  }
  *len = s->len;
  return g_string_free(s, FALSE);
}

struct auth_dns_cache {
  GHashTable *map; /* key text -> entry; lookup only, never iterated */
};

typedef struct {
  auth_dns_status status;
  GArray *rrs; /* of dns_rr */
} cache_entry;

static void entry_free(gpointer p) {
  cache_entry *e = p;
  for (guint i = 0; i < e->rrs->len; i++)
    dns_rr_clear(&g_array_index(e->rrs, dns_rr, i));
  g_array_free(e->rrs, TRUE);
  g_free(e);
}

static char *cache_key(const dns_name *name, uint16_t type) {
  dns_name low;
  dns_name_lower(name, &low);
  GString *k = g_string_new(NULL);
  g_string_append_printf(k, "%u ", type);
  for (size_t i = 0; i < low.len; i++)
    g_string_append_printf(k, "%02x", low.wire[i]);
  return g_string_free(k, FALSE);
}

auth_dns_cache *auth_dns_cache_new(void) {
  auth_dns_cache *c = g_new0(auth_dns_cache, 1);
  c->map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, entry_free);
  return c;
}

void auth_dns_cache_free(auth_dns_cache *c) {
  if (!c)
    return;
  g_hash_table_destroy(c->map);
  g_free(c);
}

void auth_dns_cache_put(auth_dns_cache *c, const dns_name *name, uint16_t type,
                        auth_dns_status status, const dns_rr *rrs, size_t n) {
  g_assert((unsigned)status < AUTH_DNS_STATUS_COUNT);
  cache_entry *e = g_new0(cache_entry, 1);
  e->status = status;
  e->rrs = g_array_new(FALSE, TRUE, sizeof(dns_rr));
  if (status == AUTH_DNS_OK) {
    for (size_t i = 0; i < n; i++) {
      if (rrs[i].type != type)
        continue;
      dns_rr copy;
      dns_rr_copy(&copy, &rrs[i]);
      g_array_append_val(e->rrs, copy);
    }
  }
  g_hash_table_replace(c->map, cache_key(name, type), e);
}

bool auth_dns_cache_get(const auth_dns_cache *c, const dns_name *name, uint16_t type,
                        auth_dns_status *status, const GArray **rrs) {
  char *k = cache_key(name, type);
  cache_entry *e = g_hash_table_lookup(c->map, k);
  g_free(k);
  if (!e)
    return false;
  *status = e->status;
  *rrs = e->rrs;
  return true;
}
