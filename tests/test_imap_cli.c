/* Tests for imap_cli against imap_srv and the mailstore, in memory: new
 * mail by UID, \Seen marking, MOVE, UIDVALIDITY change, STARTTLS, IDLE,
 * failures; every conversation also run with the bytes moved in chunks of
 * 1, 2, 3, 7 and unlimited, with identical events. */
#include <stdlib.h>
#include <string.h>

#include "imap_cli.h"
#include "imap_fmt.h"
#include "imap_srv.h"
#include "mailstore.h"
#include "mailstore_imap.h"
#include "testutil.h"

static const char *const msgs[] = {
    "Subject: one\r\n\r\nfirst\r\n",
    "Subject: two\r\n\r\n.dot\r\n",
    "Subject: three\r\nContent-Type: text/plain\r\n\r\nthird {5}\r\n",
};

static mailstore *store_new(void) {
  mailstore *st = mailstore_new(1);
  mailstore_user_add(st, "bob", 0, 0);
  mailstore_folder_create(st, "bob", "Archive", MAILSTORE_USE_NONE);
  for (int i = 0; i < 3; i++) {
    GBytes *b = g_bytes_new_static(msgs[i], strlen(msgs[i]));
    mailstore_deliver(st, "bob", NULL, b, 0, NULL);
    g_bytes_unref(b);
  }
  return st;
}

static void deliver(mailstore *st, const char *text) {
  GBytes *b = g_bytes_new_static(text, strlen(text));
  mailstore_deliver(st, "bob", NULL, b, 0, NULL);
  g_bytes_unref(b);
}

typedef struct {
  mailstore *st;
  imap_srv *srv;
  imap_cli *cli;
  GString *log;
  GPtrArray *bodies;
  size_t chunk;
  GString *s2c, *c2s;
  GString *sent; /* everything the client sent */
  bool closed;
  int64_t now;
} conv;

/* CLI: an engine made by the caller (imap_cli_renew), or NULL: a new one. */
static void conv_init_on(conv *x, mailstore *st, const imap_srv_config *sc,
                         const imap_cli_config *cc, size_t chunk, imap_cli *cli) {
  memset(x, 0, sizeof *x);
  imap_srv_config dflt = {.hostname = "imap.example"};
  x->st = st;
  x->srv = imap_srv_new(sc ? sc : &dflt, NULL, 0);
  x->cli = cli ? cli : imap_cli_new(cc, NULL, 0);
  x->sent = g_string_new(NULL);
  x->log = g_string_new(NULL);
  x->bodies = g_ptr_array_new_with_free_func(g_free);
  x->chunk = chunk;
  x->s2c = g_string_new(NULL);
  x->c2s = g_string_new(NULL);
}

static void conv_init(conv *x, mailstore *st, const imap_srv_config *sc, const imap_cli_config *cc,
                      size_t chunk) {
  conv_init_on(x, st, sc, cc, chunk, NULL);
}

static void conv_clear(conv *x) {
  imap_srv_free(x->srv);
  imap_cli_free(x->cli);
  g_string_free(x->log, TRUE);
  g_ptr_array_unref(x->bodies);
  g_string_free(x->s2c, TRUE);
  g_string_free(x->c2s, TRUE);
  g_string_free(x->sent, TRUE);
}

