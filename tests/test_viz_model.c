/* Tests for the viewer's model, without pixels, on the synthetic journey
 * (tests/viz_fixture.c): topology and roles, what is in flight on which
 * link at a time, which arrows exist in a window, connections joined from
 * both ends' ids, queue badges, link states, what the inspector lists, and
 * corrupt or truncated traces (an error naming file and line, never a
 * crash, at every cut of the file). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "viz_fixture.h"
#include "viz_model.h"

static viz_model *load_fixture(void) {
  size_t len;
  char *text = viz_fixture_trace(&len);
  GError *err = NULL;
  viz_model *m = viz_model_load_memory("journey.jsonl", text, len, &err);
  ck_assert_msg(m != NULL, "load failed: %s", err ? err->message : "?");
  g_free(text);
  return m;
}

static uint32_t node(const viz_model *m, const char *name) {
  uint32_t n = viz_model_node_find(m, name);
  ck_assert_msg(n != VIZ_NONE, "no node %s", name);
  return n;
}

/* --- topology ---------------------------------------------------------------- */

static const struct {
  const char *name;
  viz_role role;
  const char *domain;
} roles[] = {
    {"laptop.alice.example", VIZ_ROLE_CLIENT, "alice.example"},
    {"msa.alice.example", VIZ_ROLE_SUBMISSION, "alice.example"},
    {"relay.alice.example", VIZ_ROLE_RELAY, "alice.example"},
    {"ns.example", VIZ_ROLE_DNS, "example"},
    {"mx.bob.example", VIZ_ROLE_MX, "bob.example"},
    {"imap.bob.example", VIZ_ROLE_MAILBOX, "bob.example"},
    {"phone.bob.example", VIZ_ROLE_CLIENT, "bob.example"},
    {"r1", VIZ_ROLE_ROUTER, ""},
};

START_TEST(topology_roles) {
  viz_model *m = load_fixture();
  ck_assert_uint_eq(viz_model_node_count(m), 8);
  ck_assert_uint_eq(viz_model_link_count(m), 7);
  const viz_node *n = viz_model_node(m, node(m, roles[_i].name));
  ck_assert_msg(n->role == roles[_i].role, "%s: got role %s want %s", roles[_i].name,
                viz_role_name(n->role), viz_role_name(roles[_i].role));
  ck_assert_str_eq(n->domain, roles[_i].domain);
  ck_assert_uint_eq(viz_model_unknown_refs(m), 0);
  viz_model_free(m);
}
END_TEST

START_TEST(derived_flags) {
  viz_model *m = load_fixture();
  ck_assert(viz_model_node(m, node(m, "laptop.alice.example"))->composes);
  ck_assert(!viz_model_node(m, node(m, "laptop.alice.example"))->fetches);
  ck_assert(viz_model_node(m, node(m, "phone.bob.example"))->fetches);
  ck_assert_str_eq(viz_model_node(m, node(m, "mx.bob.example"))->addrs, "10.0.3.1");
  viz_model_free(m);
}
END_TEST

/* --- in flight ----------------------------------------------------------------- */

#define MS FIX_MS
#define T0 FIX_S

enum { AT_ABS, AT_MSA_HOP, AT_DNS }; /* what a row's time is relative to */

static const struct {
  int at;
  int64_t t;
  int kind;              /* viz_flight_kind, -1 = nothing in flight */
  const char *from, *to; /* the segment */
  uint32_t frac_ppm;
} flights[] = {
    {AT_ABS, T0 + 5 * MS, -1, NULL, NULL, 0},
    /* msa -> relay without a connection: 2 ms over msa-r1-relay, 1 ms each */
    {AT_MSA_HOP, MS / 2, VIZ_FLIGHT_ENVELOPE, "msa.alice.example", "r1", 500000},
    {AT_MSA_HOP, 3 * MS / 2, VIZ_FLIGHT_ENVELOPE, "r1", "relay.alice.example", 500000},
    {AT_MSA_HOP, MS / 4, VIZ_FLIGHT_ENVELOPE, "msa.alice.example", "r1", 250000},
    /* the MX query: relay -> ns, sent at s, received at s + 2 ms */
    {AT_DNS, MS / 2, VIZ_FLIGHT_DNS, "relay.alice.example", "r1", 500000},
    {AT_DNS, 3 * MS / 2, VIZ_FLIGHT_DNS, "r1", "ns.example", 500000},
    {AT_ABS, T0 + 200 * FIX_S, -1, NULL, NULL, 0},
};

