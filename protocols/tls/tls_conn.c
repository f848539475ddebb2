/* tls_conn.c — the TLS adapter: an SSL object between two memory BIOs,
 * driven by the owner's bytes and simulated time (see tls_conn.h).
 *
 * TLS 1.3 is RFC 8446, TLS 1.2 RFC 5246; SNI is RFC 6066 §3; server
 * identity checks follow RFC 6125 (OpenSSL's X509_check_host through
 * SSL_set1_host); close_notify is RFC 8446 §6.1. Where the wall clock could
 * enter: certificate validity (we set the verification time from NOW),
 * session tickets (off unless asked: SSL_OP_NO_TICKET for 1.2, num_tickets
 * 0 for 1.3, RFC 8446 §4.6.1; when on, see "resumption" below) and the
 * session cache (off on servers: tickets are stateless; clients keep their
 * sessions outside OpenSSL). SSL_SESSION objects carry a creation time;
 * with tickets on it is set from simulated time wherever it reaches the wire.
 *
 * Every call into libssl happens between enter() and leave(): enter binds
 * the connection's random stream to the context (tls_rand_bind), clears the
 * thread's error queue and sets the verification time; leave moves the
 * ciphertext OpenSSL wrote into our output buffer and restores the stream.
 */
#include "tls_conn.h"

#include <glib.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

struct tls_conn_ctx {
  tls_rand *rand;
  SSL_CTX *ssl_ctx;
  tls_conn_role role;
  bool verify;
  bool tickets;
  bool keylog;             /* the key log callback is set */
  int64_t ticket_lifetime; /* ns */
};

struct tls_session {
  SSL_SESSION *sess;
  int64_t received, lifetime; /* ns */
};

/* A byte queue: data[off..len) is pending. */
typedef struct {
  GByteArray *b;
  size_t off;
} bytes_q;

struct tls_conn {
  tls_conn_ctx *ctx;
  SSL *ssl;
  BIO *rbio, *wbio; /* owned by ssl */
  tls_rand_stream stream;
  tls_rand_stream *saved;
  tls_conn_env env;
  tls_conn_state state;
  bool up; /* the handshake completed */
  bytes_q cout, pin;
  GByteArray *pending; /* plaintext written during the handshake */
  GArray *events;      /* tls_conn_event, FIFO */
  size_t ev_next;
  GPtrArray *strings; /* owned strings the events point to */
  char *server_name;  /* client: as given, or NULL */
  GString *keylog;    /* NSS key log lines (tls_conn_keylog) */
  int64_t now;        /* of the current call, for OpenSSL's callbacks */
};

static const char *const role_names[] = {"client", "server"};
static const char *const trace_names[] = {"state", "note"};
static const char *const state_names[] = {"HANDSHAKE", "OPEN", "CLOSED", "SHUTDOWN", "FAILED"};
static const char *const event_names[] = {"ESTABLISHED", "FAILED", "CLOSED"};
G_STATIC_ASSERT(G_N_ELEMENTS(trace_names) == TLS_CONN_TRACE__COUNT);
G_STATIC_ASSERT(G_N_ELEMENTS(state_names) == TLS_CONN__COUNT);
G_STATIC_ASSERT(G_N_ELEMENTS(event_names) == TLS_CONN_EV__COUNT);

const char *tls_conn_role_name(tls_conn_role r) {
  g_assert((unsigned)r < G_N_ELEMENTS(role_names));
  return role_names[r];
}
const char *tls_conn_trace_kind_name(tls_conn_trace_kind k) {
  g_assert((unsigned)k < TLS_CONN_TRACE__COUNT);
  return trace_names[k];
}
const char *tls_conn_state_name(tls_conn_state s) {
  g_assert((unsigned)s < TLS_CONN__COUNT);
  return state_names[s];
}
const char *tls_conn_event_type_name(tls_conn_event_type t) {
  g_assert((unsigned)t < TLS_CONN_EV__COUNT);
  return event_names[t];
}