/* Runs until nothing moves. */
static void run(conv *x) {
  for (int guard = 0; guard < 1000000; guard++) {
    bool moved = false;
    imap_srv_event se;
    while (imap_srv_next_event(x->srv, &se)) {
      if (se.kind == IMAP_SRV_EV_AUTH) {
        mailstore_imap *h =
            strcmp(se.pass, "secret") == 0 ? mailstore_imap_open(x->st, se.user) : NULL;
        imap_srv_auth_answer(x->srv, se.id, h ? IMAP_AUTH_OK : IMAP_AUTH_FAIL,
                             h ? &mailstore_imap_ops : NULL, h);
      } else if (se.kind == IMAP_SRV_EV_STARTTLS) {
        size_t n;
        const uint8_t *p = imap_srv_output_peek(x->srv, &n);
        g_string_append_len(x->s2c, (const char *)p, (gssize)n);
        imap_srv_output_consume(x->srv, n);
        imap_srv_tls_done(x->srv, true);
      }
    }
    size_t n;
    const uint8_t *p = imap_srv_output_peek(x->srv, &n);
    if (n) {
      g_string_append_len(x->s2c, (const char *)p, (gssize)n);
      imap_srv_output_consume(x->srv, n);
    }
    size_t take = MIN(x->chunk, x->s2c->len);
    if (take) {
      imap_cli_feed(x->cli, x->s2c->str, take, x->now);
      g_string_erase(x->s2c, 0, (gssize)take);
      moved = true;
    }
    imap_cli_event ev;
    bool tls = false;
    while (imap_cli_next_event(x->cli, &ev)) {
      if (ev.kind == IMAP_CLI_EV_COMMAND || ev.kind == IMAP_CLI_EV_REPLY)
        continue;
      g_string_append(x->log, imap_cli_event_name(ev.kind));
      if (ev.kind == IMAP_CLI_EV_MESSAGE) {
        g_string_append_printf(x->log, "(%u/%u %s)", ev.uidvalidity, ev.uid, ev.text);
        g_ptr_array_add(x->bodies,
                        g_strndup(g_bytes_get_data(ev.data, NULL), g_bytes_get_size(ev.data)));
      }
      if (ev.kind == IMAP_CLI_EV_SYNCED)
        g_string_append_printf(x->log, "(%zu)", ev.count);
      if (ev.kind == IMAP_CLI_EV_DONE)
        g_string_append_printf(x->log, "(%zu,%d)", ev.count, ev.ok);
      if (ev.kind == IMAP_CLI_EV_ERROR)
        g_string_append_printf(x->log, "(%s)", ev.text);
      if (ev.kind == IMAP_CLI_EV_STARTTLS)
        tls = true;
      if (ev.kind == IMAP_CLI_EV_CLOSE)
        x->closed = true;
      g_string_append_c(x->log, ';');
    }
    p = imap_cli_output_peek(x->cli, &n);
    if (n) {
      g_string_append_len(x->c2s, (const char *)p, (gssize)n);
      g_string_append_len(x->sent, (const char *)p, (gssize)n);
      imap_cli_output_consume(x->cli, n);
    }
    take = MIN(x->chunk, x->c2s->len);
    if (take) {
      imap_srv_feed(x->srv, x->c2s->str, take, x->now);
      g_string_erase(x->c2s, 0, (gssize)take);
      moved = true;
    }
    if (tls)
      imap_cli_tls_done(x->cli, true);
    if (!moved && !tls && x->s2c->len == 0 && x->c2s->len == 0)
      return;
  }
  ck_abort_msg("conversation did not settle");
}

static const size_t chunks[] = {1, 2, 3, 7, 1u << 30};

START_TEST(fetch_new_mark_seen_then_incremental) {
  for (size_t ci = 0; ci < G_N_ELEMENTS(chunks); ci++) {
    mailstore *st = store_new();
    imap_cli_config cc = {.user = "bob", .pass = "secret", .mark_seen = true};
    conv x;
    conv_init(&x, st, NULL, &cc, chunks[ci]);
    run(&x);
    ck_assert_msg(
        strcmp(x.log->str,
               "message(1/1 (\\Recent));message(1/2 (\\Recent));message(1/3 (\\Recent));synced(3);"
               "done(3,1);close;") == 0,
        "chunk %zu: got %s", chunks[ci], x.log->str);
    for (int i = 0; i < 3; i++)
      ck_assert_str_eq(g_ptr_array_index(x.bodies, i), msgs[i]);
    mailstore_status s;
    mailstore_status_get(st, "bob", "INBOX", &s);
    ck_assert_uint_eq(s.unseen, 0);
    ck_assert_uint_eq(s.messages, 3);
    conv_clear(&x);
    /* next session knows UIDVALIDITY 1 and UID 3: only the new one */
    deliver(st, "Subject: four\r\n\r\n4\r\n");
    cc.uidvalidity = 1;
    cc.last_uid = 3;
    conv_init(&x, st, NULL, &cc, chunks[ci]);
    run(&x);
    ck_assert_msg(strcmp(x.log->str, "message(1/4 (\\Recent));synced(1);done(1,1);close;") == 0,
                  "chunk %zu: got %s", chunks[ci], x.log->str);
    conv_clear(&x);
    /* nothing new */
    cc.last_uid = 4;
    conv_init(&x, st, NULL, &cc, chunks[ci]);
    run(&x);
    ck_assert_str_eq(x.log->str, "synced(0);done(0,1);close;");
    conv_clear(&x);
    /* UIDVALIDITY changed: everything again (already \Seen now) */
    cc.uidvalidity = 77;
    conv_init(&x, st, NULL, &cc, chunks[ci]);
    run(&x);
    ck_assert_str_eq(x.log->str, "message(1/1 (\\Seen));message(1/2 (\\Seen));message(1/3 "
                                 "(\\Seen));message(1/4 (\\Seen));synced(4);done(4,1);close;");
    conv_clear(&x);
    mailstore_free(st);
  }
}
END_TEST

