/* scn_dns.c — zones and DNS services of a scenario world. */
#include "scn_dns.h"

#include <string.h>

#include "dns_auth.h"
#include "dkim_key.h"
#include "dns_resolver.h"
#include "sim_rng.h"

struct scn_dns {
  GPtrArray *zones;     /* dns_zone*, in $.zones order */
  GPtrArray *auths;     /* dns_auth* */
  GPtrArray *resolvers; /* dns_resolver* */
  GPtrArray *clients;   /* dns_client* or NULL, by host index */
  GPtrArray *auth_of;   /* dns_auth* (borrowed) or NULL, by host index */
};

dns_zone *scn_dns_zone_build(const scn_zone *z, guint *bad, dns_err *err) {
  dns_name origin;
  if (dns_name_from_text(&origin, z->origin) != DNS_OK) {
    *bad = G_MAXUINT;
    *err = DNS_ERR_SYNTAX;
    return NULL;
  }
  dns_zone *zone = dns_zone_new(&origin);
  for (guint i = 0; i < z->records->len; i++) {
    const char *r = z->records->pdata[i];
    char *text = g_str_has_prefix(r, "@ ") || g_str_has_prefix(r, "@\t")
                     ? g_strconcat(z->origin, r + 1, NULL)
                     : g_strdup(r);
    dns_err e = dns_zone_add_text(zone, text);
    g_free(text);
    if (e != DNS_OK) {
      *bad = i;
      *err = e;
      dns_zone_free(zone);
      return NULL;
    }
  }
  return zone;
}

static int zone_index(const scn_config *c, const char *origin) {
  for (guint i = 0; i < c->zones->len; i++)
    if (g_ascii_strcasecmp(g_array_index(c->zones, scn_zone, i).origin, origin) == 0)
      return (int)i;
  return -1;
}

static const char *first_addr(const scn_host *h) {
  for (guint i = 0; i < h->addrs->len; i++)
    if (!strchr(h->addrs->pdata[i], ':'))
      return h->addrs->pdata[i];
  return h->addrs->len ? h->addrs->pdata[0] : NULL;
}

void scn_dkim_seed(uint64_t seed, const scn_host *h, uint8_t out[32]) {
  char *name = g_strdup_printf("dkim:%s", h->name);
  sim_rng rng;
  sim_rng_init(&rng, seed, name);
  g_free(name);
  for (int i = 0; i < 32; i += 8) {
    uint64_t v = sim_rng_u64(&rng);
    for (int k = 0; k < 8; k++)
      out[i + k] = (uint8_t)(v >> (8 * k));
  }
}

/* Publishes the DKIM keys of the signing MTAs in their zones. */
static void publish_dkim(scn_dns *d, const scn_config *c, uint64_t seed) {
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    if (!h->mta.dkim_domain)
      continue;
    char *owner = g_strdup_printf("%s._domainkey.%s.", h->mta.dkim_selector, h->mta.dkim_domain);
    const scn_zone *z = scn_zone_for(c, owner);
    uint8_t sd[32];
    scn_dkim_seed(seed, h, sd);
    dkim_key *k = dkim_key_from_raw(DKIM_KEY_ED25519, sd, sizeof sd);
    char *txt = k ? dkim_key_dns_txt(k) : NULL;
    if (z && txt) {
      char *rr = g_strdup_printf("%s 3600 IN TXT \"%s\"", owner, txt);
      dns_err e = dns_zone_add_text(d->zones->pdata[zone_index(c, z->origin)], rr);
      if (e != DNS_OK) /* e.g. a CNAME the scenario put at that name: signatures will fail */
        g_printerr("mailsim: cannot publish the DKIM key %s: %s\n", owner, dns_err_name(e));
      g_free(rr);
    }
    g_free(txt);
    dkim_key_free(k);
    g_free(owner);
  }
}