/* ---- the context ---- */

void tls_conn_config_init(tls_conn_config *cfg, tls_conn_role role) {
  memset(cfg, 0, sizeof *cfg);
  cfg->role = role;
  cfg->verify = true;
  cfg->min_version = TLS_CONN_V1_2;
  cfg->max_version = TLS_CONN_V1_3;
  cfg->ticket_lifetime = INT64_C(3600) * 1000000000;
}

static int proto_version(tls_conn_version v) {
  switch (v) {
  case TLS_CONN_V1_2:
    return TLS1_2_VERSION;
  case TLS_CONN_V1_3:
    return TLS1_3_VERSION;
  default:
    g_error("tls_conn: bad version %d", (int)v);
  }
}

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

static X509 *x509_from_der(OSSL_LIB_CTX *libctx, const uint8_t *der, size_t len) {
  X509 *x = X509_new_ex(libctx, NULL);
  CHECK(x != NULL);
  const unsigned char *p = der;
  CHECK(d2i_X509(&x, &p, (long)len) != NULL);
  return x;
}

static bool set_err(char **err, const char *msg) {
  if (err != NULL)
    *err = g_strdup(msg);
  return false;
}

/* OpenSSL hands each secret as one key log line, without its LF. */
static void keylog_cb(const SSL *ssl, const char *line) {
  tls_conn *c = SSL_get_app_data(ssl);
  if (c == NULL)
    return;
  g_string_append(c->keylog, line);
  g_string_append_c(c->keylog, '\n');
}

/* ---- resumption ---- */

void tls_session_free(tls_session *s) {
  if (s == NULL)
    return;
  SSL_SESSION_free(s->sess);
  g_free(s);
}
int64_t tls_session_received(const tls_session *s) { return s->received; }
int64_t tls_session_lifetime(const tls_session *s) { return s->lifetime; }

static time_t sim_unix(int64_t now) { return (time_t)(TLS_EPOCH_UNIX + now / 1000000000); }

/* Server, before a ticket is encrypted (RFC 8446 §4.6.1): OpenSSL has just
 * stamped the session with time(NULL); the ticket carries it, so put the
 * simulated time there instead, and the exact issue time (ns) as the
 * ticket's application data for the age check when it comes back. */
static int ticket_gen(SSL *ssl, void *arg) {
  (void)arg;
  tls_conn *c = SSL_get_app_data(ssl);
  SSL_SESSION *sess = SSL_get0_session(ssl);
  if (c == NULL || sess == NULL)
    return 0;
  (void)SSL_SESSION_set_time(sess, (long)sim_unix(c->now));
  uint8_t issued[8];
  for (int i = 0; i < 8; i++)
    issued[i] = (uint8_t)((uint64_t)c->now >> (8 * i));
  return SSL_SESSION_set1_ticket_appdata(sess, issued, sizeof issued);
}

/* Server, a ticket came back: decrypted, is it young enough in simulated
 * time (RFC 8446 §4.6.1: not past its lifetime)? Too old or unreadable:
 * ignore it (a full handshake) and issue a new one. */