/* UID sets longer than the command buffer's stack room (every other UID
 * of 300, the odd ones expunged): FETCH and STORE carry them whole (the
 * sent commands hold "2,4,...,300" twice) and every message arrives. */
START_TEST(long_uid_sets) {
  mailstore *st = mailstore_new(1);
  mailstore_user_add(st, "bob", 0, 0);
  for (int i = 0; i < 300; i++)
    deliver(st, "Subject: n\r\n\r\nx\r\n");
  uint32_t odd[150];
  for (int i = 0; i < 150; i++)
    odd[i] = (uint32_t)(2 * i + 1);
  ck_assert_int_eq(mailstore_expunge_uids(st, "bob", "INBOX", odd, 150, NULL), MAILSTORE_OK);
  GString *set = g_string_new(NULL);
  for (int i = 0; i < 150; i++)
    g_string_append_printf(set, "%s%d", i ? "," : "", 2 * i + 2);
  imap_cli_config cc = {.user = "bob", .pass = "secret", .mark_seen = true, .move_to = "Archive"};
  mailstore_folder_create(st, "bob", "Archive", MAILSTORE_USE_NONE);
  conv x;
  conv_init(&x, st, NULL, &cc, 64);
  run(&x);
  ck_assert_uint_eq(x.bodies->len, 150);
  ck_assert_msg(g_str_has_suffix(x.log->str, "synced(150);done(150,1);close;"), "%s", x.log->str);
  char *f = g_strdup_printf("UID FETCH %s (UID FLAGS BODY.PEEK[])", set->str);
  char *m = g_strdup_printf("UID MOVE %s \"Archive\"", set->str);
  ck_assert_msg(strstr(x.sent->str, f) != NULL, "no FETCH of the whole set");
  ck_assert_msg(strstr(x.sent->str, m) != NULL, "no MOVE of the whole set");
  mailstore_status a;
  mailstore_status_get(st, "bob", "Archive", &a);
  ck_assert_uint_eq(a.messages, 150);
  g_free(f);
  g_free(m);
  g_string_free(set, TRUE);
  conv_clear(&x);
  mailstore_free(st);
}
END_TEST

START_TEST(move_to_archive) {
  mailstore *st = store_new();
  imap_cli_config cc = {.user = "bob", .pass = "secret", .move_to = "Archive"};
  conv x;
  conv_init(&x, st, NULL, &cc, 5);
  run(&x);
  ck_assert_str_eq(x.log->str, "message(1/1 (\\Recent));message(1/2 (\\Recent));message(1/3 "
                               "(\\Recent));synced(3);done(3,1);close;");
  mailstore_status a, i;
  mailstore_status_get(st, "bob", "INBOX", &i);
  mailstore_status_get(st, "bob", "Archive", &a);
  ck_assert_uint_eq(i.messages, 0);
  ck_assert_uint_eq(a.messages, 3);
  conv_clear(&x);
  mailstore_free(st);
}
END_TEST