/* Times that depend on the fixture's session lengths, found from the model. */
static int64_t flight_time(const viz_model *m, int row) {
  if (flights[row].at == AT_ABS)
    return flights[row].t;
  if (flights[row].at == AT_DNS)
    return viz_model_dns(m, 0)->t_sent + flights[row].t;
  uint32_t g = viz_model_msg_find(m, "m1");
  for (uint32_t k = 0; k < viz_model_msg(m, g)->hop_count; k++) {
    const viz_hop *h = viz_model_msg_hop(m, g, k);
    if (h->conn == VIZ_NONE && h->kind == VIZ_HOP_RELAY &&
        strcmp(viz_model_node(m, h->from)->name, "msa.alice.example") == 0) {
      ck_assert_int_eq(h->t1 - h->t0, 2 * MS);
      return h->t0 + flights[row].t;
    }
  }
  ck_abort_msg("no msa->relay hop");
  return 0;
}

START_TEST(in_flight_rows) {
  viz_model *m = load_fixture();
  int64_t t = flight_time(m, _i);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(viz_flight));
  viz_model_in_flight(m, t, false, out);
  if (flights[_i].kind < 0) {
    ck_assert_msg(out->len == 0, "t=%" PRId64 ": got %u in flight, want 0", t, out->len);
  } else {
    ck_assert_msg(out->len == 1, "t=%" PRId64 ": got %u in flight, want 1", t, out->len);
    const viz_flight *f = &g_array_index(out, viz_flight, 0);
    ck_assert_int_eq(f->kind, flights[_i].kind);
    ck_assert_str_eq(viz_model_node(m, f->seg_from)->name, flights[_i].from);
    ck_assert_str_eq(viz_model_node(m, f->seg_to)->name, flights[_i].to);
    ck_assert_msg(f->frac_ppm == flights[_i].frac_ppm, "got frac %u want %u", f->frac_ppm,
                  flights[_i].frac_ppm);
    ck_assert(f->link != VIZ_NONE);
    const viz_link *l = viz_model_link(m, f->link);
    ck_assert(l->a == f->seg_from || l->b == f->seg_from);
  }
  g_array_free(out, TRUE);
  viz_model_free(m);
}
END_TEST

/* The submission's envelope rides the DATA content: laptop -5ms- r1 -1ms- msa,
 * so at the middle of the transfer it is 3/5 along the laptop's link. */
START_TEST(envelope_follows_data) {
  viz_model *m = load_fixture();
  uint32_t g = viz_model_msg_find(m, "m1");
  ck_assert_uint_ne(g, VIZ_NONE);
  const viz_hop *h = viz_model_msg_hop(m, g, 0);
  ck_assert_int_eq(h->kind, VIZ_HOP_SUBMIT);
  ck_assert_uint_ne(h->conn, VIZ_NONE);
  ck_assert_int_eq(h->t1 - h->t0, 30 * MS); /* the DATA arrow's transit */
  GArray *out = g_array_new(FALSE, FALSE, sizeof(viz_flight));
  viz_model_in_flight(m, h->t0 + 15 * MS, false, out);
  ck_assert_uint_eq(out->len, 1);
  const viz_flight *f = &g_array_index(out, viz_flight, 0);
  ck_assert_int_eq(f->kind, VIZ_FLIGHT_ENVELOPE);
  ck_assert_str_eq(viz_model_node(m, f->seg_from)->name, "laptop.alice.example");
  ck_assert_str_eq(viz_model_node(m, f->seg_to)->name, "r1");
  ck_assert_uint_eq(f->frac_ppm, 600000);
  /* with protocol lines: the DATA arrow itself is in flight too */
  g_array_set_size(out, 0);
  viz_model_in_flight(m, h->t0 + 15 * MS, true, out);
  ck_assert_uint_eq(out->len, 2);
  ck_assert_int_eq(g_array_index(out, viz_flight, 1).kind, VIZ_FLIGHT_LINE);
  /* the hop ends exactly at t1: nothing in flight then */
  g_array_set_size(out, 0);
  viz_model_in_flight(m, h->t1, false, out);
  ck_assert_uint_eq(out->len, 0);
  g_array_free(out, TRUE);
  viz_model_free(m);
}
END_TEST