static SSL_TICKET_RETURN ticket_dec(SSL *ssl, SSL_SESSION *sess, const unsigned char *keyname,
                                    size_t keyname_length, SSL_TICKET_STATUS status, void *arg) {
  (void)keyname;
  (void)keyname_length;
  (void)arg;
  tls_conn *c = SSL_get_app_data(ssl);
  switch (status) {
  case SSL_TICKET_SUCCESS:
  case SSL_TICKET_SUCCESS_RENEW:
    break;
  case SSL_TICKET_EMPTY:
  case SSL_TICKET_NO_DECRYPT:
    return SSL_TICKET_RETURN_IGNORE_RENEW;
  default:
    return SSL_TICKET_RETURN_ABORT;
  }
  void *data = NULL;
  size_t len = 0;
  if (c == NULL || sess == NULL || !SSL_SESSION_get0_ticket_appdata(sess, &data, &len) || len != 8)
    return SSL_TICKET_RETURN_IGNORE_RENEW;
  uint64_t issued = 0;
  for (int i = 0; i < 8; i++)
    issued |= (uint64_t)((const uint8_t *)data)[i] << (8 * i);
  if ((int64_t)issued > c->now || c->now - (int64_t)issued > c->ctx->ticket_lifetime)
    return SSL_TICKET_RETURN_IGNORE_RENEW;
  /* The age is checked (above, in simulated time). OpenSSL then checks it
   * again against time(NULL) and the session's time, the simulated one we
   * stamped (months apart from the wall clock): make that check pass. The
   * value goes nowhere else: a ticket issued on this connection is stamped
   * by ticket_gen again. */
  (void)SSL_SESSION_set_time(sess, (long)time(NULL));
  return SSL_TICKET_RETURN_USE_RENEW;
}

/* Client: a NewSessionTicket arrived (TLS 1.3: after the handshake, read
 * with the application data). */
static int new_session(SSL *ssl, SSL_SESSION *sess) {
  tls_conn *c = SSL_get_app_data(ssl);
  if (c == NULL || c->env.new_session == NULL || !SSL_SESSION_is_resumable(sess))
    return 0;
  tls_session *s = g_new0(tls_session, 1);
  /* A copy: SSL_free of a connection not shut down cleanly marks the
   * connection's current session (this one) not resumable. */
  s->sess = SSL_SESSION_dup(sess);
  CHECK(s->sess != NULL);
  s->received = c->now;
  s->lifetime = (int64_t)SSL_SESSION_get_ticket_lifetime_hint(sess) * 1000000000;
  c->env.new_session(c->env.session_ctx, s);
  return 0;
}