START_TEST(starttls_required) {
  for (size_t ci = 0; ci < G_N_ELEMENTS(chunks); ci++) {
    mailstore *st = store_new();
    imap_srv_config sc = {.hostname = "imap.example", .tls_available = true, .tls_required = true};
    imap_cli_config cc = {.user = "bob", .pass = "secret", .use_starttls = true};
    conv x;
    conv_init(&x, st, &sc, &cc, chunks[ci]);
    run(&x);
    ck_assert_str_eq(x.log->str, "starttls;message(1/1 (\\Recent));message(1/2 (\\Recent));"
                                 "message(1/3 (\\Recent));"
                                 "synced(3);done(3,1);close;");
    conv_clear(&x);
    /* a client that does not want TLS cannot log in (LOGINDISABLED) */
    imap_cli_config plain = {.user = "bob", .pass = "secret"};
    conv_init(&x, st, &sc, &plain, chunks[ci]);
    run(&x);
    ck_assert_str_eq(x.log->str, "error(server offers no usable login);done(0,0);close;");
    conv_clear(&x);
    /* a client that requires TLS from a server without it gives up */
    imap_cli_config req = {.user = "bob", .pass = "secret", .require_tls = true};
    conv_init(&x, st, NULL, &req, chunks[ci]);
    run(&x);
    ck_assert_str_eq(x.log->str, "error(server does not offer STARTTLS);done(0,0);close;");
    conv_clear(&x);
    mailstore_free(st);
  }
}
END_TEST

START_TEST(idle_then_new_mail_then_stop) {
  for (size_t ci = 0; ci < G_N_ELEMENTS(chunks); ci++) {
    mailstore *st = store_new();
    imap_cli_config cc = {.user = "bob", .pass = "secret", .idle = true, .mark_seen = true};
    conv x;
    conv_init(&x, st, NULL, &cc, chunks[ci]);
    run(&x);
    ck_assert_str_eq(
        x.log->str,
        "message(1/1 (\\Recent));message(1/2 (\\Recent));message(1/3 (\\Recent));synced(3);");
    ck_assert_int_eq(imap_cli_state_get(x.cli), IMAP_CLI_IDLE);
    ck_assert_int_eq(imap_cli_deadline(x.cli), INT64_MAX);
    g_string_truncate(x.log, 0);
    deliver(st, "Subject: live\r\n\r\nnews\r\n");
    imap_srv_poll(x.srv); /* the host learns of the delivery */
    run(&x);
    ck_assert_str_eq(x.log->str, "message(1/4 (\\Recent));synced(1);");
    g_string_truncate(x.log, 0);
    imap_cli_stop(x.cli);
    run(&x);
    ck_assert_str_eq(x.log->str, "done(4,1);close;");
    conv_clear(&x);
    mailstore_free(st);
  }
}
END_TEST

START_TEST(bad_password_and_hangup) {
  mailstore *st = store_new();
  imap_cli_config cc = {.user = "bob", .pass = "nope"};
  conv x;
  conv_init(&x, st, NULL, &cc, 3);
  run(&x);
  ck_assert_str_eq(x.log->str, "error(C001 NO [AUTHENTICATIONFAILED] Authentication failed);"
                               "done(0,0);close;");
  conv_clear(&x);
  imap_cli_config ok = {.user = "bob", .pass = "secret"};
  imap_cli *c = imap_cli_new(&ok, NULL, 0);
  imap_cli_feed(c, "* OK ready\r\n", 12, 1);
  imap_cli_hangup(c);
  imap_cli_event ev;
  GString *log = g_string_new(NULL);
  while (imap_cli_next_event(c, &ev))
    g_string_append_printf(log, "%s;", imap_cli_event_name(ev.kind));
  ck_assert_str_eq(log->str, "command;error;done;close;");
  ck_assert_int_eq(imap_cli_state_get(c), IMAP_CLI_DONE);
  g_string_free(log, TRUE);
  imap_cli_free(c);
  /* reply timeout */
  c = imap_cli_new(&ok, NULL, 0);
  ck_assert_int_eq(imap_cli_deadline(c), (int64_t)300 * 1000000000);
  imap_cli_tick(c, (int64_t)300 * 1000000000);
  ck_assert_int_eq(imap_cli_state_get(c), IMAP_CLI_DONE);
  imap_cli_free(c);
  mailstore_free(st);
}
END_TEST

/* The capability words of a greeting, found in any case and position,
 * with runs of spaces, and only as whole words (RFC 3501 §7.2.1). */