/* --- arrows ----------------------------------------------------------------------- */

static bool has_label(const viz_model *m, GArray *ix, const char *want, uint32_t *which) {
  for (guint i = 0; i < ix->len; i++) {
    uint32_t a = g_array_index(ix, uint32_t, i);
    size_t len;
    const char *l = viz_model_arrow_label(m, a, &len);
    if (len == strlen(want) && memcmp(l, want, len) == 0) {
      if (which)
        *which = a;
      return true;
    }
  }
  return false;
}

static const struct {
  int64_t t0, t1;
  const char *label;
  bool present;
} windows[] = {
    {T0, T0 + 1 * FIX_S, "RCPT TO:<bob@bob.example>", true},
    {T0, T0 + 1 * FIX_S, "250-server | 250-STARTTLS | 250 SIZE 10240000", true},
    {T0, T0 + 1 * FIX_S, "450 4.2.0 greylisted, try again later", true},
    {T0, T0 + 1 * FIX_S, "MX? bob.example", true},
    {T0, T0 + 1 * FIX_S, "NOERROR: 10 mx.bob.example", true},
    {T0, T0 + 1 * FIX_S, "a2 FETCH 1 BODY[]", false},
    {T0 + 400 * FIX_S, T0 + 401 * FIX_S, "a2 FETCH 1 BODY[]", true},
    {T0 + 400 * FIX_S, T0 + 401 * FIX_S, "RCPT TO:<bob@bob.example>", false},
    {T0 + 300 * FIX_S, T0 + 301 * FIX_S, "(message content, 54 octets)", true},
};

START_TEST(arrows_in_window) {
  viz_model *m = load_fixture();
  GArray *ix = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  viz_model_arrows_in(m, windows[_i].t0, windows[_i].t1, ix);
  ck_assert_msg(has_label(m, ix, windows[_i].label, NULL) == windows[_i].present,
                "window %d: label \"%s\": got %s want %s", _i, windows[_i].label,
                windows[_i].present ? "absent" : "present",
                windows[_i].present ? "present" : "absent");
  for (guint i = 1; i < ix->len; i++)
    ck_assert_uint_lt(g_array_index(ix, uint32_t, i - 1), g_array_index(ix, uint32_t, i));
  g_array_free(ix, TRUE);
  viz_model_free(m);
}
END_TEST

/* An arrow that starts before a window and ends after it crosses it. */
START_TEST(arrow_spanning_window) {
  viz_model *m = load_fixture();
  GArray *ix = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  uint32_t data = VIZ_NONE;
  viz_model_arrows_in(m, 0, INT64_MAX / 2, ix);
  ck_assert(has_label(m, ix, "(message content, 54 octets)", &data));
  const viz_arrow *a = viz_model_arrow(m, data);
  g_array_set_size(ix, 0);
  viz_model_arrows_in(m, a->sent + 1, a->recv - 1, ix);
  ck_assert(has_label(m, ix, "(message content, 54 octets)", NULL));
  ck_assert_int_eq(a->kind, VIZ_ARROW_DATA);
  g_array_free(ix, TRUE);
  viz_model_free(m);
}
END_TEST