tls_conn_ctx *tls_conn_ctx_new(tls_rand *rand, const tls_conn_config *cfg, char **err) {
  g_assert(rand != NULL && cfg != NULL);
  g_assert(cfg->role == TLS_CONN_CLIENT || cfg->role == TLS_CONN_SERVER);
  if (cfg->role == TLS_CONN_SERVER && cfg->cred == NULL) {
    set_err(err, "a TLS server needs credentials");
    return NULL;
  }
  if (cfg->min_version > cfg->max_version) {
    set_err(err, "min_version is above max_version");
    return NULL;
  }
  OSSL_LIB_CTX *libctx = tls_rand_libctx(rand);
  ERR_clear_error();
  /* SSL_CTX_new draws the ticket keys: from RAND's own base stream. */
  tls_rand_stream *saved = tls_rand_bind(rand, tls_rand_base(rand));
  SSL_CTX *sc = SSL_CTX_new_ex(
      libctx, NULL, cfg->role == TLS_CONN_CLIENT ? TLS_client_method() : TLS_server_method());
  CHECK(sc != NULL);
  CHECK(SSL_CTX_set_min_proto_version(sc, proto_version(cfg->min_version)));
  CHECK(SSL_CTX_set_max_proto_version(sc, proto_version(cfg->max_version)));
  if (cfg->cipher_list)
    CHECK(SSL_CTX_set_cipher_list(sc, cfg->cipher_list) == 1);
  if (cfg->tickets && (cfg->ticket_lifetime < 1000000000 ||
                       cfg->ticket_lifetime > INT64_C(7) * 86400 * 1000000000)) {
    set_err(err, "ticket_lifetime is outside 1 s .. 7 days (RFC 8446 4.6.1)");
    SSL_CTX_free(sc);
    tls_rand_bind(rand, saved);
    return NULL;
  }
  SSL_CTX_set_options(sc, SSL_OP_NO_RENEGOTIATION);
  /* The record buffers (~34 KiB per connection) are given back between
   * records: thousands of mostly idle sessions (mail clients fetching at
   * the same minute) otherwise hold them all. Nothing on the wire changes. */
  SSL_CTX_set_mode(sc, SSL_MODE_RELEASE_BUFFERS);
  if (!cfg->tickets) {
    SSL_CTX_set_options(sc, SSL_OP_NO_TICKET);
    CHECK(SSL_CTX_set_num_tickets(sc, 0));
    SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
  } else if (cfg->role == TLS_CONN_SERVER) {
    CHECK(SSL_CTX_set_num_tickets(sc, 1)); /* one per handshake, as Postfix's smtpd */
    SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
    (void)SSL_CTX_set_timeout(sc,
                              (long)(cfg->ticket_lifetime / 1000000000)); /* the lifetime hint */
    CHECK(SSL_CTX_set_session_ticket_cb(sc, ticket_gen, ticket_dec, NULL) == 1);
  } else {
    SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(sc, new_session);
  }
  SSL_CTX_set_keylog_callback(sc, keylog_cb);
  if (cfg->cred != NULL) {
    size_t len;
    const uint8_t *der = tls_cred_cert_der(cfg->cred, &len);
    X509 *x = x509_from_der(libctx, der, len);
    EVP_PKEY *k =
        EVP_PKEY_new_raw_private_key_ex(libctx, "ED25519", NULL, tls_cred_key_raw(cfg->cred), 32);
    CHECK(k != NULL);
    CHECK(SSL_CTX_use_certificate(sc, x) == 1);
    CHECK(SSL_CTX_use_PrivateKey(sc, k) == 1);
    CHECK(SSL_CTX_check_private_key(sc) == 1);
    X509_free(x);
    EVP_PKEY_free(k);
  }
  if (cfg->trust != NULL) {
    size_t len;
    const uint8_t *der = tls_ca_cert_der(cfg->trust, &len);
    X509 *x = x509_from_der(libctx, der, len);
    CHECK(X509_STORE_add_cert(SSL_CTX_get_cert_store(sc), x) == 1);
    X509_free(x);
  }
  int mode = SSL_VERIFY_NONE;
  if (cfg->verify)
    mode = cfg->role == TLS_CONN_CLIENT ? SSL_VERIFY_PEER
                                        : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(sc, mode, NULL);
  tls_rand_bind(rand, saved);
  tls_conn_ctx *ctx = g_new0(tls_conn_ctx, 1);
  ctx->rand = rand;
  ctx->ssl_ctx = sc;
  ctx->role = cfg->role;
  ctx->verify = cfg->verify;
  ctx->tickets = cfg->tickets;
  ctx->ticket_lifetime = cfg->ticket_lifetime;
  ctx->keylog = true;
  return ctx;
}

void tls_conn_ctx_set_keylog(tls_conn_ctx *ctx, bool on) {
  if (ctx->keylog == on)
    return;
  SSL_CTX_set_keylog_callback(ctx->ssl_ctx, on ? keylog_cb : NULL);
  ctx->keylog = on;
}

void tls_conn_ctx_free(tls_conn_ctx *ctx) {
  if (ctx == NULL)
    return;
  SSL_CTX_free(ctx->ssl_ctx);
  g_free(ctx);
}

/* ---- byte queues ---- */

static void q_init(bytes_q *q) {
  q->b = g_byte_array_new();
  q->off = 0;
}

static const uint8_t *q_peek(const bytes_q *q, size_t *len) {
  static const uint8_t empty[1];
  *len = q->b->len - q->off;
  return q->b->data != NULL ? q->b->data + q->off : empty; /* never NULL + 0 */
}

static void q_consume(bytes_q *q, size_t n) {
  g_assert(n <= q->b->len - q->off);
  q->off += n;
  if (q->off == q->b->len) {
    g_byte_array_set_size(q->b, 0);
    q->off = 0;
  } else if (q->off >= 65536 && q->off * 2 >= q->b->len) {
    g_byte_array_remove_range(q->b, 0, (guint)q->off);
    q->off = 0;
  }
}

/* ---- tracing, state, events ---- */

