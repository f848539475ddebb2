/* live_sock.h — the real-socket side of live mode: listening sockets,
 * outside clients, their output buffers and the limits that keep a broken
 * or hostile client from hurting the process or the other clients.
 *
 * Runs on the GLib main loop (the default context). Everything a client
 * does — a connection, bytes, a half close, a reset, a datagram — is
 * reported through live_sock_in, from a main-loop callback, never from
 * inside a call into this module; the owner gives it to the simulation
 * (live_gw.h) and journals it. What the simulation answers comes back
 * through live_sock_send/_eof/_close/_reply and is written without
 * blocking; a client whose unread output passes the limit is dropped: its
 * socket is closed and abort() reported (so the simulation, and the
 * journal, see it as a reset). Callbacks for a client are never made after
 * its abort() or after the owner closed it.
 *
 * Not deterministic by nature (real sockets); the journal makes it so.
 */
#ifndef MAILSIM_LIVE_SOCK_H
#define MAILSIM_LIVE_SOCK_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
  /* A new TCP client ID on listener LIS. */
  void (*open)(void *user, unsigned lis, uint64_t id);
  void (*data)(void *user, uint64_t id, const uint8_t *buf, size_t len);
  /* The client half-closed (sent FIN). */
  void (*shut)(void *user, uint64_t id);
  /* The client reset, or was dropped for not reading its output. */
  void (*abort)(void *user, uint64_t id);
  /* A datagram ID arrived on listener LIS (answer with live_sock_reply). */
  void (*dgram)(void *user, unsigned lis, uint64_t id, const uint8_t *buf, size_t len);
} live_sock_in;

typedef struct {
  unsigned max_clients; /* TCP clients at once; more are closed at accept; 0 = 1000 */
  size_t max_output;    /* unread output per client before it is dropped; 0 = 256 KiB */
  unsigned max_dgrams;  /* datagrams awaiting an answer; 0 = 1024 (oldest forgotten) */
} live_sock_limits;

typedef struct live_sock live_sock;

/* IN is borrowed; LIM may be NULL (defaults). */
live_sock *live_sock_new(const live_sock_in *in, void *user, const live_sock_limits *lim);
/* Closes every socket (no callbacks). NULL is a no-op. */
void live_sock_free(live_sock *ls);

/* Listens on ADDR (an IPv4/IPv6 literal) PORT (0: any free port) for TCP
 * and/or UDP; with both and PORT 0 the two get the same port. Returns the
 * listener's index (from 0) and the port in *BOUND, or -1 with ERR. */
int live_sock_listen(live_sock *ls, const char *addr, uint16_t port, bool tcp, bool udp,
                     uint16_t *bound, GError **err);

/* Output for client ID (unknown IDs are ignored). May be called from
 * inside the simulation's run: a drop is reported later, from the loop. */
void live_sock_send(live_sock *ls, uint64_t id, const uint8_t *buf, size_t len);
/* No more output: shut the write side once the output is out. */
void live_sock_eof(live_sock *ls, uint64_t id);
/* The connection is over: close once the output is out (or at once if the
 * client stopped reading). No callbacks follow for ID. */
void live_sock_close(live_sock *ls, uint64_t id);
/* The answer to datagram ID (sent to where it came from; once). */
void live_sock_reply(live_sock *ls, uint64_t id, const uint8_t *buf, size_t len);

/* Stops (PAUSED) or resumes reading from client ID: back-pressure while
 * the simulation has not taken its earlier bytes. Unknown IDs are ignored. */
void live_sock_pause(live_sock *ls, uint64_t id, bool paused);

unsigned live_sock_client_count(const live_sock *ls);

#endif