START_TEST(reply_codes) {
  viz_model *m = load_fixture();
  GArray *ix = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  viz_model_arrows_in(m, 0, INT64_MAX / 2, ix);
  uint32_t a = VIZ_NONE;
  ck_assert(has_label(m, ix, "450 4.2.0 greylisted, try again later", &a));
  ck_assert_uint_eq(viz_model_arrow(m, a)->code, 450);
  ck_assert(viz_model_arrow(m, a)->error);
  ck_assert_int_eq(viz_model_arrow(m, a)->proto, VIZ_PROTO_SMTP);
  ck_assert(has_label(m, ix, "250 2.1.0 Ok", &a));
  ck_assert(!viz_model_arrow(m, a)->error);
  ck_assert_uint_eq(viz_model_drop_count(m), 1);
  ck_assert_str_eq(viz_model_node(m, viz_model_drop(m, 0)->node)->name, "r1");
  g_array_free(ix, TRUE);
  viz_model_free(m);
}
END_TEST

/* --- connections, DNS, states ------------------------------------------------------ */

START_TEST(connections_joined) {
  viz_model *m = load_fixture();
  /* 4 TCP connections, each seen with two ids */
  ck_assert_uint_eq(viz_model_conn_count(m), 4);
  const viz_conn *c = viz_model_conn(m, 0);
  ck_assert_uint_eq(c->id, 1);
  ck_assert_uint_eq(c->peer_id, 2);
  ck_assert_str_eq(viz_model_node(m, c->client)->name, "laptop.alice.example");
  ck_assert_str_eq(viz_model_node(m, c->server)->name, "msa.alice.example");
  ck_assert_int_eq(c->proto, VIZ_PROTO_SMTP);
  ck_assert_int_ge(c->t_tls, c->t_est);
  ck_assert_int_gt(c->t_close, c->t_tls);
  ck_assert_uint_eq(c->arrow_count, 15);
  const viz_conn *imap = viz_model_conn(m, 3);
  ck_assert_int_eq(imap->proto, VIZ_PROTO_IMAP);
  ck_assert_int_lt(imap->t_tls, 0);
  GArray *open = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  viz_model_conns_open(m, c->t_tls, open);
  ck_assert_uint_eq(open->len, 1);
  ck_assert_uint_eq(g_array_index(open, uint32_t, 0), 0);
  g_array_free(open, TRUE);
  viz_model_free(m);
}
END_TEST

START_TEST(dns_exchange) {
  viz_model *m = load_fixture();
  ck_assert_uint_eq(viz_model_dns_count(m), 1);
  const viz_dns *d = viz_model_dns(m, 0);
  ck_assert_str_eq(d->qname, "bob.example");
  ck_assert_str_eq(d->qtype, "MX");
  ck_assert_str_eq(d->rcode, "NOERROR");
  ck_assert_int_eq(d->t_resp - d->t_sent, 6 * MS);
  ck_assert_uint_ne(d->resp_arrow, VIZ_NONE);
  viz_model_free(m);
}
END_TEST

static const struct {
  int64_t t;
  bool phone_link_up;
  uint32_t relay_queued, relay_deferred;
} states[] = {
    {T0 + 50 * FIX_S, true, 1, 1},   {T0 + 100 * FIX_S, false, 1, 1},
    {T0 + 259 * FIX_S, false, 1, 1}, {T0 + 260 * FIX_S, true, 1, 1},
    {T0 + 350 * FIX_S, true, 0, 0},  {0, true, 0, 0},
};

START_TEST(states_over_time) {
  viz_model *m = load_fixture();
  ck_assert_msg(viz_model_link_up(m, 6, states[_i].t) == states[_i].phone_link_up,
                "row %d: link 6 state wrong", _i);
  uint32_t q, d;
  viz_model_node_queue(m, node(m, "relay.alice.example"), states[_i].t, &q, &d);
  ck_assert_msg(q == states[_i].relay_queued && d == states[_i].relay_deferred,
                "row %d: got queue %u/%u want %u/%u", _i, q, d, states[_i].relay_queued,
                states[_i].relay_deferred);
  ck_assert(viz_model_node_up(m, node(m, "mx.bob.example"), states[_i].t));
  viz_model_free(m);
}
END_TEST

