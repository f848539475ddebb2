/* net_fixture.c — see net_fixture.h. */
#include "net_fixture.h"

#include <check.h>
#include <string.h>

sim_addr fx_addr(const char *text) {
  sim_addr a;
  ck_assert_msg(sim_addr_parse(text, &a), "parse %s", text);
  return a;
}

void fx_line_init(fx_line *f, uint64_t seed, const sim_link_params *p, const sim_link_params *mid,
                  sim_detail detail) {
  memset(f, 0, sizeof *f);
  f->w = sim_world_new(seed);
  f->tw = trace_writer_new_memory();
  sim_world_set_trace(f->w, f->tw, detail);
  f->net = sim_world_net(f->w);
  ck_assert_ptr_eq(f->net, sim_net_of(f->w));
  f->h1 = sim_net_add_node(f->net, "h1", false);
  f->r1 = sim_net_add_node(f->net, "r1", true);
  f->r2 = sim_net_add_node(f->net, "r2", true);
  f->h2 = sim_net_add_node(f->net, "h2", false);
  f->a1 = fx_addr("10.0.0.1");
  f->a2 = fx_addr("10.0.1.1");
  f->a1v6 = fx_addr("fd00::1");
  f->a2v6 = fx_addr("fd00::2");
  f->ar1 = fx_addr("10.0.2.1");
  f->ar2 = fx_addr("10.0.2.2");
  ck_assert(sim_node_add_addr(f->h1, &f->a1));
  ck_assert(sim_node_add_addr(f->h1, &f->a1v6));
  ck_assert(sim_node_add_addr(f->h2, &f->a2));
  ck_assert(sim_node_add_addr(f->h2, &f->a2v6));
  ck_assert(sim_node_add_addr(f->r1, &f->ar1));
  ck_assert(sim_node_add_addr(f->r2, &f->ar2));
  f->l[0] = sim_net_add_link(f->net, f->h1, f->r1, p);
  f->l[1] = sim_net_add_link(f->net, f->r1, f->r2, mid ? mid : p);
  f->l[2] = sim_net_add_link(f->net, f->r2, f->h2, p);
}

void fx_line_clear(fx_line *f) {
  sim_world_free(f->w);
  trace_writer_free(f->tw);
}

size_t fx_count(trace_writer *tw, const char *needle) {
  const GString *s = trace_writer_peek_memory(tw);
  size_t n = 0;
  const char *p = s->str;
  while ((p = strstr(p, needle)) != NULL) {
    n++;
    p += strlen(needle);
  }
  return n;
}

/* --- sink --- */

static void sink_data(void *user, sim_tcp_conn *c, const uint8_t *buf, size_t len) {
  fx_sink *s = user;
  (void)c;
  for (size_t i = 0; i < len; i++)
    if (buf[i] != fx_pattern(s->received + i))
      s->bad++;
  s->received += len;
  if (s->want && s->received == s->want)
    s->last_byte_at = sim_world_now(s->w);
}

static void sink_eof(void *user, sim_tcp_conn *c) {
  fx_sink *s = user;
  s->eofs++;
  if (s->echo) {
    uint8_t *b = g_malloc(s->echo);
    for (size_t i = 0; i < s->echo; i++)
      b[i] = fx_pattern(i);
    sim_tcp_send(c, b, s->echo);
    g_free(b);
  }
  sim_tcp_close(c);
}

static void sink_closed(void *user, sim_tcp_conn *c, sim_tcp_reason why) {
  fx_sink *s = user;
  (void)c;
  s->closed++;
  s->reason = why;
  s->closed_at = sim_world_now(s->w);
  s->conn = NULL;
}

static const sim_tcp_callbacks sink_cb = {NULL, sink_data, sink_eof, NULL, sink_closed};

static void sink_accept(void *lu, sim_tcp_conn *c, const sim_tcp_callbacks **cb, void **user) {
  fx_sink *s = lu;
  s->accepted++;
  if (s->refuse)
    return;
  s->conn = c;
  *cb = &sink_cb;
  *user = s;
}

void fx_sink_listen(fx_sink *s, sim_world *w, sim_node *n, uint16_t port) {
  s->w = w;
  s->lis = sim_tcp_listen(n, port, sink_accept, s);
  ck_assert_ptr_nonnull(s->lis);
}

/* --- source --- */

static void src_connected(void *user, sim_tcp_conn *c) {
  fx_source *s = user;
  (void)c;
  s->connected++;
  s->connected_at = sim_world_now(s->w);
}

static void src_data(void *user, sim_tcp_conn *c, const uint8_t *buf, size_t len) {
  fx_source *s = user;
  (void)c;
  for (size_t i = 0; i < len; i++)
    if (buf[i] != fx_pattern(s->received + i))
      s->bad++;
  s->received += len;
}

static void src_eof(void *user, sim_tcp_conn *c) {
  fx_source *s = user;
  (void)c;
  s->eofs++;
}

static void src_drained(void *user, sim_tcp_conn *c) {
  fx_source *s = user;
  (void)c;
  s->drained++;
  s->drained_at = sim_world_now(s->w);
}

static void src_closed(void *user, sim_tcp_conn *c, sim_tcp_reason why) {
  fx_source *s = user;
  (void)c;
  s->closed++;
  s->reason = why;
  s->closed_at = sim_world_now(s->w);
  s->conn = NULL;
}

static const sim_tcp_callbacks src_cb = {src_connected, src_data, src_eof, src_drained, src_closed};

void fx_source_start(fx_source *s, sim_node *from, const sim_addr *to, uint16_t port, uint64_t n,
                     bool close, const sim_tcp_options *opt) {
  s->w = sim_node_world(from);
  s->n = n;
  s->close = close;
  s->conn = sim_tcp_connect(from, to, port, opt, &src_cb, s);
  ck_assert_ptr_nonnull(s->conn);
  uint8_t *b = g_malloc(n ? n : 1);
  for (uint64_t i = 0; i < n; i++)
    b[i] = fx_pattern(i);
  sim_tcp_send(s->conn, b, n);
  g_free(b);
  if (close)
    sim_tcp_close(s->conn);
}
