/* mta_dkim.c — DKIM signing at submission (see mta_dkim.h): the signer
 * hook of the MTA host over protocols/auth's dkim_sign. The signing
 * decision follows OpenDKIM's SigningTable with one wildcard entry
 * ("*@domain" and its subdomains), matched on the RFC5322.From domain
 * (RFC 6376 §5: the signer chooses which messages it signs). */
#include "mta_dkim.h"

#include <string.h>

#include "dkim_key.h"
#include "dkim_sign.h"
#include "dmarc_from.h"

struct mta_dkim {
  mta_host *m;
  char *domain, *selector;
  dkim_key *key;
  dkim_canon hc, bc;
  bool oversign;
  uint64_t signed_count;
};

void mta_dkim_config_init(mta_dkim_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->header_canon = DKIM_CANON_RELAXED;
  cfg->body_canon = DKIM_CANON_RELAXED;
}

static bool ours(const mta_dkim *d, const char *dom) {
  size_t n = strlen(dom), k = strlen(d->domain);
  if (g_ascii_strcasecmp(dom, d->domain) == 0)
    return true;
  return n > k && dom[n - k - 1] == '.' && g_ascii_strcasecmp(dom + n - k, d->domain) == 0;
}

static char *sign(void *user, const char *sender, const uint8_t *data, size_t len,
                  int64_t now_unix) {
  (void)sender;
  mta_dkim *d = user;
  char *dom = NULL;
  if (dmarc_from_domain((const char *)data, len, &dom) != DMARC_FROM_OK || !ours(d, dom)) {
    g_free(dom);
    return NULL;
  }
  g_free(dom);
  dkim_sign_cfg sc = {.domain = d->domain,
                      .selector = d->selector,
                      .header_canon = d->hc,
                      .body_canon = d->bc,
                      .oversign = d->oversign,
                      .now_unix = now_unix};
  char *field = dkim_sign(&sc, d->key, data, len);
  if (field)
    d->signed_count++;
  return field;
}

mta_dkim *mta_dkim_new(mta_host *m, const mta_dkim_config *cfg) {
  g_assert(m && cfg);
  if (!cfg->domain || !*cfg->domain || !cfg->selector || !*cfg->selector)
    return NULL;
  dkim_key *key = NULL;
  if (cfg->key_pem)
    key = dkim_key_from_pem(cfg->key_pem, strlen(cfg->key_pem));
  else if (cfg->ed25519_seed)
    key = dkim_key_from_raw(DKIM_KEY_ED25519, cfg->ed25519_seed, cfg->seed_len);
  if (!key || !dkim_key_is_private(key)) {
    dkim_key_free(key);
    return NULL;
  }
  mta_dkim *d = g_new0(mta_dkim, 1);
  d->m = m;
  d->domain = g_ascii_strdown(cfg->domain, -1);
  d->selector = g_strdup(cfg->selector);
  d->key = key;
  d->hc = cfg->header_canon;
  d->bc = cfg->body_canon;
  d->oversign = cfg->oversign;
  mta_host_set_signer(m, sign, d);
  return d;
}

void mta_dkim_free(mta_dkim *d) {
  if (!d)
    return;
  mta_host_set_signer(d->m, NULL, NULL);
  dkim_key_free(d->key);
  g_free(d->domain);
  g_free(d->selector);
  g_free(d);
}

char *mta_dkim_dns_txt(const mta_dkim *d) { return dkim_key_dns_txt(d->key); }

char *mta_dkim_dns_name(const mta_dkim *d) {
  return g_strdup_printf("%s._domainkey.%s", d->selector, d->domain);
}

uint64_t mta_dkim_signed(const mta_dkim *d) { return d->signed_count; }