START_TEST(marks_and_steps) {
  viz_model *m = load_fixture();
  static const viz_mark_kind want[] = {VIZ_MARK_COMPOSE,  VIZ_MARK_SUBMIT, VIZ_MARK_RELAY,
                                       VIZ_MARK_GREYLIST, VIZ_MARK_DEFER,  VIZ_MARK_LINK_DOWN,
                                       VIZ_MARK_LINK_UP,  VIZ_MARK_RELAY,  VIZ_MARK_RELAY,
                                       VIZ_MARK_DELIVER,  VIZ_MARK_FETCH};
  ck_assert_uint_eq(viz_model_mark_count(m), G_N_ELEMENTS(want));
  for (uint32_t i = 0; i < G_N_ELEMENTS(want); i++)
    ck_assert_msg(viz_model_mark(m, i)->kind == want[i], "mark %u: got %s want %s", i,
                  viz_mark_kind_name(viz_model_mark(m, i)->kind), viz_mark_kind_name(want[i]));
  /* stepping by hops */
  int64_t t = 0;
  int n = 0;
  for (;;) {
    int64_t nt = viz_model_next_hop_time(m, t);
    if (nt == t)
      break;
    ck_assert_int_gt(nt, t);
    ck_assert_int_eq(viz_model_prev_hop_time(m, nt + 1), nt);
    t = nt;
    n++;
  }
  ck_assert_int_eq(n, 5); /* submit, relay, relay, relay, fetch */
  ck_assert_int_eq(viz_model_next_event_time(m, 0), T0);
  ck_assert_int_eq(viz_model_event(m, viz_model_event_at(m, T0))->t, T0);
  ck_assert_int_eq(viz_model_prev_event_time(m, T0), T0);
  ck_assert_int_eq(viz_model_t_last(m), 500 * FIX_S);
  viz_model_free(m);
}
END_TEST

/* --- the inspector ------------------------------------------------------------------ */

