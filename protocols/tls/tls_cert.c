/* tls_cert.c — builds the world CA and per-host leaf certificates
 * (RFC 5280 profile, Ed25519 per RFC 8410) from seeds, byte for byte
 * reproducibly; see tls_cert.h for the profile.
 *
 * Nothing here draws randomness: Ed25519 keys are imported raw
 * (EVP_PKEY_new_raw_private_key_ex) and Ed25519 signing is deterministic
 * (RFC 8032 §5.1.6), so the library context passed in only supplies the
 * algorithms. The results are kept as bytes so that no OpenSSL object
 * outlives the call or ties a credential to a context.
 */
#include "tls_cert.h"

#include <glib.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <string.h>

struct tls_ca {
  char *name;
  uint8_t key[32];
  GBytes *der;
  char *pem;
};

struct tls_cred {
  uint8_t key[32];
  GBytes *der;
  GBytes *ca_der;
  char *pem;
  char *key_pem;
};

G_GNUC_NORETURN static void die(const char *fn, const char *what) {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  g_error("%s: %s: %s", fn, what, buf);
}

#define CHECK(expr)                                                                                \
  do {                                                                                             \
    if (!(expr))                                                                                   \
      die(G_STRFUNC, #expr);                                                                       \
  } while (0)

static EVP_PKEY *key_from_raw(OSSL_LIB_CTX *libctx, const uint8_t key[32]) {
  EVP_PKEY *k = EVP_PKEY_new_raw_private_key_ex(libctx, "ED25519", NULL, key, 32);
  CHECK(k != NULL);
  return k;
}

static X509_NAME *cn_name(const char *cn) {
  X509_NAME *n = X509_NAME_new();
  CHECK(n != NULL);
  CHECK(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0));
  return n;
}

/* The fields common to both profiles, up to the public key. */
static X509 *cert_start(OSSL_LIB_CTX *libctx, uint64_t serial, const X509_NAME *subject,
                        const X509_NAME *issuer, const tls_cert_validity *v, EVP_PKEY *pub) {
  static const tls_cert_validity dflt = {TLS_CERT_NOT_BEFORE, TLS_CERT_NOT_AFTER};
  if (v == NULL)
    v = &dflt;
  g_assert(v->not_before <= v->not_after);
  X509 *x = X509_new_ex(libctx, NULL);
  CHECK(x != NULL);
  CHECK(X509_set_version(x, X509_VERSION_3));
  CHECK(ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial));
  CHECK(X509_set_subject_name(x, subject));
  CHECK(X509_set_issuer_name(x, issuer));
  CHECK(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)v->not_before) != NULL);
  CHECK(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)v->not_after) != NULL);
  CHECK(X509_set_pubkey(x, pub));
  return x;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
  X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
  CHECK(e != NULL);
  CHECK(X509_add_ext(x, e, -1));
  X509_EXTENSION_free(e);
}

static GBytes *to_der(X509 *x) {
  unsigned char *buf = NULL;
  int len = i2d_X509(x, &buf);
  CHECK(len > 0);
  GBytes *b = g_bytes_new(buf, (gsize)len);
  OPENSSL_free(buf);
  return b;
}

static char *bio_text(BIO *bio) {
  char *data = NULL;
  long len = BIO_get_mem_data(bio, &data);
  CHECK(len > 0);
  char *s = g_strndup(data, (gsize)len);
  BIO_free(bio);
  return s;
}

static char *cert_pem(X509 *x) {
  BIO *bio = BIO_new(BIO_s_mem());
  CHECK(bio != NULL);
  CHECK(PEM_write_bio_X509(bio, x));
  return bio_text(bio);
}

static X509 *from_der(OSSL_LIB_CTX *libctx, GBytes *der) {
  X509 *x = X509_new_ex(libctx, NULL);
  CHECK(x != NULL);
  gsize len;
  const unsigned char *p = g_bytes_get_data(der, &len);
  CHECK(d2i_X509(&x, &p, (long)len) != NULL);
  return x;
}

tls_ca *tls_ca_new(OSSL_LIB_CTX *libctx, const uint8_t seed[TLS_RAND_SEED_LEN], const char *name,
                   const tls_cert_validity *v) {
  tls_ca *ca = g_new0(tls_ca, 1);
  ca->name = g_strdup(name ? name : TLS_CERT_CA_NAME);
  tls_rand_derive(ca->key, seed, "mailsim ca key");
  EVP_PKEY *k = key_from_raw(libctx, ca->key);
  X509_NAME *n = cn_name(ca->name);
  X509 *x = cert_start(libctx, 1, n, n, v, k);
  /* RFC 5280 §4.2.1.9, §4.2.1.3, §4.2.1.2 */
  add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
  add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(x, x, NID_subject_key_identifier, "hash");
  CHECK(X509_sign(x, k, NULL) > 0); /* Ed25519: no digest (RFC 8410 §6) */
  ca->der = to_der(x);
  ca->pem = cert_pem(x);
  X509_free(x);
  X509_NAME_free(n);
  EVP_PKEY_free(k);
  return ca;
}

