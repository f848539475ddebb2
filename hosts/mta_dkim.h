/* mta_dkim.h — DKIM signing at the outbound MTA (issue 7), as OpenDKIM in
 * signing mode on a submission server: every message accepted on port 587
 * whose From domain is the configured domain (or one of its subdomains)
 * gets a DKIM-Signature (RFC 6376 §5; ed25519-sha256 RFC 8463, or
 * rsa-sha256) prepended before it is queued, through the MTA's signer hook
 * (mta_host_set_signer). Messages of other domains pass unsigned.
 *
 * The public key record to publish at <selector>._domainkey.<domain> is
 * mta_dkim_dns_txt(); a scenario's zone adds it as a TXT record (split in
 * 255-octet strings when longer; an Ed25519 record is short). */
#ifndef MAILSIM_MTA_DKIM_H
#define MAILSIM_MTA_DKIM_H

#include <stddef.h>
#include <stdint.h>

#include "dkim_canon.h"
#include "mta.h"

typedef struct {
  const char *domain;   /* d= (required) */
  const char *selector; /* s= (required) */
  /* The private key: PEM text (PKCS#8 Ed25519 or RSA), or else a raw
   * 32-octet Ed25519 seed (RFC 8032). Exactly one. */
  const char *key_pem;
  const uint8_t *ed25519_seed;
  size_t seed_len;
  dkim_canon header_canon, body_canon; /* relaxed/relaxed by default */
  bool oversign;                       /* §8.15; off by default */
} mta_dkim_config;

/* relaxed/relaxed, no oversigning, no key. */
void mta_dkim_config_init(mta_dkim_config *cfg);

typedef struct mta_dkim mta_dkim;

/* Installs a signer on M (strings and key copied). Returns NULL when the
 * key cannot be read or the domain/selector is missing (a scenario error:
 * the caller reports it). M is borrowed and must outlive the signer. */
mta_dkim *mta_dkim_new(mta_host *m, const mta_dkim_config *cfg);
/* Removes the hook and frees. NULL is a no-op. */
void mta_dkim_free(mta_dkim *d);
/* The TXT record text ("v=DKIM1; k=ed25519; p=...") and the owner name
 * ("<selector>._domainkey.<domain>"); new strings, g_free them. */
char *mta_dkim_dns_txt(const mta_dkim *d);
char *mta_dkim_dns_name(const mta_dkim *d);
/* Messages signed so far. */
uint64_t mta_dkim_signed(const mta_dkim *d);

#endif
