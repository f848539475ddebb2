/* Tests for the view filters (viz_filter.h) without pixels: on three
 * synthetic journeys — m1 "Report 17" and m2 "Report 18" (alike), m3
 * "Invoice" — which arrows, envelopes (hops) and marks remain under a
 * protocol filter, a message focus, a host focus and "hide messages like
 * this"; the "like" classes and their text; search by Message-ID, address
 * and host. */
#include <string.h>

#include "testutil.h"
#include "viz_filter.h"
#include "viz_fixture.h"
#include "viz_model.h"

/* Replaces every OLD by NEW between the first "msg":"KEY" and the first
 * "msg" of the next journey (or the end). */
static char *retitle(char *text, const char *key, const char *next, const char *old,
                     const char *new) {
  char *k = g_strdup_printf("\"msg\":\"%s\"", key), *nk = g_strdup_printf("\"msg\":\"%s\"", next);
  char *from = strstr(text, k);
  ck_assert_ptr_nonnull(from);
  char *to = strstr(from, nk);
  size_t a = (size_t)(from - text), b = to ? (size_t)(to - text) : strlen(text);
  GString *s = g_string_new_len(text, (gssize)a);
  char *region = g_strndup(text + a, b - a);
  char **parts = g_strsplit(region, old, -1);
  ck_assert_msg(g_strv_length(parts) > 1, "no %s in journey %s", old, key);
  char *joined = g_strjoinv(new, parts);
  g_string_append(s, joined);
  g_string_append(s, text + b);
  g_strfreev(parts);
  g_free(joined);
  g_free(region);
  g_free(k);
  g_free(nk);
  g_free(text);
  return g_string_free(s, FALSE);
}

static viz_model *three(void) {
  trace_writer *tw = trace_writer_new_memory();
  viz_fixture_header(tw, FIX_ROLES);
  viz_fixture_journey(tw, "m1", FIX_S, 0);
  viz_fixture_journey(tw, "m2", FIX_S + FIX_JOURNEY_SPAN, 8);
  viz_fixture_journey(tw, "m3", FIX_S + 2 * FIX_JOURNEY_SPAN, 16);
  trace_event_begin(tw, FIX_S + 3 * FIX_JOURNEY_SPAN, "end");
  trace_end(tw);
  const GString *gs = trace_writer_peek_memory(tw);
  char *text = g_strndup(gs->str, gs->len);
  trace_writer_free(tw);
  text = retitle(text, "m1", "m2", "\"Hello Bob\"", "\"Report 17\"");
  text = retitle(text, "m2", "m3", "\"Hello Bob\"", "\"report 18\"");
  text = retitle(text, "m3", "m4", "\"Hello Bob\"", "\"Invoice\"");
  GError *err = NULL;
  viz_model *m = viz_model_load_memory("three.jsonl", text, strlen(text), &err);
  ck_assert_msg(m != NULL, "load: %s", err ? err->message : "");
  g_free(text);
  return m;
}

typedef struct {
  size_t arrows, hops, marks;
  size_t dns_arrows, arrows_of[3], hops_of[3], marks_of[3];
  size_t bad_proto, off_node; /* shown arrows of another protocol / not touching the host */
} tally;

static tally count(const viz_model *m, const viz_view_state *s) {
  tally t = {0};
  for (uint32_t a = 0; a < viz_model_arrow_count(m); a++) {
    if (!viz_filter_arrow_shown(m, s, a))
      continue;
    const viz_arrow *ar = viz_model_arrow(m, a);
    t.arrows++;
    t.dns_arrows += ar->proto == VIZ_PROTO_DNS;
    uint32_t g = viz_filter_arrow_msg(m, a);
    if (g != VIZ_NONE && g < 3)
      t.arrows_of[g]++;
    if (s->proto_mask && !(s->proto_mask & (1u << ar->proto)))
      t.bad_proto++;
    if (s->focus_node != VIZ_NONE && ar->from != s->focus_node && ar->to != s->focus_node)
      t.off_node++;
  }
  for (uint32_t h = 0; h < viz_model_hop_count(m); h++) {
    if (!viz_filter_hop_shown(m, s, h))
      continue;
    t.hops++;
    uint32_t g = viz_model_hop(m, h)->msg;
    if (g < 3)
      t.hops_of[g]++;
    const viz_hop *hp = viz_model_hop(m, h);
    if (s->focus_node != VIZ_NONE && hp->from != s->focus_node && hp->to != s->focus_node)
      t.off_node++;
  }
  for (uint32_t k = 0; k < viz_model_mark_count(m); k++) {
    if (!viz_filter_mark_shown(m, s, k))
      continue;
    t.marks++;
    uint32_t g = viz_model_mark(m, k)->msg;
    if (g < 3)
      t.marks_of[g]++;
  }
  return t;
}

