/* session.c — drives a sans-I/O engine over a simulated TCP connection. */
#include "session.h"

#include <string.h>

struct session {
  host *h;
  sim_world *w; /* host_world(h), kept: now and the trace read per chunk */
  sim_tcp_conn *conn; /* NULL once closed */
  const session_engine *ops;
  void *eng;
  const session_owner *owner;
  void *ou;
  uint64_t conn_id;
  const char *peer; /* the peer node's name (the world's), or PEER_OWN */
  char *peer_own;   /* its address as text, when it is no simulated host */
  bool closing;       /* close after the pending output */
  uint64_t rx_off;    /* stream offset of the next byte fed to the engine */
  uint64_t line_off;  /* where the line being fed began */
  bool at_line_start;
  /* The engine's timer, re-armed lazily: DUE is when tick() must run (the
   * engine's deadline when last read, not before the moment it was read;
   * SIM_TIME_NEVER: none); TIMER is the one pending event, at TIMER_AT <=
   * DUE. A deadline that moves later (every line moves a command timeout)
   * only moves DUE: the event fires early, finds DUE ahead and re-arms
   * there, where a cancel + insert per line cost ~30 scheduler entries per
   * journey. tick() runs at the same time as before; what can differ: the
   * early firing counts as one more event (the end record's "events"),
   * and the re-armed event is younger, so at DUE's very nanosecond it runs
   * after events scheduled between the line and the early firing. Only a
   * session silent for its whole timeout after its deadline moved sees
   * either: no golden, small.json nor chaos seed 1-30 of journey.json has
   * one (bench/README.md, branch sess). */
  sim_time deadline; /* the engine's deadline as last read */
  sim_time due;
  sim_event_id timer;
  sim_time timer_at;
  tls_conn *tls;      /* NULL: plaintext */
  bool tls_up;
  uint64_t tcp_rx;    /* TCP stream bytes received */
  /* Parked (session_keep): the next block of the list, and how many
   * blocks the list holds from this one. */
  session *next_spare;
  unsigned nspares;
};

static void arm_timer(session *s);

static void name_peer(session *s) {
  sim_world *w = s->w;
  const sim_addr *ra = sim_tcp_remote_addr(s->conn);
  sim_node *pn = sim_net_node_by_addr(sim_world_net(w), ra);
  if (pn) { /* node names live as long as the world, sessions less (host.h) */
    s->peer = sim_node_name(pn);
  } else {
    char buf[SIM_ADDR_BUFSZ];
    s->peer = s->peer_own = g_strdup(sim_addr_format(ra, buf));
  }
  s->conn_id = sim_tcp_id(s->conn);
}

/* Sends the TLS layer's pending ciphertext. */
static void flush_cipher(session *s) {
  size_t n;
  const uint8_t *p = tls_conn_cipher_peek(s->tls, &n);
  if (n) {
    sim_tcp_send(s->conn, p, n);
    tls_conn_cipher_consume(s->tls, n);
  }
}

void session_flush(session *s) {
  if (!s->conn)
    return;
  size_t n;
  const uint8_t *p = s->ops->peek(s->eng, &n);
  if (n) {
    if (s->tls)
      tls_conn_write_plain(s->tls, p, n, sim_world_now(s->w));
    else
      sim_tcp_send(s->conn, p, n);
    s->ops->consume(s->eng, n, sim_world_now(s->w));
  }
  if (s->tls)
    flush_cipher(s);
  if (s->closing) {
    s->ops->peek(s->eng, &n);
    if (n == 0) {
      if (s->tls && s->tls_up) {
        tls_conn_close(s->tls, sim_world_now(s->w));
        flush_cipher(s);
      }
      sim_tcp_close(s->conn);
      s->closing = false;
    }
  }
  arm_timer(s);
}

void session_kick(session *s) {
  if (!s->conn)
    return;
  s->owner->pump(s->ou, s);
  session_flush(s);
}

static void timer_fire(void *a, void *b) {
  (void)b;
  session *s = a;
  s->timer = 0;
  if (!s->conn || s->due == SIM_TIME_NEVER)
    return;
  sim_time now = sim_world_now(s->w);
  if (now < s->due) { /* the deadline moved on since this was armed */
    s->timer_at = s->due;
    s->timer = sim_world_at(s->w, s->due, timer_fire, s, NULL);
    return;
  }
  s->due = SIM_TIME_NEVER;
  s->ops->tick(s->eng, now);
  session_kick(s);
}