void tls_ca_free(tls_ca *ca) {
  if (ca == NULL)
    return;
  g_free(ca->name);
  g_bytes_unref(ca->der);
  g_free(ca->pem);
  OPENSSL_cleanse(ca->key, sizeof ca->key);
  g_free(ca);
}

static bool name_ok(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > 253)
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] <= 0x20 || s[i] >= 0x7f)
      return false;
  return true;
}

static uint64_t serial_of(const char *const *names, size_t n) {
  GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      g_checksum_update(c, (const guchar *)"\n", 1);
    g_checksum_update(c, (const guchar *)names[i], (gssize)strlen(names[i]));
  }
  uint8_t d[32];
  gsize len = sizeof d;
  g_checksum_get_digest(c, d, &len);
  g_checksum_free(c);
  uint64_t s = 0;
  for (int i = 0; i < 8; i++)
    s = s << 8 | d[i];
  s &= ~(UINT64_C(1) << 63);
  return s ? s : 1;
}

static void add_san(X509 *x, const char *const *names, size_t n) {
  GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
  CHECK(gens != NULL);
  for (size_t i = 0; i < n; i++) {
    GENERAL_NAME *gn = GENERAL_NAME_new();
    CHECK(gn != NULL);
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(names[i]);
    if (ip != NULL) {
      GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
    } else {
      ERR_clear_error();
      ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
      CHECK(ia5 != NULL);
      CHECK(ASN1_STRING_set(ia5, names[i], -1));
      GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
    }
    CHECK(sk_GENERAL_NAME_push(gens, gn) > 0);
  }
  CHECK(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1);
  GENERAL_NAMES_free(gens);
}

tls_cred *tls_cred_new(OSSL_LIB_CTX *libctx, const tls_ca *ca, const char *const *names, size_t n,
                       const uint8_t seed[TLS_RAND_SEED_LEN], const tls_cert_validity *v) {
  g_assert(ca != NULL && names != NULL);
  if (n == 0)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (!name_ok(names[i]))
      return NULL;
  tls_cred *cred = g_new0(tls_cred, 1);
  tls_rand_derive(cred->key, seed, "mailsim leaf key");
  EVP_PKEY *k = key_from_raw(libctx, cred->key);
  EVP_PKEY *cak = key_from_raw(libctx, ca->key);
  X509 *cax = from_der(libctx, ca->der);
  X509_NAME *subj = cn_name(names[0]);
  X509 *x = cert_start(libctx, serial_of(names, n), subj, X509_get_subject_name(cax), v, k);
  add_san(x, names, n);
  add_ext(x, cax, NID_basic_constraints, "CA:FALSE");
  add_ext(x, cax, NID_key_usage, "critical,digitalSignature");
  add_ext(x, cax, NID_ext_key_usage, "serverAuth,clientAuth");
  add_ext(x, cax, NID_subject_key_identifier, "hash");
  add_ext(x, cax, NID_authority_key_identifier, "keyid:always");
  CHECK(X509_sign(x, cak, NULL) > 0);
  cred->der = to_der(x);
  cred->ca_der = g_bytes_ref(ca->der);
  cred->pem = cert_pem(x);
  BIO *bio = BIO_new(BIO_s_mem());
  CHECK(bio != NULL);
  CHECK(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL));
  cred->key_pem = bio_text(bio);
  X509_free(x);
  X509_NAME_free(subj);
  X509_free(cax);
  EVP_PKEY_free(cak);
  EVP_PKEY_free(k);
  return cred;
}

void tls_cred_free(tls_cred *cred) {
  if (cred == NULL)
    return;
  g_bytes_unref(cred->der);
  g_bytes_unref(cred->ca_der);
  g_free(cred->pem);
  if (cred->key_pem != NULL)
    OPENSSL_cleanse(cred->key_pem, strlen(cred->key_pem));
  g_free(cred->key_pem);
  OPENSSL_cleanse(cred->key, sizeof cred->key);
  g_free(cred);
}

static const uint8_t *bytes_view(GBytes *b, size_t *len) {
  gsize n;
  const uint8_t *p = g_bytes_get_data(b, &n);
  *len = n;
  return p;
}

const char *tls_ca_cert_pem(const tls_ca *ca) { return ca->pem; }
const uint8_t *tls_ca_cert_der(const tls_ca *ca, size_t *len) { return bytes_view(ca->der, len); }
const char *tls_ca_name(const tls_ca *ca) { return ca->name; }
const char *tls_cred_cert_pem(const tls_cred *cred) { return cred->pem; }
const char *tls_cred_key_pem(const tls_cred *cred) { return cred->key_pem; }
const uint8_t *tls_cred_cert_der(const tls_cred *cred, size_t *len) {
  return bytes_view(cred->der, len);
}
const uint8_t *tls_cred_key_raw(const tls_cred *cred) { return cred->key; }
const uint8_t *tls_cred_ca_der(const tls_cred *cred, size_t *len) {
  return bytes_view(cred->ca_der, len);
}