G_GNUC_PRINTF(4, 5)
static void trace(tls_conn *c, int64_t now, tls_conn_trace_kind kind, const char *fmt, ...) {
  if (c->env.trace == NULL)
    return;
  va_list ap;
  va_start(ap, fmt);
  char *text = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  c->env.trace(c->env.ctx, now, kind, text);
  g_free(text);
}

static void enter_state(tls_conn *c, tls_conn_state s, int64_t now) {
  if (c->state == s)
    return;
  switch (s) {
  case TLS_CONN_HANDSHAKE:
    g_error("tls_conn: no way back to HANDSHAKE");
  case TLS_CONN_OPEN:
    g_assert(c->state == TLS_CONN_HANDSHAKE);
    break;
  case TLS_CONN_SHUTDOWN:
  case TLS_CONN_CLOSED:
  case TLS_CONN_FAILED:
    g_assert(c->state != TLS_CONN_CLOSED && c->state != TLS_CONN_FAILED);
    break;
  default:
    g_error("tls_conn: bad state %d", (int)s);
  }
  trace(c, now, TLS_CONN_TRACE_STATE, "%s -> %s", state_names[c->state], state_names[s]);
  c->state = s;
}

/* A copy owned by C, with bytes outside printable ASCII replaced by '?'
 * (peer-controlled text never reaches a trace raw). */
static const char *keep(tls_conn *c, const char *s) {
  char *k = g_strdup(s ? s : "");
  for (char *p = k; *p; p++)
    if (*p < 0x20 || *p > 0x7e)
      *p = '?';
  g_ptr_array_add(c->strings, k);
  return k;
}

static void push_event(tls_conn *c, const tls_conn_event *ev) {
  g_array_append_val(c->events, *ev);
}

/* ---- around libssl ---- */

static void enter(tls_conn *c, int64_t now) {
  g_assert(now >= 0);
  c->now = now;
  c->saved = tls_rand_bind(c->ctx->rand, &c->stream);
  ERR_clear_error();
  X509_VERIFY_PARAM_set_time(SSL_get0_param(c->ssl), (time_t)(TLS_EPOCH_UNIX + now / 1000000000));
}

static void leave(tls_conn *c) {
  size_t n;
  while ((n = BIO_ctrl_pending(c->wbio)) > 0) {
    guint old = c->cout.b->len;
    g_byte_array_set_size(c->cout.b, old + (guint)n);
    int r = BIO_read(c->wbio, c->cout.b->data + old, (int)n);
    g_assert(r == (int)n);
  }
  ERR_clear_error();
  tls_rand_bind(c->ctx->rand, c->saved);
  c->saved = NULL;
}

/* Why the last libssl call failed, from the thread's error queue (RFC 8446
 * §6.2 alerts show as "tlsv1 alert …" / "sslv3 alert …"). */
static const char *failure_reason(tls_conn *c, int ssl_err) {
  unsigned long e = ERR_get_error();
  if (e == 0)
    return keep(c, ssl_err == SSL_ERROR_SYSCALL ? "unexpected end of stream" : "protocol error");
  const char *r = ERR_reason_error_string(e);
  if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    long vr = SSL_get_verify_result(c->ssl);
    if (vr != X509_V_OK) {
      char *s = g_strdup_printf("certificate verify failed: %s", X509_verify_cert_error_string(vr));
      const char *k = keep(c, s);
      g_free(s);
      return k;
    }
  }
  if (r != NULL)
    return keep(c, r);
  char buf[64];
  g_snprintf(buf, sizeof buf, "error %lu", e);
  return keep(c, buf);
}

static void fail(tls_conn *c, int ssl_err, int64_t now) {
  tls_conn_event ev = {.type = TLS_CONN_EV_FAILED, .reason = failure_reason(c, ssl_err)};
  trace(c, now, TLS_CONN_TRACE_NOTE, "failed: %s", ev.reason);
  enter_state(c, TLS_CONN_FAILED, now);
  g_byte_array_set_size(c->pending, 0);
  push_event(c, &ev);
}