START_TEST(inspect_message) {
  viz_model *m = load_fixture();
  uint32_t g = viz_model_msg_find(m, "m1");
  viz_inspect *in = viz_model_inspect_msg(m, g);
  static const char *const want[] = {
      "Message m1",
      "<m1@laptop.alice.example>",
      "Hello Bob",
      "submit laptop.alice.example \xe2\x86\x92 msa.alice.example",
      "relay relay.alice.example \xe2\x86\x92 mx.bob.example",
      "fetch imap.bob.example \xe2\x86\x92 phone.bob.example",
      "Received path",
      "1. from relay.alice.example by mx.bob.example",
      "Authentication-Results",
      "DKIM-Signature",
      "photo.jpg (image/jpeg, 2048 octets)",
      "policy.greylist at mx.bob.example: verdict=defer",
      "msg.defer at relay.alice.example: rcpt=bob@bob.example, reason=450 4.2.0 greylisted",
      "msg.deliver at imap.bob.example: rcpt=bob@bob.example, mailbox=bob, folder=INBOX",
      "1 delivered, 0 bounced, 1 deferrals",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
    ck_assert_msg(viz_inspect_contains(in, want[i]), "inspector lacks \"%s\"", want[i]);
  ck_assert_int_eq(viz_inspect_line(in, 0)->kind, VIZ_INSP_TITLE);
  viz_inspect_free(in);
  ck_assert_uint_eq(viz_model_msg_search(m, "BOB@bob", VIZ_NONE), g);
  ck_assert_uint_eq(viz_model_msg_search(m, "<m1@laptop", g), g); /* wraps */
  ck_assert_uint_eq(viz_model_msg_search(m, "carol", VIZ_NONE), VIZ_NONE);
  viz_model_free(m);
}
END_TEST

START_TEST(inspect_conn_node_link) {
  viz_model *m = load_fixture();
  viz_inspect *in = viz_model_inspect_conn(m, 0);
  ck_assert(viz_inspect_contains(in, "SMTP connection 1"));
  ck_assert(viz_inspect_contains(in, "C: MAIL FROM:<alice@alice.example>"));
  ck_assert(viz_inspect_contains(in, "S: 250 2.0.0 Ok: queued as 4711"));
  ck_assert(viz_inspect_contains(in, "Dialogue (15 lines)"));
  viz_inspect_free(in);
  in = viz_model_inspect_node(m, node(m, "imap.bob.example"), T0 + 450 * FIX_S);
  ck_assert(viz_inspect_contains(in, "bob/INBOX: 1 message"));
  ck_assert(viz_inspect_contains(in, "mailbox"));
  viz_inspect_free(in);
  in = viz_model_inspect_node(m, node(m, "relay.alice.example"), T0 + 100 * FIX_S);
  ck_assert(viz_inspect_contains(in, "1 message (1 deferred)"));
  viz_inspect_free(in);
  uint32_t q = viz_model_dns(m, 0)->query_arrow;
  in = viz_model_inspect_event(m, viz_model_arrow(m, q)->event);
  ck_assert_str_eq(viz_inspect_line(in, 0)->text, "dns.query");
  ck_assert(viz_inspect_contains(in, "qname"));
  ck_assert(viz_inspect_contains(in, "bob.example"));
  ck_assert(viz_inspect_contains(in, "relay.alice.example"));
  viz_inspect_free(in);
  in = viz_model_inspect_link(m, 6, T0 + 150 * FIX_S);
  ck_assert(viz_inspect_contains(in, "down at"));
  ck_assert(viz_inspect_contains(in, "link down"));
  ck_assert(viz_inspect_contains(in, "2ms"));
  viz_inspect_free(in);
  viz_model_free(m);
}
END_TEST

/* --- bad input ------------------------------------------------------------------------ */

START_TEST(truncated_everywhere) {
  size_t len;
  char *text = viz_fixture_trace(&len);
  int ok = 0, failed = 0;
  for (size_t cut = 0; cut < len; cut++) {
    GError *err = NULL;
    viz_model *m = viz_model_load_memory("journey.jsonl", text, cut, &err);
    if (m) {
      /* only a cut just after a newline is a whole (shorter) trace */
      ck_assert_msg(cut > 0 && text[cut - 1] == '\n', "cut %zu: accepted a torn trace", cut);
      ck_assert_ptr_null(err);
      ok++;
    } else {
      ck_assert_msg(err != NULL, "cut %zu: NULL without an error", cut);
      ck_assert_msg(strstr(err->message, "journey.jsonl") != NULL, "cut %zu: message %s", cut,
                    err->message);
      g_error_free(err);
      failed++;
    }
    viz_model_free(m);
  }
  ck_assert_int_gt(ok, 50);
  ck_assert_int_gt(failed, (int)len / 2);
  g_free(text);
}
END_TEST

static const struct {
  const char *what, *text, *want;
} corrupt[] = {
    {"not json", "{\"t\":1,\"id\":1,\"ev\":\"x.y\"}\nnot json\n", ":3:"},
    {"time backwards", "{\"t\":5,\"id\":1,\"ev\":\"x.y\"}\n{\"t\":4,\"id\":2,\"ev\":\"x.y\"}\n",
     ":3:"},
    {"no newline", "{\"t\":1,\"id\":1,\"ev\":\"x.y\"}", ":2:"},
    {"bad link node", NULL, "link 0"},
};

START_TEST(corrupt_rows) {
  const char *hdr = "{\"format\":\"mailsim-trace\",\"version\":1,\"scenario\":\"s\",\"seed\":1,"
                    "\"detail\":\"protocol\",\"nodes\":[{\"name\":\"a\",\"index\":0,\"router\":"
                    "false,\"addrs\":[]}],\"links\":[]}\n";
  const char *bad_hdr =
      "{\"format\":\"mailsim-trace\",\"version\":1,\"scenario\":\"s\",\"seed\":1,"
      "\"detail\":\"protocol\",\"nodes\":[],\"links\":[{\"a\":\"x\",\"b\":\"y\"}]}"
      "\n";
  char *text = corrupt[_i].text ? g_strconcat(hdr, corrupt[_i].text, NULL) : g_strdup(bad_hdr);
  GError *err = NULL;
  viz_model *m = viz_model_load_memory("bad.jsonl", text, strlen(text), &err);
  ck_assert_msg(m == NULL, "%s: accepted", corrupt[_i].what);
  ck_assert_ptr_nonnull(err);
  ck_assert_msg(strstr(err->message, "bad.jsonl") && strstr(err->message, corrupt[_i].want),
                "%s: got \"%s\" want it to name bad.jsonl and \"%s\"", corrupt[_i].what,
                err->message, corrupt[_i].want);
  g_error_free(err);
  g_free(text);
}
END_TEST

/* Unknown kinds and keys are skipped; unknown node names are counted, not fatal. */
START_TEST(tolerant_mapping) {
  const char *text =
      "{\"format\":\"mailsim-trace\",\"version\":1,\"scenario\":\"s\",\"seed\":1,"
      "\"detail\":\"protocol\",\"nodes\":[{\"name\":\"a\",\"index\":0,\"router\":false,\"addrs\":"
      "[]}],\"links\":[],\"future\":{\"x\":1}}\n"
      "{\"t\":1,\"id\":1,\"ev\":\"warp.drive\",\"node\":\"a\"}\n"
      "{\"t\":2,\"id\":2,\"ev\":\"smtp.cmd\",\"conn\":\"seven\",\"from\":\"ghost\",\"to\":\"a\","
      "\"sent\":5,\"line\":\"HELO\"}\n"
      "{\"t\":3,\"id\":3,\"ev\":\"msg.relay\",\"from\":\"a\",\"to\":\"nowhere\"}\n"
      "{\"t\":4,\"id\":4,\"ev\":\"fault.link_down\",\"link\":99}\n";
  GError *err = NULL;
  viz_model *m = viz_model_load_memory("t.jsonl", text, strlen(text), &err);
  ck_assert_msg(m != NULL, "%s", err ? err->message : "");
  ck_assert_uint_eq(viz_model_event_count(m), 4);
  ck_assert_uint_eq(viz_model_unknown_refs(m), 2);
  ck_assert_uint_eq(viz_model_arrow_count(m), 1);
  const viz_arrow *a = viz_model_arrow(m, 0);
  ck_assert_int_eq(a->sent, a->recv); /* "sent" after the receive time is clamped */
  ck_assert_uint_eq(a->path, VIZ_NONE);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(viz_flight));
  viz_model_in_flight(m, 2, true, out);
  ck_assert_uint_eq(out->len, 0);
  g_array_free(out, TRUE);
  viz_model_free(m);
}
END_TEST