static void arm_timer(session *s) {
  if (!s->ops->deadline || !s->conn)
    return;
  sim_time d = s->ops->deadline(s->eng);
  if (d == s->deadline && s->due != SIM_TIME_NEVER)
    return;
  s->deadline = d;
  if (d == INT64_MAX) {
    s->due = SIM_TIME_NEVER;
    if (s->timer)
      sim_world_cancel(s->w, s->timer);
    s->timer = 0;
    return;
  }
  sim_time now = sim_world_now(s->w);
  s->due = d > now ? d : now;
  if (s->timer && s->timer_at < s->due)
    return; /* fires early and re-arms (timer_fire); at DUE itself it is
             * re-inserted, as a cancel + insert would have */
  if (s->timer)
    sim_world_cancel(s->w, s->timer);
  s->timer_at = s->due;
  s->timer = sim_world_at(s->w, s->due, timer_fire, s, NULL);
}

/* --- TCP callbacks ---------------------------------------------------- */

static void on_connected(void *user, sim_tcp_conn *c) {
  session *s = user;
  (void)c;
  if (s->owner->connected)
    s->owner->connected(s->ou, s);
  g_assert(s->eng); /* session_connect: set by connected() at the latest */
  session_kick(s);
}

/* Feeds plaintext to the engine one line at a time, so the engine's line
 * reports know where their line began. Without line records (the trace is
 * off at protocol detail) nobody asks where a line began: the whole chunk
 * goes in one call (the engines accept any split of their input). */
static void feed_lines(session *s, const uint8_t *buf, size_t len) {
  sim_time now = sim_world_now(s->w);
  if (len && !sim_world_trace(s->w, SIM_DETAIL_PROTOCOL)) {
    s->ops->feed(s->eng, buf, len, now);
    s->rx_off += len;
    s->at_line_start = buf[len - 1] == '\n';
    return;
  }
  while (len && s->conn) {
    const uint8_t *lf = memchr(buf, '\n', len);
    size_t n = lf ? (size_t)(lf - buf) + 1 : len;
    if (s->at_line_start && !s->tls)
      s->line_off = s->rx_off;
    s->ops->feed(s->eng, buf, n, now);
    s->rx_off += n;
    s->at_line_start = lf != NULL;
    buf += n;
    len -= n;
  }
}

/* Packet detail: the client's secrets as key log lines, so `mailsim pcap
 * --keylog` can let Wireshark decrypt the session's real TLS records. */
static void trace_keylog(session *s) {
  trace_writer *tw = sim_world_trace(s->w, SIM_DETAIL_PACKETS);
  if (!tw || tls_conn_get_role(s->tls) != TLS_CONN_CLIENT)
    return;
  trace_event_begin(tw, sim_world_now(s->w), "tls.keylog");
  trace_key_uint(tw, "conn", s->conn_id);
  trace_key_str(tw, "node", host_name(s->h));
  trace_key_str(tw, "peer", s->peer);
  trace_arr_begin(tw, "lines");
  char **lines = g_strsplit(tls_conn_keylog(s->tls), "\n", -1);
  for (char **l = lines; *l; l++)
    if (**l)
      trace_key_str(tw, NULL, *l);
  g_strfreev(lines);
  trace_arr_end(tw);
  trace_end(tw);
}

static void trace_tls(session *s, const tls_conn_event *ev) {
  if (ev->type == TLS_CONN_EV_ESTABLISHED)
    trace_keylog(s);
  trace_writer *tw = sim_world_trace(s->w, SIM_DETAIL_PROTOCOL);
  if (!tw || ev->type == TLS_CONN_EV_CLOSED)
    return;
  bool ok = ev->type == TLS_CONN_EV_ESTABLISHED;
  trace_event_begin(tw, sim_world_now(s->w), ok ? "tls.established" : "tls.failed");
  trace_key_uint(tw, "conn", s->conn_id);
  trace_key_str(tw, "node", host_name(s->h));
  trace_key_str(tw, "peer", s->peer);
  if (ok) {
    trace_key_str(tw, "version", ev->version);
    trace_key_str(tw, "cipher", ev->cipher);
    trace_key_bool(tw, "verified", ev->peer_verified);
    trace_key_bool(tw, "resumed", ev->resumed);
  } else {
    trace_key_str(tw, "reason", ev->reason ? ev->reason : "");
  }
  trace_end(tw);
}