static void established(tls_conn *c, int64_t now) {
  tls_conn_event ev = {.type = TLS_CONN_EV_ESTABLISHED};
  ev.version = SSL_get_version(c->ssl);
  ev.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(c->ssl));
  int nid = SSL_get_negotiated_group(c->ssl);
  const char *g = nid > 0 ? SSL_group_to_name(c->ssl, nid) : NULL;
  ev.group = keep(c, g);
  X509 *peer = SSL_get0_peer_certificate(c->ssl);
  ev.peer_verified = peer != NULL && SSL_get_verify_result(c->ssl) == X509_V_OK;
  ev.resumed = SSL_session_reused(c->ssl) == 1;
  char cn[256] = "";
  if (peer != NULL &&
      X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn) < 0)
    cn[0] = '\0';
  ev.peer_subject = keep(c, cn);
  if (c->ctx->role == TLS_CONN_CLIENT)
    ev.server_name = keep(c, c->server_name);
  else
    ev.server_name = keep(c, SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name));
  trace(c, now, TLS_CONN_TRACE_NOTE, "established %s %s %s peer=%s verified=%s%s", ev.version,
        ev.cipher, ev.group, ev.peer_subject, ev.peer_verified ? "yes" : "no",
        ev.resumed ? " resumed" : "");
  enter_state(c, TLS_CONN_OPEN, now);
  push_event(c, &ev);
}

static bool write_now(tls_conn *c, const void *buf, size_t len, int64_t now) {
  if (len == 0)
    return true;
  size_t written = 0;
  int r = SSL_write_ex(c->ssl, buf, len, &written);
  if (r != 1) {
    fail(c, SSL_get_error(c->ssl, r), now);
    return false;
  }
  g_assert(written == len); /* memory BIOs never push back */
  return true;
}

/* Runs the handshake and the reads as far as the input allows. */
static void pump(tls_conn *c, int64_t now) {
  if (c->state == TLS_CONN_HANDSHAKE) {
    int r = SSL_do_handshake(c->ssl);
    if (r != 1) {
      int e = SSL_get_error(c->ssl, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        fail(c, e, now);
      return;
    }
    c->up = true;
    established(c, now);
    if (c->pending->len > 0) {
      if (!write_now(c, c->pending->data, c->pending->len, now))
        return;
      g_byte_array_set_size(c->pending, 0);
    }
  }
  if (!c->up || (c->state != TLS_CONN_OPEN && c->state != TLS_CONN_SHUTDOWN))
    return;
  for (;;) {
    uint8_t buf[16384];
    size_t got = 0;
    int r = SSL_read_ex(c->ssl, buf, sizeof buf, &got);
    if (r == 1) {
      g_byte_array_append(c->pin.b, buf, (guint)got);
      continue;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
      return;
    if (e == SSL_ERROR_ZERO_RETURN) {
      tls_conn_event ev = {.type = TLS_CONN_EV_CLOSED};
      enter_state(c, TLS_CONN_CLOSED, now);
      push_event(c, &ev);
      return;
    }
    fail(c, e, now);
    return;
  }
}

/* ---- the connection ---- */

static bool is_ip_literal(const char *name) {
  ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
  ERR_clear_error();
  if (ip == NULL)
    return false;
  ASN1_OCTET_STRING_free(ip);
  return true;
}

/* The SSL object and its BIOs; the client's server name. */
static void make_ssl(tls_conn *c, const char *server_name) {
  tls_conn_ctx *ctx = c->ctx;
  c->saved = tls_rand_bind(ctx->rand, &c->stream);
  ERR_clear_error();
  c->ssl = SSL_new(ctx->ssl_ctx);
  CHECK(c->ssl != NULL);
  c->keylog = g_string_new(NULL);
  CHECK(SSL_set_app_data(c->ssl, c) == 1);
  c->rbio = BIO_new(BIO_s_mem());
  c->wbio = BIO_new(BIO_s_mem());
  CHECK(c->rbio != NULL && c->wbio != NULL);
  BIO_set_mem_eof_return(c->rbio, -1); /* empty = "want read", not EOF */
  SSL_set_bio(c->ssl, c->rbio, c->wbio);
  if (ctx->role == TLS_CONN_CLIENT) {
    SSL_set_connect_state(c->ssl);
    if (server_name != NULL && *server_name != '\0') {
      if (is_ip_literal(server_name)) {
        CHECK(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), server_name) == 1);
      } else {
        CHECK(SSL_set_tlsext_host_name(c->ssl, server_name) == 1);
        CHECK(SSL_set1_host(c->ssl, server_name) == 1);
      }
    }
  } else {
    SSL_set_accept_state(c->ssl);
  }
  tls_rand_bind(ctx->rand, c->saved);
}

