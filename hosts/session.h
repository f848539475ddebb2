/* session.h — one protocol engine on one simulated TCP connection.
 *
 * Every text protocol host (SMTP, IMAP, POP3, client or server side) does
 * the same work around its sans-I/O engine: feed the bytes that arrive,
 * send what the engine produced, run its timer at its deadline, and notice
 * when either side ends. The session does that once. The owner supplies the
 * engine's functions and a pump() that pulls the engine's events; the
 * session calls pump() after every input, timer and answered decision, then
 * flushes the engine's output.
 *
 * Line records. Input is fed to the engine one line at a time (up to and
 * including each LF), so that while the engine reports a received line the
 * session knows where that line began in the stream, and so when the peer
 * wrote it (sim_tcp_peer_write_time). session_trace_line() writes the
 * protocol record of that line: "conn", "from", "to", "sent", then the
 * owner's keys. The viewer draws it as an arrow from (from, sent) to
 * (to, t). When the trace is off at protocol detail there are no line
 * records, and each received chunk is fed whole (engines take any split).
 *
 * Lifetime: the session ends when the connection closes (either side,
 * reset, timeout) or the host crashes; the owner's closed() is called once
 * (not on a crash: the host's crash hook covers that) and the owner then
 * frees the session with session_free(). Never free it inside a callback of
 * its own other than closed(). At teardown, free sessions before the world
 * (host.h).
 */
#ifndef MAILSIM_SESSION_H
#define MAILSIM_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "host.h"
#include "sim_tcp.h"
#include "tls_conn.h"

/* The engine, as the session drives it. Any of deadline/tick may be NULL. */
typedef struct {
  void (*feed)(void *eng, const uint8_t *buf, size_t len, sim_time now);
  const uint8_t *(*peek)(void *eng, size_t *len);
  void (*consume)(void *eng, size_t n, sim_time now);
  sim_time (*deadline)(void *eng); /* INT64_MAX: none */
  void (*tick)(void *eng, sim_time now);
} session_engine;

typedef struct session session;

typedef struct {
  /* Pull and handle the engine's events (may call session_close etc.). */
  void (*pump)(void *owner, session *s);
  /* The connection is over (not called on a crash). */
  void (*closed)(void *owner, session *s, sim_tcp_reason why);
  /* Optional: the connection is established (client side). */
  void (*connected)(void *owner, session *s);
  /* Optional (needed with TLS): the TLS handshake finished (ESTABLISHED) or
   * failed (FAILED), or the peer sent close_notify (CLOSED). On
   * ESTABLISHED the owner tells its engine (e.g. smtp_srv_tls_started). */
  void (*tls_event)(void *owner, session *s, const tls_conn_event *ev);
} session_owner;

/* Server side: wraps an accepted connection (call from the accept
 * callback; the session installs its own connection callbacks: return
 * session_tcp_callbacks() and the session as the user pointer). */
session *session_accept(host *h, sim_tcp_conn *c, const session_engine *ops, void *eng,
                        const session_owner *owner, void *owner_user);
const sim_tcp_callbacks *session_tcp_callbacks(void);
/* Client side: connects to TO:PORT and runs the engine once connected.
 * ENG may be NULL: the owner then creates its engine in connected() and
 * hands it over with session_set_engine() (a connection that is refused
 * or times out never needs one); the session touches no engine before. */
session *session_connect(host *h, const sim_addr *to, uint16_t port,
                         const sim_tcp_options *opt, const session_engine *ops, void *eng,
                         const session_owner *owner, void *owner_user);
/* Gives a session connected without an engine its engine (from the
 * owner's connected(); the owner keeps owning ENG). */
void session_set_engine(session *s, void *eng);
void session_free(session *s);
/* Recycling (an owner that makes many sessions): session_keep ends S as
 * session_free does (same rules: from closed() or outside the session's
 * callbacks) but parks its block in the list *SPARES (linked through the
 * blocks) while it holds fewer than SESSION_SPARES_MAX, else frees it;
 * session_take pops one block from the list (NULL: empty);
 * session_accept_in / session_connect_in are session_accept /
 * session_connect in SPARE's block (one block, e.g. session_take's; NULL:
 * a new one), every field set afresh. The owner frees the list with
 * session_free (which frees the blocks behind S too) at teardown. */
#define SESSION_SPARES_MAX 4
void session_keep(session **spares, session *s);
session *session_take(session **spares);
session *session_accept_in(session *spare, host *h, sim_tcp_conn *c, const session_engine *ops,
                           void *eng, const session_owner *owner, void *owner_user);
session *session_connect_in(session *spare, host *h, const sim_addr *to, uint16_t port,
                            const sim_tcp_options *opt, const session_engine *ops, void *eng,
                            const session_owner *owner, void *owner_user);

/* Sends what the engine has produced and re-reads its deadline. Call it
 * (or session_kick) after every change made to the engine from outside
 * the session's own callbacks (an answered decision, a message queued, a
 * quit): nothing else sends that output or moves the timer — the session
 * does not flush when TCP reports everything acknowledged. */
void session_flush(session *s);
/* Runs pump() then flush(): after answering a decision from outside. */
void session_kick(session *s);
/* Wraps the stream in TLS from now on (STARTTLS): the session owns T.
 * Call after the engine's plaintext up to the switch was flushed. Traces
 * tls.established {"conn","node","peer","version","cipher","verified","resumed"} or
 * tls.failed {"conn","node","peer","reason"} when the handshake ends. While
 * TLS is on, a received line's "sent" is when the peer wrote the last
 * ciphertext that carried it (records do not map back to lines exactly). */
void session_start_tls(session *s, tls_conn *t);
bool session_tls_active(const session *s);

/* Half-closes after the pending output (the engine said goodbye). */
void session_close(session *s);
/* Drops the connection at once (RST). */
void session_abort(session *s);

host *session_host(const session *s);
sim_tcp_conn *session_conn(const session *s); /* NULL once closed */
uint64_t session_conn_id(const session *s);
/* The peer's node name (or its address when it is not a simulated host). */
const char *session_peer_name(const session *s);
bool session_is_open(const session *s);

/* Begins a line record EV (e.g. "smtp.cmd") for the line being fed now:
 * writes t, id, ev, conn, from (peer), to (this host), sent. The caller
 * adds its keys and calls trace_end(). Returns the writer, or NULL when the
 * trace is off at protocol detail (then write nothing). */
trace_writer *session_trace_line(session *s, const char *ev);
/* A state transition of the session's engine: EV (e.g. "smtp.state")
 * {"conn","node","transition":"OLD -> NEW"} at protocol detail. */
void session_trace_state(session *s, const char *ev, const char *transition);
/* The whole record of a received text line: session_trace_line with
 * "line" (LINE as a bytes string, without its CRLF). */
void session_trace_text(session *s, const char *ev, const char *line);

#endif
