/* dns_trace.c — decodes a DNS packet just enough to trace it. */
#include "dns_trace.h"

#include "dns_wire.h"

/* "addr:port", IPv6 in brackets (traces/FORMAT.md, Endpoints). */
static const char *endpoint(const sim_addr *a, uint16_t port, char *buf) {
  char ab[SIM_ADDR_BUFSZ];
  sim_addr_format(a, ab);
  g_snprintf(buf, SIM_ADDR_BUFSZ + 8, a->family == 6 ? "[%s]:%u" : "%s:%u", ab, port);
  return buf;
}

void dns_trace_packet(sim_world *w, const char *ev, uint64_t conn, const sim_addr *from,
                      uint16_t from_port, const sim_node *to, const sim_addr *to_addr,
                      uint16_t to_port, sim_time sent, bool tcp, const uint8_t *pkt, size_t len) {
  trace_writer *tw = sim_world_trace(w, SIM_DETAIL_PROTOCOL);
  if (!tw)
    return;
  sim_node *fn = sim_net_node_by_addr(sim_world_net(w), from);
  char abuf[SIM_ADDR_BUFSZ];
  trace_event_begin(tw, sim_world_now(w), ev);
  trace_key_uint(tw, "conn", conn);
  trace_key_str(tw, "from", fn ? sim_node_name(fn) : sim_addr_format(from, abuf));
  trace_key_str(tw, "to", sim_node_name(to));
  trace_key_int(tw, "sent", sent);
  trace_key_str(tw, "proto", tcp ? "tcp" : "udp");
  dns_msg m; /* dns_msg_decode initialises it */
  dns_err e = dns_msg_decode(&m, pkt, len);
  if (e != DNS_OK) {
    trace_key_str(tw, "error", dns_err_name(e));
  } else {
    trace_key_uint(tw, "qid", m.id);
    const dns_question *q = dns_msg_question(&m);
    GString *s = g_string_new(NULL);
    if (q) {
      dns_name_append_text(&q->name, s);
      trace_key_str(tw, "qname", s->str);
      char tb[16];
      trace_key_str(tw, "qtype", dns_type_to_text(q->type, tb));
    }
    if (m.qr) {
      char rb[16];
      trace_key_str(tw, "rcode", dns_rcode_to_text(m.rcode, rb));
      trace_key_bool(tw, "aa", m.aa);
      trace_key_bool(tw, "tc", m.tc);
      trace_arr_begin(tw, "answers");
      for (guint i = 0; i < dns_msg_count(&m, DNS_SEC_ANSWER); i++) {
        g_string_truncate(s, 0);
        dns_rr_append_text(dns_msg_rr(&m, DNS_SEC_ANSWER, i), s);
        trace_key_str(tw, NULL, s->str);
      }
      trace_arr_end(tw);
    }
    g_string_free(s, TRUE);
  }
  dns_msg_clear(&m);
  if (!to_addr)
    to_addr = sim_node_addr(to, from->family);
  char ep[SIM_ADDR_BUFSZ + 8];
  trace_key_str(tw, "src", endpoint(from, from_port, ep));
  if (to_addr)
    trace_key_str(tw, "dst", endpoint(to_addr, to_port, ep));
  trace_key_bytes(tw, "wire", pkt, len);
  trace_end(tw);
}
