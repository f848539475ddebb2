/* dkim_key.h — DKIM keys (RFC 6376 §3.3, §3.6.1; RFC 8463 §3; RFC 8301):
 * private keys for signing (PEM, DER or a raw Ed25519 seed), public keys
 * from a selector's TXT record, and the TXT record text to publish. */
#ifndef MAILSIM_DKIM_KEY_H
#define MAILSIM_DKIM_KEY_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { DKIM_KEY_RSA = 0, DKIM_KEY_ED25519, DKIM_KEY_TYPE_COUNT } dkim_key_type;

/* "rsa", "ed25519" (the k= values). */
const char *dkim_key_type_name(dkim_key_type t);

typedef struct dkim_key dkim_key;

/* A private key from PEM text (PKCS#8, or traditional RSA "BEGIN RSA
 * PRIVATE KEY"). NULL if it is not an RSA or Ed25519 private key. */
dkim_key *dkim_key_from_pem(const char *pem, size_t len);
/* A private key from raw octets: for DKIM_KEY_ED25519 the 32-octet seed
 * (RFC 8032 private key), for DKIM_KEY_RSA a DER RSAPrivateKey or PKCS#8.
 * NULL if unusable. */
dkim_key *dkim_key_from_raw(dkim_key_type t, const uint8_t *raw, size_t len);
/* A public key from a key record's k= type and decoded p= octets (RSA:
 * SubjectPublicKeyInfo, or a bare RSAPublicKey; Ed25519: 32 octets). */
dkim_key *dkim_key_from_public(dkim_key_type t, const uint8_t *der, size_t len);
void dkim_key_free(dkim_key *k); /* NULL is a no-op */

dkim_key_type dkim_key_get_type(const dkim_key *k);
/* RSA modulus bits, 256 for Ed25519. */
unsigned dkim_key_bits(const dkim_key *k);
bool dkim_key_is_private(const dkim_key *k);
/* The OpenSSL key (borrowed). */
EVP_PKEY *dkim_key_peek(const dkim_key *k);

/* The TXT record text for selector._domainkey.<domain> (§3.6.1):
 * "v=DKIM1; k=rsa; p=<base64>" (RSA: SubjectPublicKeyInfo DER) or
 * "v=DKIM1; k=ed25519; p=<base64 of 32 octets>". g_free it. Records over
 * 255 octets are split into several character-strings by the publisher. */
char *dkim_key_dns_txt(const dkim_key *k);

#endif