/* Ciphertext in: TLS events, then the plaintext it yields to the engine. */
static void tls_input(session *s, const uint8_t *buf, size_t len) {
  sim_time now = sim_world_now(s->w);
  tls_conn_feed_cipher(s->tls, buf, len, now);
  tls_conn_event ev;
  while (s->tls && tls_conn_next_event(s->tls, &ev)) {
    trace_tls(s, &ev);
    if (ev.type == TLS_CONN_EV_ESTABLISHED)
      s->tls_up = true;
    if (s->owner->tls_event)
      s->owner->tls_event(s->ou, s, &ev);
  }
  if (!s->tls || !s->conn)
    return;
  flush_cipher(s);
  size_t n;
  const uint8_t *p = tls_conn_plain_peek(s->tls, &n);
  if (n) {
    /* Lines inside TLS records: date them by the ciphertext's last byte. */
    s->at_line_start = true;
    uint8_t *copy = g_memdup2(p, n);
    tls_conn_plain_consume(s->tls, n);
    feed_lines(s, copy, n);
    g_free(copy);
  }
}

static void on_data(void *user, sim_tcp_conn *c, const uint8_t *buf, size_t len) {
  session *s = user;
  (void)c;
  s->tcp_rx += len;
  if (s->tls) {
    s->line_off = s->tcp_rx - 1; /* see session_start_tls */
    tls_input(s, buf, len);
  } else {
    feed_lines(s, buf, len);
  }
  session_kick(s);
}

static void on_eof(void *user, sim_tcp_conn *c) {
  session *s = user;
  (void)c;
  /* The peer will send no more: finish what we owe, then close. */
  session_kick(s);
  s->closing = true;
  session_flush(s);
}

static void on_closed(void *user, sim_tcp_conn *c, sim_tcp_reason why) {
  session *s = user;
  (void)c;
  s->conn = NULL;
  if (s->timer)
    sim_world_cancel(s->w, s->timer);
  s->timer = 0;
  s->owner->closed(s->ou, s, why);
}

/* No drained callback: a flush there would find nothing to do. Every
 * change to the engine is followed by a flush (after input, a timer,
 * connected(), and by the contract of session_flush after an answered
 * decision), and each flush hands all the engine's output to TCP (which
 * takes all of it), closes when asked and re-reads the deadline; an ACK
 * changes none of that. It ran ~40 times a journey (a peek and a deadline
 * through the engine's functions each time) and never acted: checked on
 * every golden, every scenario at packet detail, small.json, load-notls
 * and chaos seeds 1-40 of journey.json. */
static const sim_tcp_callbacks tcp_cb = {on_connected, on_data, on_eof, NULL, on_closed};

const sim_tcp_callbacks *session_tcp_callbacks(void) { return &tcp_cb; }

/* --- life cycle ------------------------------------------------------- */

static session *session_new(session *spare, host *h, const session_engine *ops, void *eng,
                            const session_owner *owner, void *ou) {
  g_assert(!spare || !spare->next_spare); /* one block (session_take) */
  session *s = spare ? memset(spare, 0, sizeof *spare) : g_new0(session, 1);
  s->h = h;
  s->w = host_world(h);
  s->ops = ops;
  s->eng = eng;
  s->owner = owner;
  s->ou = ou;
  s->at_line_start = true;
  s->deadline = INT64_MAX;
  s->due = SIM_TIME_NEVER;
  return s;
}

session *session_accept_in(session *spare, host *h, sim_tcp_conn *c, const session_engine *ops,
                           void *eng, const session_owner *owner, void *owner_user) {
  session *s = session_new(spare, h, ops, eng, owner, owner_user);
  s->conn = c;
  name_peer(s);
  return s;
}

session *session_accept(host *h, sim_tcp_conn *c, const session_engine *ops, void *eng,
                        const session_owner *owner, void *owner_user) {
  return session_accept_in(NULL, h, c, ops, eng, owner, owner_user);
}

