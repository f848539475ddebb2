/* dns_auth.c — authoritative DNS over the simulated UDP and TCP. */
#include "dns_auth.h"

#include "dns_tcp.h"
#include "dns_trace.h"
#include "sim_tcp.h"
#include "sim_udp.h"

#define DNS_PORT 53

struct dns_auth {
  host *h;
  GPtrArray *zones; /* dns_zone*, borrowed */
  dns_zone_cfg cfg;
  sim_udp_sock *udp;
  sim_tcp_listener *tcp;
  GPtrArray *sessions; /* tcp_session*, live TCP connections */
  uint64_t answered;
  dns_auth_fault_fn fault;
  void *fault_user;
};

typedef struct {
  dns_auth *a;
  sim_tcp_conn *conn;
  dns_tcp *deframer;
  uint64_t rx_off; /* stream offset of the deframer's next byte */
} tcp_session;

/* A fault's answer to PKT; false when the zones answer as usual. */
static bool fault_answer(dns_auth *a, const uint8_t *pkt, size_t len, bool tcp, GByteArray *out) {
  dns_msg q;
  bool handled = false;
  if (dns_msg_decode(&q, pkt, len) == DNS_OK && !q.qr && dns_msg_question(&q)) {
    const dns_question *qq = dns_msg_question(&q);
    char *name = dns_name_to_text(&qq->name);
    dns_auth_override o = {0};
    handled = a->fault(a->fault_user, name, qq->type, &o);
    g_free(name);
    if (handled && o.action == DNS_AUTH_ZONES) {
      if (dns_zone_respond_wire(o.zones, o.nzones, &a->cfg, pkt, len, tcp, out, NULL))
        a->answered++;
    } else if (handled && o.action == DNS_AUTH_RCODE) {
      dns_msg r;
      dns_msg_init(&r);
      r.id = q.id;
      r.qr = true;
      r.opcode = q.opcode;
      r.rd = q.rd;
      r.cd = q.cd;
      r.rcode = o.rcode;
      dns_msg_add_question(&r, &qq->name, qq->type, qq->rclass);
      if (q.edns.present && a->cfg.edns_size)
        dns_msg_set_edns(&r, a->cfg.edns_size, q.edns.do_bit);
      size_t limit = tcp ? 65535 : dns_msg_udp_limit(&q, a->cfg.edns_size);
      uint8_t *buf = g_malloc(limit);
      dns_enc_result res;
      if (dns_msg_encode(&r, buf, limit, DNS_ENC_TRUNCATE, &res) == DNS_OK) {
        g_byte_array_append(out, buf, (guint)res.len);
        a->answered++;
      }
      g_free(buf);
      dns_msg_clear(&r);
    }
  }
  dns_msg_clear(&q);
  return handled;
}

static void answer(dns_auth *a, const uint8_t *pkt, size_t len, bool tcp, GByteArray *out) {
  if (a->fault && fault_answer(a, pkt, len, tcp, out))
    return;
  if (dns_zone_respond_wire((dns_zone *const *)a->zones->pdata, a->zones->len, &a->cfg, pkt, len,
                            tcp, out, NULL))
    a->answered++;
}

/* --- UDP ----------------------------------------------------------- */

static void udp_recv(void *user, sim_udp_sock *s, const sim_addr *from, uint16_t port,
                     const uint8_t *buf, size_t len) {
  dns_auth *a = user;
  sim_world *w = host_world(a->h);
  dns_trace_packet(w, "dns.query", 0, from, port, host_node(a->h), NULL, sim_udp_port(s),
                   sim_udp_sent_time(s), false, buf, len);
  GByteArray *out = g_byte_array_new();
  answer(a, buf, len, false, out);
  if (out->len)
    sim_udp_send(s, from, port, out->data, out->len);
  g_byte_array_unref(out);
}

static const sim_udp_callbacks udp_cb = {udp_recv, NULL};

/* --- TCP ----------------------------------------------------------- */

static void session_free(tcp_session *ts) {
  dns_tcp_free(ts->deframer);
  g_free(ts);
}