START_TEST(capability_words) {
  static const struct {
    const char *greeting;
    bool starttls;
  } rows[] = {
      {"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n", true},
      {"* OK [CAPABILITY STARTTLS] hi\r\n", true},
      {"* OK [CAPABILITY IMAP4rev1  starttls] hi\r\n", true},
      {"* OK [CAPABILITY IMAP4rev1 STARTTLSX LOGINDISABLED] hi\r\n", false},
      {"* OK [CAPABILITY IMAP4rev1 XSTARTTLS STARTTL] hi\r\n", false},
      {"* OK [CAPABILITY ] hi\r\n", false},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    imap_cli_config cc = {
        .user = "bob", .pass = "secret", .use_starttls = true, .require_tls = true};
    imap_cli *c = imap_cli_new(&cc, NULL, 0);
    imap_cli_feed(c, rows[i].greeting, strlen(rows[i].greeting), 1);
    size_t n;
    const uint8_t *out = imap_cli_output_peek(c, &n);
    char *o = g_strndup((const char *)out, n);
    ck_assert_msg((strstr(o, "STARTTLS") != NULL) == rows[i].starttls, "%s: got output \"%s\"",
                  rows[i].greeting, o);
    g_free(o);
    imap_cli_free(c);
  }
}
END_TEST

/* imap_fmt: what printf would write, for the conversions it expands and
 * for those it hands on. */
G_GNUC_PRINTF(2, 3) static void fmt_check(const char *want_note, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  GByteArray *got = g_byte_array_new();
  g_byte_array_append(got, (const guint8 *)"x", 1); /* appends, keeps what was there */
  imap_fmt_append(got, fmt, ap);
  char *want = g_strdup_vprintf(fmt, ap2);
  va_end(ap2);
  va_end(ap);
  ck_assert_msg(got->len == strlen(want) + 1 && memcmp(got->data + 1, want, strlen(want)) == 0,
                "%s: got \"%.*s\", want \"%s\"", want_note, (int)got->len - 1, got->data + 1, want);
  g_byte_array_free(got, TRUE);
  g_free(want);
}

START_TEST(fmt_like_printf) {
  fmt_check("plain", "NAMESPACE completed");
  fmt_check("empty", "%s", "");
  fmt_check("uint", "%u EXISTS", 0u);
  fmt_check("uint max", "%u RECENT", 4294967295u);
  fmt_check("size_t", "+OK %zu messages", (size_t)1234567);
  fmt_check("unsigned long", "%lu octets", 18446744073709551615ul);
  fmt_check("mixed", "[%s] %s completed at %u%%", "READ-WRITE", "SELECT", 42u);
  fmt_check("null", "%s done", (const char *)NULL);
  fmt_check("adjacent", "%s%u%s", "a", 7u, "b");
  fmt_check("handed on", "%03u %x %.3s", 5u, 255u, "abcdef");
  fmt_check("trailing", "UID %u:*", 17u);
  fmt_check("many numbers", "%u %u %u %u %u %u %u %u %lu %zu.", 1u, 22u, 333u, 4444u, 0u, 6u, 77u,
            88u, 9ul, (size_t)10);
  fmt_check("many pieces", "%s-%s-%s-%s-%s-%s-%s-%s-%s-%s%%%u", "a", "", "c", "dd", "e", "f", "g",
            "h", "i", "j", 5u);
  fmt_check("nothing", "%s", "");
  /* command tags: what "C%03u" gives */
  static const unsigned tags[] = {0, 1, 9, 10, 99, 100, 999, 1000, 12345, 4294967295u};
  for (size_t i = 0; i < G_N_ELEMENTS(tags); i++) {
    char got[12], want[16];
    size_t n = imap_fmt_tag(got, tags[i]);
    g_snprintf(want, sizeof want, "C%03u", tags[i]);
    ck_assert_msg(strcmp(got, want) == 0 && n == strlen(want), "tag %u: got %s want %s", tags[i],
                  got, want);
  }
}
END_TEST

/* imap_cli_renew gives the engine imap_cli_new would: every conversation
 * below, run on an engine renewed from one left in each of these states,
 * has the events, bodies and sent bytes of a new engine. */