START_TEST(likes) {
  viz_model *m = three();
  ck_assert_uint_eq(viz_model_msg_count(m), 3);
  const viz_msg *a = viz_model_msg(m, 0), *b = viz_model_msg(m, 1), *c = viz_model_msg(m, 2);
  ck_assert_msg(a->like == b->like,
                "m1 and m2 (Report 17 / report 18): got classes %u %u, want one", a->like, b->like);
  ck_assert_msg(a->like != c->like, "m3 (Invoice) must be another class");
  ck_assert_uint_eq(viz_model_like_count(m), 2);
  ck_assert_str_eq(viz_model_like_text(m, a->like),
                   "alice@alice.example to bob.example, subject \"report #\"");
  viz_model_free(m);
}
END_TEST

START_TEST(no_filter_shows_all) {
  viz_model *m = three();
  viz_view_state s;
  viz_view_state_init(&s, m);
  ck_assert(!viz_filter_active(&s));
  tally t = count(m, &s);
  ck_assert_uint_eq(t.arrows, viz_model_arrow_count(m));
  ck_assert_uint_eq(t.hops, viz_model_hop_count(m));
  ck_assert_uint_eq(t.marks, viz_model_mark_count(m));
  ck_assert_msg(t.hops_of[0] > 0 && t.hops_of[0] == t.hops_of[2], "got %zu and %zu hops",
                t.hops_of[0], t.hops_of[2]);
  ck_assert(t.dns_arrows > 0 && t.arrows_of[0] > 0);
  char *d = viz_filter_describe(m, &s);
  ck_assert_str_eq(d, "");
  g_free(d);
  viz_model_free(m);
}
END_TEST

START_TEST(hide_like) {
  viz_model *m = three();
  viz_view_state s;
  viz_view_state_init(&s, m);
  tally all = count(m, &s);
  ck_assert(viz_filter_hide_like(m, &s, 1)); /* hide like m2: m1 goes too */
  ck_assert(!viz_filter_hide_like(m, &s, 0));
  tally t = count(m, &s);
  ck_assert_msg(t.hops_of[0] == 0 && t.hops_of[1] == 0, "got %zu %zu envelopes of m1 m2, want 0",
                t.hops_of[0], t.hops_of[1]);
  ck_assert_uint_eq(t.hops_of[2], all.hops_of[2]);
  ck_assert_msg(t.arrows_of[0] == 0 && t.arrows_of[1] == 0, "got %zu %zu lines of m1 m2, want 0",
                t.arrows_of[0], t.arrows_of[1]);
  ck_assert_uint_eq(t.arrows_of[2], all.arrows_of[2]);
  ck_assert_uint_eq(t.dns_arrows, all.dns_arrows); /* lines of no message stay */
  ck_assert(t.marks_of[0] == 0 && t.marks_of[1] == 0 && t.marks_of[2] == all.marks_of[2]);
  ck_assert(!viz_filter_msg_shown(m, &s, 0) && viz_filter_msg_shown(m, &s, 2));
  char *d = viz_filter_describe(m, &s);
  ck_assert_str_eq(d, "hiding alice@alice.example to bob.example, subject \"report #\"");
  g_free(d);
  ck_assert(viz_filter_hide_like(m, &s, 2));
  ck_assert_uint_eq(count(m, &s).hops, 0);
  viz_filter_clear(&s);
  ck_assert(!viz_filter_active(&s));
  ck_assert_uint_eq(count(m, &s).hops, all.hops);
  viz_model_free(m);
}
END_TEST

