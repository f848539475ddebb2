/* tls_cert.h — deterministic X.509 credentials for a simulated world: one
 * world CA and per-host leaf certificates, all Ed25519, made at run time.
 *
 * Everything is a function of its inputs: keys come from seeds (the raw
 * Ed25519 private key is SHA-256(seed || label), RFC 8032 §5.1.5 takes any
 * 32 bytes), serials and validity are fixed or derived from the names, and
 * Ed25519 signatures are deterministic (RFC 8032 §5.1.6), so the same seeds
 * and names give the same certificate bytes on every run and build.
 *
 * The objects hold plain bytes (DER certificate, raw key, PEM texts), not
 * OpenSSL objects, so they are tied to no library context: one CA can serve
 * many worlds and threads; tls_conn parses them into its own context.
 *
 * Profile (RFC 5280): X.509 v3; CA: subject = issuer = CN=<ca name>, serial 1,
 * basicConstraints critical CA:TRUE, keyUsage critical keyCertSign+cRLSign,
 * subjectKeyIdentifier. Leaf: subject CN=<first name>, issuer = the CA's
 * subject, serial = the first 8 octets of SHA-256 of the names joined by
 * "\n" with the top bit cleared (a positive INTEGER, §4.1.2.2), subjectAltName
 * with every name (dNSName, or iPAddress when the name is an IPv4/IPv6
 * literal, §4.2.1.6), basicConstraints CA:FALSE, keyUsage critical
 * digitalSignature, extendedKeyUsage serverAuth+clientAuth, subject and
 * authority key identifiers. Validity default: 2025-01-01T00:00:00Z to
 * 2035-01-01T00:00:00Z (UTCTime, §4.1.2.5.1).
 */
#ifndef MAILSIM_TLS_CERT_H
#define MAILSIM_TLS_CERT_H

#include <openssl/types.h>
#include <stddef.h>
#include <stdint.h>

#include "tls_rand.h"

#define TLS_CERT_NOT_BEFORE 1735689600 /* 2025-01-01T00:00:00Z */
#define TLS_CERT_NOT_AFTER 2051222400  /* 2035-01-01T00:00:00Z */
#define TLS_CERT_CA_NAME "mailsim CA"

/* Validity in Unix seconds (years 1950..2049: UTCTime). */
typedef struct {
  int64_t not_before, not_after;
} tls_cert_validity;

typedef struct tls_ca tls_ca;
typedef struct tls_cred tls_cred;

/* Makes the CA named NAME (NULL: TLS_CERT_CA_NAME) with the key derived from
 * SEED and validity V (NULL: the default). LIBCTX is only used while
 * building (any context; NULL is OpenSSL's default context). Never returns
 * NULL: OpenSSL failing on these fixed inputs is a broken installation and
 * aborts. */
tls_ca *tls_ca_new(OSSL_LIB_CTX *libctx, const uint8_t seed[TLS_RAND_SEED_LEN], const char *name,
                   const tls_cert_validity *v);
void tls_ca_free(tls_ca *ca);

/* Makes a leaf certificate for the N (>= 1) host NAMES, signed by CA, with
 * the key derived from SEED and validity V (NULL: the default). Returns NULL
 * when a name is empty, longer than 253 octets, or holds a byte outside
 * printable ASCII (names come from scenario files). */
tls_cred *tls_cred_new(OSSL_LIB_CTX *libctx, const tls_ca *ca, const char *const *names, size_t n,
                       const uint8_t seed[TLS_RAND_SEED_LEN], const tls_cert_validity *v);
void tls_cred_free(tls_cred *cred);

/* Borrowed views, valid until the object is freed. PEM texts end in "\n". */
const char *tls_ca_cert_pem(const tls_ca *ca);
const uint8_t *tls_ca_cert_der(const tls_ca *ca, size_t *len);
const char *tls_ca_name(const tls_ca *ca);
const char *tls_cred_cert_pem(const tls_cred *cred);
/* The leaf key as PKCS#8 PEM ("BEGIN PRIVATE KEY"), for real peers in tests
 * and live mode. */
const char *tls_cred_key_pem(const tls_cred *cred);
const uint8_t *tls_cred_cert_der(const tls_cred *cred, size_t *len);
/* The raw 32-octet Ed25519 private key. */
const uint8_t *tls_cred_key_raw(const tls_cred *cred);
/* The issuing CA's DER certificate (the chain a server may send). */
const uint8_t *tls_cred_ca_der(const tls_cred *cred, size_t *len);

#endif