START_TEST(renewed_engine_same_as_new) {
  imap_srv_config tls_sc = {
      .hostname = "imap.example", .tls_available = true, .tls_required = true};
  const struct {
    imap_cli_config cc;
    const imap_srv_config *sc;
  } targets[] = {
      {{.user = "bob", .pass = "secret", .mark_seen = true}, NULL},
      {{.user = "bob", .pass = "secret", .mark_seen = true, .uidvalidity = 1, .last_uid = 2}, NULL},
      {{.user = "bob", .pass = "secret", .move_to = "Archive"}, NULL},
      {{.user = "bob", .pass = "secret", .use_starttls = true}, &tls_sc},
      {{.user = "bob", .pass = "nope"}, NULL},
      {{.user = "bob", .pass = "secret", .require_tls = true}, NULL},
  };
  enum { COMPLETE, CUT, BIG, IDLING, FRESH_TICKED, NPRIOR };
  GString *big = g_string_new("Subject: big\r\n\r\n");
  while (big->len < 100000)
    g_string_append(big,
                    "0123456789012345678901234567890123456789012345678901234567890123456789\r\n");
  for (size_t ci = 0; ci < G_N_ELEMENTS(chunks); ci += 2) {
    for (int prior = 0; prior < NPRIOR; prior++) {
      for (size_t t = 0; t < G_N_ELEMENTS(targets); t++) {
        mailstore *st = store_new();
        conv want;
        conv_init(&want, st, targets[t].sc, &targets[t].cc, chunks[ci]);
        run(&want);
        mailstore_free(st);
        /* the prior session, on a store of its own */
        mailstore *pst = store_new();
        imap_cli_config pc = {.user = "bob", .pass = "secret", .mark_seen = true};
        if (prior == BIG)
          deliver(pst, big->str);
        if (prior == IDLING)
          pc.idle = true;
        conv y;
        conv_init(&y, pst, NULL, &pc, prior == CUT ? 5 : 1u << 30);
        if (prior == CUT) { /* half a reply fed, events and output pending */
          imap_cli_feed(y.cli, "* OK ready\r\n* CAPA", 19, 1);
        } else if (prior == FRESH_TICKED) {
          imap_cli_tick(y.cli, (int64_t)400 * 1000000000);
        } else {
          run(&y);
        }
        imap_cli *old = y.cli;
        y.cli = NULL;
        conv_clear(&y);
        mailstore_free(pst);
        imap_cli *c = imap_cli_renew(old, &targets[t].cc, NULL, 0);
        ck_assert_ptr_eq(c, old); /* the storage is reused */
        st = store_new();
        conv got;
        conv_init_on(&got, st, targets[t].sc, &targets[t].cc, chunks[ci], c);
        run(&got);
        ck_assert_msg(strcmp(got.log->str, want.log->str) == 0,
                      "chunk %zu prior %d target %zu: got events %s want %s", chunks[ci], prior, t,
                      got.log->str, want.log->str);
        ck_assert_msg(strcmp(got.sent->str, want.sent->str) == 0,
                      "chunk %zu prior %d target %zu: got sent %s want %s", chunks[ci], prior, t,
                      got.sent->str, want.sent->str);
        ck_assert_uint_eq(got.bodies->len, want.bodies->len);
        for (guint i = 0; i < got.bodies->len; i++)
          ck_assert_str_eq(got.bodies->pdata[i], want.bodies->pdata[i]);
        ck_assert_int_eq(imap_cli_deadline(got.cli), imap_cli_deadline(want.cli));
        /* kept as a spare, or freed when there is one */
        imap_cli *spare = NULL;
        imap_cli_keep(&spare, got.cli);
        ck_assert_ptr_eq(spare, c);
        imap_cli_keep(&spare, imap_cli_new(&targets[t].cc, NULL, 0));
        ck_assert_ptr_eq(spare, c);
        got.cli = NULL;
        conv_clear(&got);
        imap_cli_free(spare);
        conv_clear(&want);
        mailstore_free(st);
      }
    }
  }
  /* renewing NULL is imap_cli_new */
  imap_cli *n = imap_cli_renew(NULL, &targets[0].cc, NULL, 7);
  ck_assert_int_eq(imap_cli_deadline(n), 7 + (int64_t)300 * 1000000000);
  imap_cli_free(n);
  g_string_free(big, TRUE);
}
END_TEST