session *session_connect_in(session *spare, host *h, const sim_addr *to, uint16_t port,
                            const sim_tcp_options *opt, const session_engine *ops, void *eng,
                            const session_owner *owner, void *owner_user) {
  session *s = session_new(spare, h, ops, eng, owner, owner_user);
  s->conn = sim_tcp_connect(host_node(h), to, port, opt, &tcp_cb, s);
  name_peer(s);
  return s;
}

session *session_connect(host *h, const sim_addr *to, uint16_t port,
                         const sim_tcp_options *opt, const session_engine *ops, void *eng,
                         const session_owner *owner, void *owner_user) {
  return session_connect_in(NULL, h, to, port, opt, ops, eng, owner, owner_user);
}

void session_set_engine(session *s, void *eng) {
  g_assert(!s->eng && eng);
  s->eng = eng;
}

void session_start_tls(session *s, tls_conn *t) {
  g_assert(!s->tls);
  s->tls = t;
  s->tls_up = false;
  if (s->conn)
    flush_cipher(s); /* a client's ClientHello */
}

bool session_tls_active(const session *s) { return s->tls_up; }

/* What S holds besides its block: TLS, its timer, its peer's name. */
static void session_release(session *s) {
  tls_conn_free(s->tls);
  s->tls = NULL;
  if (s->timer)
    sim_world_cancel(s->w, s->timer);
  s->timer = 0;
  g_free(s->peer_own);
  s->peer_own = NULL;
  s->conn = NULL;
}

void session_free(session *s) {
  while (s) { /* a parked list: the blocks behind it too */
    session *next = s->next_spare;
    session_release(s);
    g_free(s);
    s = next;
  }
}

void session_keep(session **spares, session *s) {
  g_assert(spares);
  if (!s)
    return;
  g_assert(!s->next_spare);
  unsigned n = *spares ? (*spares)->nspares : 0;
  session_release(s);
  if (n >= SESSION_SPARES_MAX) {
    g_free(s);
    return;
  }
  s->next_spare = *spares;
  s->nspares = n + 1;
  *spares = s;
}

session *session_take(session **spares) {
  session *s = *spares;
  if (s) {
    *spares = s->next_spare;
    s->next_spare = NULL;
  }
  return s;
}

void session_close(session *s) {
  if (!s->conn)
    return;
  s->closing = true;
  session_flush(s);
}

void session_abort(session *s) {
  if (s->conn)
    sim_tcp_abort(s->conn);
}

host *session_host(const session *s) { return s->h; }
sim_tcp_conn *session_conn(const session *s) { return s->conn; }
uint64_t session_conn_id(const session *s) { return s->conn_id; }
const char *session_peer_name(const session *s) { return s->peer; }
bool session_is_open(const session *s) { return s->conn != NULL; }

trace_writer *session_trace_line(session *s, const char *ev) {
  trace_writer *tw = sim_world_trace(s->w, SIM_DETAIL_PROTOCOL);
  if (!tw)
    return NULL;
  sim_time sent = s->conn ? sim_tcp_peer_write_time(s->conn, s->line_off) : -1;
  trace_event_begin(tw, sim_world_now(s->w), ev);
  trace_key_uint(tw, "conn", s->conn_id);
  trace_key_str(tw, "from", s->peer);
  trace_key_str(tw, "to", host_name(s->h));
  trace_key_int(tw, "sent", sent >= 0 ? sent : sim_world_now(s->w));
  return tw;
}

void session_trace_text(session *s, const char *ev, const char *line) {
  trace_writer *tw = session_trace_line(s, ev);
  if (!tw)
    return;
  trace_key_bytes(tw, "line", line, strlen(line));
  trace_end(tw);
}

void session_trace_state(session *s, const char *ev, const char *transition) {
  trace_writer *tw = sim_world_trace(s->w, SIM_DETAIL_PROTOCOL);
  if (!tw)
    return;
  trace_event_begin(tw, sim_world_now(s->w), ev);
  trace_key_uint(tw, "conn", s->conn_id);
  trace_key_str(tw, "node", host_name(s->h));
  trace_key_str(tw, "transition", transition);
  trace_end(tw);
}