static void tcp_connected(void *user, sim_tcp_conn *c) { (void)user, (void)c; }

static void tcp_data(void *user, sim_tcp_conn *c, const uint8_t *buf, size_t len) {
  tcp_session *ts = user;
  dns_auth *a = ts->a;
  dns_tcp_feed(ts->deframer, buf, len);
  GBytes *msg;
  while ((msg = dns_tcp_next(ts->deframer)) != NULL) {
    gsize n;
    const uint8_t *p = g_bytes_get_data(msg, &n);
    /* ts->rx_off is where this message's length prefix began. */
    sim_time sent = sim_tcp_peer_write_time(c, ts->rx_off);
    dns_trace_packet(host_world(a->h), "dns.query", sim_tcp_id(c), sim_tcp_remote_addr(c),
                     sim_tcp_remote_port(c), host_node(a->h), sim_tcp_local_addr(c),
                     sim_tcp_local_port(c), sent, true, p, n);
    ts->rx_off += 2 + n;
    GByteArray *out = g_byte_array_new();
    answer(a, p, n, true, out);
    if (out->len) {
      GByteArray *framed = g_byte_array_new();
      dns_tcp_frame(out->data, out->len, framed);
      sim_tcp_send(c, framed->data, framed->len);
      g_byte_array_unref(framed);
    }
    g_byte_array_unref(out);
    g_bytes_unref(msg);
  }
}

static void tcp_eof(void *user, sim_tcp_conn *c) {
  (void)user;
  sim_tcp_close(c);
}

static void tcp_drained(void *user, sim_tcp_conn *c) { (void)user, (void)c; }

static void tcp_closed(void *user, sim_tcp_conn *c, sim_tcp_reason why) {
  (void)c, (void)why;
  tcp_session *ts = user;
  g_ptr_array_remove(ts->a->sessions, ts);
}

static const sim_tcp_callbacks tcp_cb = {tcp_connected, tcp_data, tcp_eof, tcp_drained,
                                         tcp_closed};

static void tcp_accept(void *lis_user, sim_tcp_conn *c, const sim_tcp_callbacks **cb,
                       void **user) {
  dns_auth *a = lis_user;
  tcp_session *ts = g_new0(tcp_session, 1);
  ts->a = a;
  ts->conn = c;
  ts->deframer = dns_tcp_new();
  g_ptr_array_add(a->sessions, ts);
  *cb = &tcp_cb;
  *user = ts;
}

/* --- life cycle ---------------------------------------------------- */

static void start(dns_auth *a) {
  a->udp = sim_udp_bind(host_node(a->h), DNS_PORT, &udp_cb, a);
  a->tcp = sim_tcp_listen(host_node(a->h), DNS_PORT, tcp_accept, a);
  g_assert(a->udp && a->tcp);
}

static void on_crash(void *user, bool crashed) {
  dns_auth *a = user;
  if (crashed) {
    /* The kernel freed the sockets and connections; drop our sessions. */
    a->udp = NULL;
    a->tcp = NULL;
    g_ptr_array_set_size(a->sessions, 0);
  } else {
    start(a);
  }
}

dns_auth *dns_auth_new(host *h, dns_zone *const *zones, size_t nzones, const dns_zone_cfg *cfg) {
  dns_auth *a = g_new0(dns_auth, 1);
  a->h = h;
  a->zones = g_ptr_array_new();
  for (size_t i = 0; i < nzones; i++)
    g_ptr_array_add(a->zones, zones[i]);
  a->cfg = *cfg;
  a->sessions = g_ptr_array_new_with_free_func((GDestroyNotify)session_free);
  start(a);
  host_on_crash(h, on_crash, a);
  return a;
}

void dns_auth_free(dns_auth *a) {
  if (!a)
    return;
  g_ptr_array_unref(a->sessions);
  g_ptr_array_unref(a->zones);
  g_free(a);
}

uint64_t dns_auth_answered(const dns_auth *a) { return a->answered; }

void dns_auth_set_fault(dns_auth *a, dns_auth_fault_fn fn, void *user) {
  a->fault = fn;
  a->fault_user = user;
}