/* ---- against a scripted server ---- */

/* Feeds the client REPLIES[i] in turn, each in chunks of CHUNK octets
 * after the commands the previous ones drew; the log holds what the client
 * sent and its events. */
static char *scripted_env(const char *const *replies, size_t n, size_t chunk, const imap_env *env,
                          unsigned *lines) {
  imap_cli_config cc = {.user = "bob", .pass = "pw"};
  imap_cli *c = imap_cli_new(&cc, env, 0);
  GString *log = g_string_new(NULL);
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(replies[i]);
    for (size_t off = 0; off < len; off += chunk)
      imap_cli_feed(c, replies[i] + off, MIN(chunk, len - off), (int64_t)i);
    imap_cli_event ev;
    while (imap_cli_next_event(c, &ev)) {
      if (ev.kind == IMAP_CLI_EV_COMMAND || ev.kind == IMAP_CLI_EV_REPLY) {
        (*lines)++;
        continue;
      }
      g_string_append(log, imap_cli_event_name(ev.kind));
      if (ev.kind == IMAP_CLI_EV_MESSAGE)
        g_string_append_printf(log, "(%u/%u %s [%.*s])", ev.uidvalidity, ev.uid, ev.text,
                               (int)g_bytes_get_size(ev.data),
                               (const char *)g_bytes_get_data(ev.data, NULL));
      g_string_append(log, "; ");
    }
    size_t k;
    const uint8_t *p = imap_cli_output_peek(c, &k);
    g_string_append_printf(log, "> %.*s", (int)k, (const char *)p);
    imap_cli_output_consume(c, k);
  }
  imap_cli_free(c);
  return g_string_free(log, FALSE);
}

static char *scripted(const char *const *replies, size_t n, size_t chunk) {
  unsigned lines = 0;
  return scripted_env(replies, n, chunk, NULL, &lines);
}

static void trace_to(void *ud, const char *ev, const char *detail) {
  g_string_append_printf(ud, "%s:%s|", ev, detail);
}

/* Responses read where they lie: item names in any case, a literal, a
 * quoted (escaped) and an atom body, a repeated BODY[] (the last wins),
 * items skipped, a NIL body (no message), SEARCH words with tabs, empty
 * words, an overlong number and a word that is none. */
START_TEST(responses_read_in_place) {
  static const char *const r[] = {
      "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n",
      "C001 OK done\r\n",
      "* 3 EXISTS\r\n* OK [UIDNEXT 10] y [UIDVALIDITY 9] x\r\nC002 OK [READ-WRITE] sel\r\n",
      "* SEARCH 2\t 5 6  7 9 123456789012345678901234567890 x\r\nC003 OK s\r\n",
      ("* 1 FETCH (uid 2 flags (\\Seen) body[] {3}\r\nabc)\r\n"
       "* 2 FETCH (UID 5 BODY[] \"q\\\"x\" FLAGS ())\r\n"
       "* 3 FETCH (UID 6 BODY[] {1}\r\nA BODY[] {2}\r\nBB)\r\n"
       "* 4 FETCH (UID 7 X-ODD {2}\r\nzz RFC822 atom)\r\n"
       "* 5 FETCH (UID 9 BODY[] NIL)\r\n"
       "C004 OK f\r\n"),
      "* BYE bye\r\nC005 OK bye\r\n"};
  static const size_t sizes[] = {1, 2, 3, 7, 4096};
  char *want = scripted(r, G_N_ELEMENTS(r), 4096);
  ck_assert_str_eq(want,
                   "> C001 AUTHENTICATE PLAIN AGJvYgBwdw==\r\n"
                   "> C002 SELECT \"INBOX\"\r\n"
                   "> C003 UID SEARCH UID 1:*\r\n"
                   "> C004 UID FETCH 2,5:7,9,4294967295 (UID FLAGS BODY.PEEK[])\r\n"
                   "message(9/2 (\\Seen) [abc]); message(9/5 () [q\"x]); message(9/6 () [BB]); "
                   "message(9/7 () [atom]); synced; > C005 LOGOUT\r\n"
                   "done; close; > ");
  for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
    char *got = scripted(r, G_N_ELEMENTS(r), sizes[i]);
    ck_assert_msg(strcmp(got, want) == 0, "chunk %zu: got %s", sizes[i], got);
    g_free(got);
  }
  /* lines_quiet: the same session and trace, no COMMAND or REPLY event */
  char *got[4];
  unsigned lines[4] = {0, 0, 0, 0};
  GString *tr[4];
  for (int k = 0; k < 4; k++) {
    tr[k] = g_string_new(NULL);
    imap_env env = {k & 1 ? trace_to : NULL, tr[k], k >= 2};
    got[k] = scripted_env(r, G_N_ELEMENTS(r), 5, &env, &lines[k]);
    ck_assert_str_eq(got[k], want);
  }
  ck_assert_str_eq(tr[1]->str, tr[3]->str);
  ck_assert_msg(strstr(tr[1]->str, "cmd:C001 AUTHENTICATE ****|") != NULL, "trace: %s", tr[1]->str);
  ck_assert(lines[0] > 0 && lines[1] > 0 && lines[2] == 0 && lines[3] == 0);
  for (int k = 0; k < 4; k++) {
    g_free(got[k]);
    g_string_free(tr[k], TRUE);
  }
  g_free(want);
}
END_TEST

