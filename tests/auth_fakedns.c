/* auth_fakedns.c — see auth_fakedns.h. */
#include "auth_fakedns.h"

#include <string.h>

typedef struct {
  GArray *rrs; /* of dns_rr */
  bool fail;
  auth_dns_status fail_status;
} node;

struct auth_fakedns {
  GHashTable *names; /* key -> node; lookup only */
  unsigned queries;
};

static char *key_of(const dns_name *n) {
  dns_name low;
  dns_name_lower(n, &low);
  return g_strndup((const char *)low.wire, low.len); /* labels hold no NUL in tests */
}

static void node_free(gpointer p) {
  node *nd = p;
  auth_fakedns_rrs_free(nd->rrs);
  g_free(nd);
}

void auth_fakedns_rrs_free(GArray *rrs) {
  for (guint i = 0; i < rrs->len; i++)
    dns_rr_clear(&g_array_index(rrs, dns_rr, i));
  g_array_free(rrs, TRUE);
}

auth_fakedns *auth_fakedns_new(void) {
  auth_fakedns *d = g_new0(auth_fakedns, 1);
  d->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, node_free);
  return d;
}

void auth_fakedns_free(auth_fakedns *d) {
  if (!d)
    return;
  g_hash_table_destroy(d->names);
  g_free(d);
}

static node *get_node(auth_fakedns *d, const dns_name *n) {
  char *k = key_of(n);
  node *nd = g_hash_table_lookup(d->names, k);
  if (!nd) {
    nd = g_new0(node, 1);
    nd->rrs = g_array_new(FALSE, TRUE, sizeof(dns_rr));
    g_hash_table_insert(d->names, k, nd);
  } else {
    g_free(k);
  }
  return nd;
}

void auth_fakedns_add(auth_fakedns *d, const dns_rr *rr) {
  node *nd = get_node(d, &rr->owner);
  dns_rr c;
  dns_rr_copy(&c, rr);
  g_array_append_val(nd->rrs, c);
}

void auth_fakedns_add_text(auth_fakedns *d, const char *line) {
  dns_rr rr;
  if (dns_rr_from_text(&rr, line) != DNS_OK)
    g_error("auth_fakedns_add_text: bad record \"%s\"", line);
  auth_fakedns_add(d, &rr);
  dns_rr_clear(&rr);
}

void auth_fakedns_touch(auth_fakedns *d, const dns_name *name) { (void)get_node(d, name); }

void auth_fakedns_fail(auth_fakedns *d, const dns_name *name, auth_dns_status status) {
  node *nd = get_node(d, name);
  nd->fail = true;
  nd->fail_status = status;
}

auth_dns_status auth_fakedns_lookup(auth_fakedns *d, const dns_name *name, uint16_t type,
                                    GArray *out) {
  d->queries++;
  dns_name cur = *name;
  for (int hop = 0; hop <= 8; hop++) {
    char *k = key_of(&cur);
    node *nd = g_hash_table_lookup(d->names, k);
    g_free(k);
    if (!nd)
      return AUTH_DNS_NXDOMAIN;
    const dns_rr *cname = NULL;
    bool any = false;
    for (guint i = 0; i < nd->rrs->len; i++) {
      const dns_rr *rr = &g_array_index(nd->rrs, dns_rr, i);
      if (rr->type == type) {
        dns_rr c;
        dns_rr_copy(&c, rr);
        g_array_append_val(out, c);
        any = true;
      } else if (rr->type == DNS_T_CNAME) {
        cname = rr;
      }
    }
    if (any)
      return AUTH_DNS_OK;
    if (nd->fail)
      return nd->fail_status;
    if (!cname)
      return AUTH_DNS_OK; /* NODATA */
    cur = cname->rd.name;
  }
  return AUTH_DNS_SERVFAIL; /* CNAME loop or chain too long */
}

unsigned auth_fakedns_queries(const auth_fakedns *d) { return d->queries; }