scn_dns *scn_dns_new(const scn_config *c, host *const *hosts) {
  scn_dns *d = g_new0(scn_dns, 1);
  d->zones = g_ptr_array_new_with_free_func((GDestroyNotify)dns_zone_free);
  d->auths = g_ptr_array_new_with_free_func((GDestroyNotify)dns_auth_free);
  d->resolvers = g_ptr_array_new_with_free_func((GDestroyNotify)dns_resolver_free);
  d->clients = g_ptr_array_new_with_free_func((GDestroyNotify)dns_client_free);
  d->auth_of = g_ptr_array_new();
  for (guint i = 0; i < c->zones->len; i++) {
    guint bad;
    dns_err e;
    dns_zone *z = scn_dns_zone_build(&g_array_index(c->zones, scn_zone, i), &bad, &e);
    g_assert(z); /* checked by the loader */
    g_ptr_array_add(d->zones, z);
  }
  if (c->hosts->len)
    publish_dkim(d, c, sim_world_seed(host_world(hosts[0])));
  /* Root hints: the servers of the root zone, in host order. */
  GArray *hints = g_array_new(FALSE, FALSE, sizeof(dns_res_server));
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    for (guint k = 0; k < h->zones->len; k++)
      if (strcmp(h->zones->pdata[k], ".") == 0 && first_addr(h)) {
        dns_res_server s = {h->name, first_addr(h), 53};
        g_array_append_val(hints, s);
      }
  }
  dns_zone_cfg zc = {.edns_size = 1232};
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    dns_auth *auth = NULL;
    if (h->zones->len) {
      GPtrArray *served = g_ptr_array_new();
      for (guint k = 0; k < h->zones->len; k++)
        g_ptr_array_add(served, d->zones->pdata[zone_index(c, h->zones->pdata[k])]);
      auth = dns_auth_new(hosts[i], (dns_zone *const *)served->pdata, served->len, &zc);
      g_ptr_array_add(d->auths, auth);
      g_ptr_array_unref(served);
    }
    g_ptr_array_add(d->auth_of, auth);
    if (strcmp(h->role, "resolver") == 0 && hints->len)
      g_ptr_array_add(d->resolvers, dns_resolver_new(hosts[i], (dns_res_server *)hints->data,
                                                     hints->len));
  }
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    dns_client *cl = NULL;
    if (h->resolver) {
      const scn_host *r = &g_array_index(c->hosts, scn_host, scn_find_host(c, h->resolver));
      sim_addr ra;
      if (first_addr(r) && sim_addr_parse(first_addr(r), &ra))
        cl = dns_client_new(hosts[i], &ra);
    }
    g_ptr_array_add(d->clients, cl);
  }
  g_array_unref(hints);
  return d;
}

void scn_dns_free(scn_dns *d) {
  if (!d)
    return;
  g_ptr_array_unref(d->clients);
  g_ptr_array_unref(d->auth_of);
  g_ptr_array_unref(d->resolvers);
  g_ptr_array_unref(d->auths);
  g_ptr_array_unref(d->zones);
  g_free(d);
}

dns_client *scn_dns_client(scn_dns *d, int i) { return d->clients->pdata[i]; }

struct dns_auth *scn_dns_auth(scn_dns *d, int i) { return d->auth_of->pdata[i]; }

dns_zone *scn_dns_zone(scn_dns *d, const scn_config *c, const char *origin) {
  int i = zone_index(c, origin);
  return i < 0 ? NULL : d->zones->pdata[i];
}

void scn_dns_get_stats(const scn_dns *d, scn_dns_stats *out) {
  memset(out, 0, sizeof *out);
  for (guint i = 0; i < d->clients->len; i++) {
    const dns_res_stats *st = d->clients->pdata[i] ? dns_client_stats(d->clients->pdata[i]) : NULL;
    if (st) {
      out->stub_lookups += st->lookups;
      out->stub_from_cache += st->from_cache;
    }
  }
  for (guint i = 0; i < d->resolvers->len; i++) {
    const dns_res_stats *st = dns_resolver_stats(d->resolvers->pdata[i]);
    if (st) {
      out->res_lookups += st->lookups;
      out->res_from_cache += st->from_cache;
      out->queries += st->queries;
    }
  }
}