tls_conn *tls_conn_new(tls_conn_ctx *ctx, const char *server_name,
                       const uint8_t seed[TLS_RAND_SEED_LEN], const tls_conn_env *env,
                       int64_t now) {
  return tls_conn_new_resume(ctx, server_name, NULL, seed, env, now);
}

tls_conn *tls_conn_new_resume(tls_conn_ctx *ctx, const char *server_name,
                              const tls_session *session, const uint8_t seed[TLS_RAND_SEED_LEN],
                              const tls_conn_env *env, int64_t now) {
  g_assert(ctx != NULL && seed != NULL && now >= 0);
  g_assert(session == NULL || ctx->role == TLS_CONN_CLIENT);
  if (session != NULL && (now < session->received || now - session->received > session->lifetime))
    session = NULL; /* expired: not offered */
  tls_conn *c = g_new0(tls_conn, 1);
  c->ctx = ctx;
  c->now = now;
  tls_rand_stream_init(&c->stream, seed);
  if (env != NULL)
    c->env = *env;
  c->state = TLS_CONN_HANDSHAKE;
  q_init(&c->cout);
  q_init(&c->pin);
  c->pending = g_byte_array_new();
  c->events = g_array_new(FALSE, FALSE, sizeof(tls_conn_event));
  c->strings = g_ptr_array_new_with_free_func(g_free);
  if (ctx->role == TLS_CONN_CLIENT && server_name != NULL && *server_name != '\0')
    c->server_name = g_strdup(server_name);
  make_ssl(c, server_name);
  trace(c, now, TLS_CONN_TRACE_NOTE, "start %s%s%s%s", role_names[ctx->role],
        c->server_name ? " sni=" : "", c->server_name ? c->server_name : "",
        session ? " resume" : "");
  if (ctx->role != TLS_CONN_CLIENT)
    return c;
  for (;;) {
    time_t wall = 0;
    if (session != NULL) {
      /* OpenSSL writes the ticket's age (RFC 8446 §4.2.11.1) as time(NULL)
       * minus the session's time: make that the simulated age. */
      /* A copy per connection: OpenSSL marks a session it has used, and
       * the cached one stays untouched (several connections may offer it). */
      SSL_SESSION *use = SSL_SESSION_dup(session->sess);
      CHECK(use != NULL);
      wall = time(NULL);
      (void)SSL_SESSION_set_time(use,
                                 (long)(wall - (time_t)((now - session->received) / 1000000000)));
      CHECK(SSL_set_session(c->ssl, use) == 1);
      SSL_SESSION_free(use);
    }
    enter(c, now);
    pump(c, now); /* the ClientHello */
    leave(c);
    if (session == NULL || time(NULL) == wall)
      break;
    /* The wall-clock second changed while the ClientHello was built: its
     * age may be off by one. Build it again from the same seed. */
    SSL_free(c->ssl);
    g_byte_array_set_size(c->cout.b, 0);
    c->cout.off = 0;
    g_array_set_size(c->events, 0);
    c->ev_next = 0;
    g_assert(c->state == TLS_CONN_HANDSHAKE);
    tls_rand_stream_init(&c->stream, seed);
    make_ssl(c, server_name);
  }
  return c;
}

