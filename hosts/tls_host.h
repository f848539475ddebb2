/* tls_host.h — TLS identities of a simulated world: one CA, and per host
 * its credentials and OpenSSL contexts, all derived from the world's seed.
 *
 * tls_world makes the world's CA (stream "tls:ca"): every simulated host
 * trusts it, and live mode can export it so real clients verify STARTTLS.
 * tls_host gives a host a certificate for its names, a server and a client
 * context, and a fresh seed for each connection drawn from its own stream
 * ("tls:NAME"), so TLS bytes are reproducible and independent per host.
 */
#ifndef MAILSIM_TLS_HOST_H
#define MAILSIM_TLS_HOST_H

#include "host.h"
#include "tls_conn.h"

typedef struct tls_world tls_world;
typedef struct tls_host tls_host;

tls_world *tls_world_new(sim_world *w);
void tls_world_free(tls_world *tw);
const tls_ca *tls_world_ca(const tls_world *tw);

/* Credentials for host H under NAMES (DNS names or IP literals; at least
 * one). Aborts if OpenSSL refuses them (names come from a checked
 * scenario). */
tls_host *tls_host_new(tls_world *tw, host *h, const char *const *names, size_t n);
void tls_host_free(tls_host *th);
/* A new connection endpoint. Client: verifies the peer against the world's
 * CA and SERVER_NAME, and offers the newest session ticket it holds for
 * SERVER_NAME (RFC 8446 §2.2 resumption, psk_dhe_ke; the server's hint and
 * 3600 s bound its use); tickets the connection receives replace it.
 * Server: issues one ticket per handshake, accepted for 3600 s of
 * simulated time. A connection must be freed before TH. */
tls_conn *tls_host_conn(tls_host *th, tls_conn_role role, const char *server_name);

/* The services a host's TLS is for. A listener offers STARTTLS/STLS and a
 * client asks for it only when the host's TLS is on for the service:
 * submission (port 587 and the mail client submitting), relay (port 25 and
 * MTA-to-MTA delivery), lmtp (the final MX to its mailbox host), imap and
 * pop3 (the mailbox host and the client fetching). */
typedef enum {
  TLS_HOST_SUBMISSION,
  TLS_HOST_RELAY,
  TLS_HOST_LMTP,
  TLS_HOST_IMAP,
  TLS_HOST_POP3,
  TLS_HOST__SERVICES
} tls_host_service;
#define TLS_HOST_ALL_SERVICES ((1u << TLS_HOST__SERVICES) - 1)
/* MASK: a set of 1u << tls_host_service (default: all). */
void tls_host_set_services(tls_host *th, unsigned mask);
/* Whether TH (NULL: a host without TLS, false) uses TLS for SERVICE. */
bool tls_host_on(const tls_host *th, tls_host_service service);

/* Faults (issue 10): while set, the host's SERVER side fails. CERT_MISMATCH:
 * it shows a certificate (from the world's CA) for the name
 * "wrong-name.invalid", so a verifying client fails with "hostname
 * mismatch". HANDSHAKE: it offers TLS 1.2 only with a cipher no client
 * shares, so the handshake ends with a handshake_failure alert. Client
 * connections are unaffected. The fault credentials come from their own
 * stream ("tls-fault:NAME"): turning a fault on changes no other draw. */
typedef enum { TLS_HOST_FAULT_NONE, TLS_HOST_FAULT_CERT_MISMATCH, TLS_HOST_FAULT_HANDSHAKE } tls_host_fault;
void tls_host_set_fault(tls_host *th, tls_host_fault f);
tls_host_fault tls_host_get_fault(const tls_host *th);

#endif