/* Every query and inspector on a model, to shake out asserts. */
static void exercise(const viz_model *m) {
  GArray *f = g_array_new(FALSE, FALSE, sizeof(viz_flight));
  GArray *ix = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  int64_t t0 = viz_model_t_first(m), t1 = viz_model_t_last(m);
  for (int k = 0; k <= 2; k++) {
    int64_t t = t0 + (t1 - t0) / 2 * k;
    viz_model_in_flight(m, t, true, f);
    viz_model_arrows_in(m, t, t + FIX_S, ix);
    viz_model_conns_open(m, t, ix);
    for (uint32_t n = 0; n < viz_model_node_count(m); n++) {
      uint32_t q, d;
      viz_model_node_queue(m, n, t, &q, &d);
      viz_model_node_up(m, n, t);
      viz_inspect_free(viz_model_inspect_node(m, n, t));
    }
    for (uint32_t l = 0; l < viz_model_link_count(m); l++) {
      viz_model_link_up(m, l, t);
      viz_inspect_free(viz_model_inspect_link(m, l, t));
    }
  }
  for (uint32_t g = 0; g < viz_model_msg_count(m); g++)
    viz_inspect_free(viz_model_inspect_msg(m, g));
  for (uint32_t c = 0; c < viz_model_conn_count(m); c++)
    viz_inspect_free(viz_model_inspect_conn(m, c));
  g_array_free(f, TRUE);
  g_array_free(ix, TRUE);
}