void tls_conn_free(tls_conn *c) {
  if (c == NULL)
    return;
  SSL_free(c->ssl); /* frees both BIOs */
  g_byte_array_unref(c->cout.b);
  g_byte_array_unref(c->pin.b);
  g_byte_array_unref(c->pending);
  g_array_unref(c->events);
  g_ptr_array_unref(c->strings);
  g_free(c->server_name);
  g_string_free(c->keylog, TRUE);
  g_free(c);
}

void tls_conn_feed_cipher(tls_conn *c, const void *buf, size_t len, int64_t now) {
  if (c->state == TLS_CONN_FAILED || c->state == TLS_CONN_CLOSED || len == 0)
    return;
  g_assert(len <= INT_MAX);
  int w = BIO_write(c->rbio, buf, (int)len);
  g_assert(w == (int)len);
  enter(c, now);
  pump(c, now);
  leave(c);
}

const uint8_t *tls_conn_cipher_peek(const tls_conn *c, size_t *len) {
  return q_peek(&c->cout, len);
}
void tls_conn_cipher_consume(tls_conn *c, size_t n) { q_consume(&c->cout, n); }
const uint8_t *tls_conn_plain_peek(const tls_conn *c, size_t *len) { return q_peek(&c->pin, len); }
void tls_conn_plain_consume(tls_conn *c, size_t n) { q_consume(&c->pin, n); }

size_t tls_conn_read_plain(tls_conn *c, void *buf, size_t cap) {
  size_t len;
  const uint8_t *p = q_peek(&c->pin, &len);
  size_t n = MIN(len, cap);
  if (n > 0)
    memcpy(buf, p, n);
  q_consume(&c->pin, n);
  return n;
}

bool tls_conn_write_plain(tls_conn *c, const void *buf, size_t len, int64_t now) {
  g_assert(len <= G_MAXUINT && (buf != NULL || len == 0));
  switch (c->state) {
  case TLS_CONN_HANDSHAKE:
    g_byte_array_append(c->pending, buf, (guint)len);
    return true;
  case TLS_CONN_OPEN:
  case TLS_CONN_CLOSED: { /* the peer closed its side; ours is still open */
    enter(c, now);
    bool ok = write_now(c, buf, len, now);
    leave(c);
    return ok;
  }
  default:
    return false;
  }
}

bool tls_conn_next_event(tls_conn *c, tls_conn_event *ev) {
  if (c->ev_next == c->events->len) {
    g_array_set_size(c->events, 0);
    c->ev_next = 0;
    return false;
  }
  *ev = g_array_index(c->events, tls_conn_event, c->ev_next++);
  return true;
}

void tls_conn_close(tls_conn *c, int64_t now) {
  switch (c->state) {
  case TLS_CONN_HANDSHAKE: /* nothing to close cleanly yet: plaintext is dropped */
    g_byte_array_set_size(c->pending, 0);
    enter_state(c, TLS_CONN_SHUTDOWN, now);
    return;
  case TLS_CONN_OPEN:
  case TLS_CONN_CLOSED:
    enter(c, now);
    (void)SSL_shutdown(c->ssl); /* queues close_notify; 0 = the peer's is not in yet */
    leave(c);
    if (c->state == TLS_CONN_OPEN)
      enter_state(c, TLS_CONN_SHUTDOWN, now);
    return;
  default:
    return;
  }
}

tls_conn_state tls_conn_get_state(const tls_conn *c) { return c->state; }
tls_conn_role tls_conn_get_role(const tls_conn *c) { return c->ctx->role; }
const char *tls_conn_keylog(const tls_conn *c) { return c->keylog->str; }
uint64_t tls_conn_random_drawn(const tls_conn *c) { return c->stream.drawn; }