START_TEST(by_protocol) {
  viz_model *m = three();
  viz_view_state s;
  viz_view_state_init(&s, m);
  tally all = count(m, &s);
  static const viz_proto protos[] = {VIZ_PROTO_SMTP, VIZ_PROTO_DNS, VIZ_PROTO_IMAP};
  for (size_t i = 0; i < G_N_ELEMENTS(protos); i++) {
    s.proto_mask = 1u << protos[i];
    tally t = count(m, &s);
    ck_assert_msg(t.arrows > 0 && t.arrows < all.arrows, "%s: got %zu of %zu lines",
                  viz_proto_name(protos[i]), t.arrows, all.arrows);
    ck_assert_msg(t.bad_proto == 0, "%s: %zu lines of another protocol shown",
                  viz_proto_name(protos[i]), t.bad_proto);
    ck_assert(protos[i] == VIZ_PROTO_DNS ? t.dns_arrows == t.arrows : t.dns_arrows == 0);
    /* envelopes on connections of other protocols go: fewer than all */
    if (protos[i] != VIZ_PROTO_DNS)
      ck_assert_msg(t.hops < all.hops && t.hops > 0, "%s: got %zu of %zu envelopes",
                    viz_proto_name(protos[i]), t.hops, all.hops);
  }
  viz_model_free(m);
}
END_TEST

START_TEST(by_message) {
  viz_model *m = three();
  viz_view_state s;
  viz_view_state_init(&s, m);
  tally all = count(m, &s);
  s.focus_msg = 2;
  tally t = count(m, &s);
  ck_assert(t.hops == all.hops_of[2] && t.hops_of[2] == all.hops_of[2]);
  ck_assert(t.arrows_of[0] == 0 && t.arrows_of[1] == 0 && t.arrows_of[2] == all.arrows_of[2]);
  ck_assert_uint_eq(t.dns_arrows, all.dns_arrows);
  ck_assert(t.marks_of[0] == 0 && t.marks_of[2] == all.marks_of[2]);
  char *d = viz_filter_describe(m, &s);
  ck_assert_str_eq(d, "message m3");
  g_free(d);
  viz_model_free(m);
}
END_TEST

START_TEST(by_host) {
  viz_model *m = three();
  viz_view_state s;
  viz_view_state_init(&s, m);
  tally all = count(m, &s);
  uint32_t mx = viz_model_node_find(m, "mx.bob.example");
  ck_assert_uint_ne(mx, VIZ_NONE);
  s.focus_node = mx;
  s.proto_mask = 1u << VIZ_PROTO_SMTP;
  tally t = count(m, &s);
  ck_assert_msg(t.arrows > 0 && t.arrows < all.arrows && t.off_node == 0 && t.bad_proto == 0,
                "got %zu lines (%zu off the host, %zu not SMTP)", t.arrows, t.off_node,
                t.bad_proto);
  ck_assert_msg(t.hops > 0 && t.hops < all.hops, "got %zu of %zu envelopes", t.hops, all.hops);
  char *d = viz_filter_describe(m, &s);
  ck_assert_str_eq(d, "SMTP; host mx.bob.example");
  g_free(d);
  viz_model_free(m);
}
END_TEST

START_TEST(search) {
  viz_model *m = three();
  ck_assert_uint_eq(viz_model_msg_search(m, "<m2@laptop.alice.example>", VIZ_NONE), 1);
  ck_assert_uint_eq(viz_model_msg_search(m, "BOB@bob.example", VIZ_NONE), 0);
  ck_assert_uint_eq(viz_model_msg_search(m, "bob@bob.example", 0), 1); /* next one */
  ck_assert_uint_eq(viz_model_msg_search(m, "nobody@nowhere", VIZ_NONE), VIZ_NONE);
  uint32_t mx = viz_model_node_find(m, "mx.bob.example");
  ck_assert_uint_eq(viz_model_node_search(m, "MX.BOB", VIZ_NONE), mx);
  const char *addrs = viz_model_node(m, mx)->addrs;
  ck_assert_msg(*addrs, "mx has no address in the fixture");
  char *first = g_strndup(addrs, strcspn(addrs, ","));
  ck_assert_uint_eq(viz_model_node_search(m, first, VIZ_NONE), mx);
  g_free(first);
  ck_assert_uint_eq(viz_model_node_search(m, "no-such-host", VIZ_NONE), VIZ_NONE);
  viz_model_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("viz_filter");
  TCase *tc = tcase_create("filters");
  tcase_add_test(tc, likes);
  tcase_add_test(tc, no_filter_shows_all);
  tcase_add_test(tc, hide_like);
  tcase_add_test(tc, by_protocol);
  tcase_add_test(tc, by_message);
  tcase_add_test(tc, by_host);
  tcase_add_test(tc, search);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