/* One byte changed at a time (every 7th position, five values): the
 * load fails with a message or succeeds, and every query on what loads
 * works — keys with wrong types, unknown names, times out of order. */
START_TEST(mutated_bytes) {
  size_t len;
  char *text = viz_fixture_trace(&len);
  static const char values[] = {'"', '0', '9', '}', 'x'};
  int loaded = 0, rejected = 0;
  for (size_t i = 0; i < len; i += 7) {
    for (size_t v = 0; v < sizeof values; v++) {
      if (text[i] == values[v])
        continue;
      char *copy = g_memdup2(text, len);
      copy[i] = values[v];
      GError *err = NULL;
      viz_model *m = viz_model_load_memory("mut.jsonl", copy, len, &err);
      if (m) {
        exercise(m);
        loaded++;
      } else {
        ck_assert_msg(err && strstr(err->message, "mut.jsonl"), "byte %zu: no error", i);
        g_error_free(err);
        rejected++;
      }
      viz_model_free(m);
      g_free(copy);
    }
  }
  ck_assert_int_gt(loaded, 100);
  ck_assert_int_gt(rejected, 500);
  g_free(text);
}
END_TEST

START_TEST(memory_bound) {
  size_t len;
  char *text = viz_fixture_trace(&len);
  viz_model *m = viz_model_load_memory("journey.jsonl", text, len, NULL);
  ck_assert_ptr_nonnull(m);
  /* small traces carry fixed overheads; the bound is checked at scale by the
   * benchmark, here only that the record text is kept once */
  ck_assert_uint_lt(viz_model_memory(m), 4 * len);
  ck_assert_uint_ge(viz_model_memory(m), len - 600);
  viz_model_free(m);
  g_free(text);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("viz_model");
  TCase *tc = tcase_create("topology");
  tcase_add_loop_test(tc, topology_roles, 0, G_N_ELEMENTS(roles));
  tcase_add_test(tc, derived_flags);
  suite_add_tcase(s, tc);
  tc = tcase_create("flight");
  tcase_add_loop_test(tc, in_flight_rows, 0, G_N_ELEMENTS(flights));
  tcase_add_test(tc, envelope_follows_data);
  suite_add_tcase(s, tc);
  tc = tcase_create("arrows");
  tcase_add_loop_test(tc, arrows_in_window, 0, G_N_ELEMENTS(windows));
  tcase_add_test(tc, arrow_spanning_window);
  tcase_add_test(tc, reply_codes);
  suite_add_tcase(s, tc);
  tc = tcase_create("objects");
  tcase_add_test(tc, connections_joined);
  tcase_add_test(tc, dns_exchange);
  tcase_add_loop_test(tc, states_over_time, 0, G_N_ELEMENTS(states));
  tcase_add_test(tc, marks_and_steps);
  suite_add_tcase(s, tc);
  tc = tcase_create("inspector");
  tcase_add_test(tc, inspect_message);
  tcase_add_test(tc, inspect_conn_node_link);
  suite_add_tcase(s, tc);
  tc = tcase_create("bad_input");
  tcase_add_test(tc, truncated_everywhere);
  tcase_add_loop_test(tc, corrupt_rows, 0, G_N_ELEMENTS(corrupt));
  tcase_add_test(tc, tolerant_mapping);
  tcase_add_test(tc, memory_bound);
  tcase_add_test(tc, mutated_bytes);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
