/* dkim_key.c — DKIM keys with OpenSSL: RFC 6376 §3.3.1 (RSA, p= is the DER
 * SubjectPublicKeyInfo in base64), RFC 8463 §3 and §4 (Ed25519, p= is the
 * raw 32-octet public key), §3.6.1 key records. */
#include "dkim_key.h"

#include <glib.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

struct dkim_key {
  dkim_key_type type;
  bool priv;
  EVP_PKEY *pkey;
};

const char *dkim_key_type_name(dkim_key_type t) {
  g_assert((unsigned)t < DKIM_KEY_TYPE_COUNT);
  return t == DKIM_KEY_RSA ? "rsa" : "ed25519";
}

static dkim_key *wrap(EVP_PKEY *p, bool priv) {
  if (!p)
    return NULL;
  dkim_key *k = g_new0(dkim_key, 1);
  int id = EVP_PKEY_get_base_id(p);
  if (id == EVP_PKEY_RSA)
    k->type = DKIM_KEY_RSA;
  else if (id == EVP_PKEY_ED25519)
    k->type = DKIM_KEY_ED25519;
  else {
    EVP_PKEY_free(p);
    g_free(k);
    return NULL;
  }
  k->priv = priv;
  k->pkey = p;
  return k;
}

dkim_key *dkim_key_from_pem(const char *pem, size_t len) {
  BIO *b = BIO_new_mem_buf(pem, (int)len);
  EVP_PKEY *p = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
  BIO_free(b);
  return wrap(p, true);
}

dkim_key *dkim_key_from_raw(dkim_key_type t, const uint8_t *raw, size_t len) {
  if (t == DKIM_KEY_ED25519) {
    if (len != 32)
      return NULL;
    return wrap(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, len), true);
  }
  const unsigned char *p = raw;
  EVP_PKEY *k = d2i_AutoPrivateKey(NULL, &p, (long)len);
  if (k && EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
    EVP_PKEY_free(k);
    return NULL;
  }
  return wrap(k, true);
}

dkim_key *dkim_key_from_public(dkim_key_type t, const uint8_t *der, size_t len) {
  if (t == DKIM_KEY_ED25519) {
    if (len != 32)
      return NULL;
    return wrap(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, len), false);
  }
  const unsigned char *p = der;
  EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);
  if (!k) {
    p = der;
    k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len); /* bare RSAPublicKey */
  }
  if (k && EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
    EVP_PKEY_free(k);
    return NULL;
  }
  return wrap(k, false);
}

void dkim_key_free(dkim_key *k) {
  if (!k)
    return;
  EVP_PKEY_free(k->pkey);
  g_free(k);
}

dkim_key_type dkim_key_get_type(const dkim_key *k) { return k->type; }
unsigned dkim_key_bits(const dkim_key *k) { return (unsigned)EVP_PKEY_get_bits(k->pkey); }
bool dkim_key_is_private(const dkim_key *k) { return k->priv; }
EVP_PKEY *dkim_key_peek(const dkim_key *k) { return k->pkey; }

char *dkim_key_dns_txt(const dkim_key *k) {
  char *b64 = NULL;
  if (k->type == DKIM_KEY_ED25519) {
    uint8_t raw[32];
    size_t n = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &n) != 1)
      g_error("dkim_key_dns_txt: no raw Ed25519 public key");
    b64 = g_base64_encode(raw, n);
  } else {
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k->pkey, &der);
    if (n <= 0)
      g_error("dkim_key_dns_txt: cannot encode the RSA public key");
    b64 = g_base64_encode(der, (gsize)n);
    OPENSSL_free(der);
  }
  char *s = g_strdup_printf("v=DKIM1; k=%s; p=%s", dkim_key_type_name(k->type), b64);
  g_free(b64);
  return s;
}