/* Names in any case and numbers as g_ascii_strtoull reads them: signs,
 * leading zeros, digits running into letters, more than 19 digits, values
 * past 2^32 (cut to 32 bits) and past 2^64 (the largest). */
START_TEST(names_and_numbers_any_form) {
  static const char *const r[] = {
      "* OK [capability imap4rev1] hi\r\n",
      "* capability IMAP4rev1 Auth=Plain sasl-IR\r\nC001 ok\r\n",
      "C002 ok done\r\n",
      "* 3 exists\r\n* 00000000000000000000004 EXISTS\r\n* OK [UIDVALIDITY +00009] x\r\nC003 "
      "OK sel\r\n",
      ("* search 5 +6 -1 12abc 00000000000000000000007 4294967304 18446744073709551616\r\n"
       "C004 OK s\r\n"),
      ("* 1 fetch (UID +5 BODY[] {1}\r\nA)\r\n* 2 FETCH (uid 0012 body[] {1}\r\nB)\r\n"
       "* 3 FETCH (UID 00000000000000000000007 BODY[] {1}\r\nC)\r\nC005 OK f\r\n"),
      "* BYE bye\r\nC006 OK bye\r\n"};
  static const size_t sizes[] = {1, 2, 3, 7, 4096};
  for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
    char *got = scripted(r, G_N_ELEMENTS(r), sizes[i]);
    ck_assert_msg(strcmp(got, "> C001 CAPABILITY\r\n"
                              "> C002 AUTHENTICATE PLAIN AGJvYgBwdw==\r\n"
                              "> C003 SELECT \"INBOX\"\r\n"
                              "> C004 UID SEARCH UID 1:*\r\n"
                              "> C005 UID FETCH 5:6,4294967295,12,7:8,4294967295 (UID FLAGS "
                              "BODY.PEEK[])\r\n"
                              "message(9/5 () [A]); message(9/12 () [B]); message(9/7 () [C]); "
                              "synced; > C006 LOGOUT\r\ndone; close; > ") == 0,
                  "chunk %zu: got %s", sizes[i], got);
    g_free(got);
  }
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("imap_cli");
  TCase *tc = tcase_create("conversations");
  tcase_add_test(tc, fetch_new_mark_seen_then_incremental);
  tcase_add_test(tc, move_to_archive);
  tcase_add_test(tc, long_uid_sets);
  tcase_add_test(tc, starttls_required);
  tcase_add_test(tc, idle_then_new_mail_then_stop);
  tcase_add_test(tc, bad_password_and_hangup);
  tcase_add_test(tc, capability_words);
  tcase_add_test(tc, fmt_like_printf);
  tcase_add_test(tc, renewed_engine_same_as_new);
  tcase_add_test(tc, responses_read_in_place);
  tcase_add_test(tc, names_and_numbers_any_form);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
