/* Tests for smtp_cmd and smtp_reply: verbs, paths, ESMTP parameters, xtext,
 * strict base64 and PLAIN, reply formatting and parsing. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_cmd.h"
#include "smtp_reply.h"
#include "testutil.h"

static const struct {
  const char *line;
  smtp_verb verb;
  const char *arg;
} verbs[] = {
    {"EHLO x", SMTP_VERB_EHLO, "x"},
    {"ehlo  x y", SMTP_VERB_EHLO, "x y"},
    {"MAIL FROM:<>", SMTP_VERB_MAIL, "FROM:<>"},
    {"DATA", SMTP_VERB_DATA, ""},
    {"DATAX", SMTP_VERB_UNKNOWN, ""},
    {"rcpt TO:<a@b.c>", SMTP_VERB_RCPT, "TO:<a@b.c>"},
    {"ehlo x", SMTP_VERB_EHLO, "x"},
    {"HELP", SMTP_VERB_HELP, ""},
    {"H", SMTP_VERB_UNKNOWN, ""},
    {" HELO x", SMTP_VERB_UNKNOWN, ""},
    {"", SMTP_VERB_UNKNOWN, ""},
    {"StartTLS", SMTP_VERB_STARTTLS, ""},
    {"QUIT now", SMTP_VERB_QUIT, "now"},
    {"BDAT 5 LAST", SMTP_VERB_BDAT, "5 LAST"},
    /* verbs compared four octets at a time: case, length and near misses */
    {"sTaRtTlS x", SMTP_VERB_STARTTLS, "x"},
    {"STARTTL", SMTP_VERB_UNKNOWN, ""},
    {"STARTTLSX", SMTP_VERB_UNKNOWN, ""},
    {"STARTTLX", SMTP_VERB_UNKNOWN, ""},
    {"XTARTTLS", SMTP_VERB_UNKNOWN, ""},
    {"vRfY a", SMTP_VERB_VRFY, "a"},
    {"MAI", SMTP_VERB_UNKNOWN, ""},
    {"MAIL\tFROM:<>", SMTP_VERB_UNKNOWN, ""},
    {"MAI\x0c FROM:<>", SMTP_VERB_UNKNOWN, ""}, /* 'L' ^ 0x40: not a case */
    {"M\xc1IL x", SMTP_VERB_UNKNOWN, ""},       /* 'A' | 0x80 */
    {"QUIT ", SMTP_VERB_QUIT, ""},
    {"etrn x", SMTP_VERB_ETRN, "x"},
    {"TURN", SMTP_VERB_TURN, ""},
    {"expn x", SMTP_VERB_EXPN, "x"},
    {"noop", SMTP_VERB_NOOP, ""},
    {"rset", SMTP_VERB_RSET, ""},
    {"auth PLAIN", SMTP_VERB_AUTH, "PLAIN"},
};

START_TEST(verb_parse) {
  smtp_cmd c;
  smtp_cmd_parse(verbs[_i].line, &c);
  ck_assert_msg(c.verb == verbs[_i].verb, "%s: got %s want %s", verbs[_i].line,
                smtp_cmd_verb_name(c.verb), smtp_cmd_verb_name(verbs[_i].verb));
  if (c.verb != SMTP_VERB_UNKNOWN)
    ck_assert_str_eq(c.arg, verbs[_i].arg);
}
END_TEST

/* The verb rule as it was written before the switch: the line's first
 * word, if four or eight octets, equal to a name with every octet's bit 5
 * ignored (RFC 5321 §2.4: verbs are case-insensitive). */
static smtp_verb ref_verb(const char *line) {
  static const char *const names[] = {"?",    "HELO", "EHLO", "MAIL", "RCPT", "DATA",
                                      "RSET", "NOOP", "QUIT", "VRFY", "HELP", "STARTTLS",
                                      "AUTH", "EXPN", "ETRN", "TURN", "BDAT"};
  size_t n = 0;
  while (line[n] && line[n] != ' ')
    n++;
  for (int v = 1; v < SMTP_VERB__COUNT; v++) {
    const char *name = smtp_cmd_verb_name((smtp_verb)v);
    ck_assert_str_eq(name, names[v]);
    if (strlen(name) != n)
      continue;
    size_t i = 0;
    while (i < n && ((unsigned char)line[i] & 0xDF) == (unsigned char)name[i])
      i++;
    if (i == n)
      return (smtp_verb)v;
  }
  return SMTP_VERB_UNKNOWN;
}

/* Every name, and every octet at every place of every name (in upper and
 * lower case), against ref_verb(). */
START_TEST(verb_every_octet) {
  int found = 0;
  for (int v = 1; v < SMTP_VERB__COUNT; v++) {
    for (int lower = 0; lower < 2; lower++) {
      char line[16];
      g_strlcpy(line, smtp_cmd_verb_name((smtp_verb)v), sizeof line);
      size_t n = strlen(line);
      if (lower)
        for (size_t i = 0; i < n; i++)
          line[i] = g_ascii_tolower(line[i]);
      memcpy(line + n, " x", 3);
      smtp_cmd c;
      smtp_cmd_parse(line, &c);
      ck_assert_msg(c.verb == (smtp_verb)v, "%s: got %s want %s", line, smtp_cmd_verb_name(c.verb),
                    smtp_cmd_verb_name((smtp_verb)v));
      for (size_t i = 0; i < n; i++) {
        char keep = line[i];
        for (int b = 1; b < 256; b++) {
          line[i] = (char)b;
          smtp_cmd_parse(line, &c);
          smtp_verb want = ref_verb(line);
          ck_assert_msg(c.verb == want, "%s (octet %d at %zu): got %s want %s", line, b, i,
                        smtp_cmd_verb_name(c.verb), smtp_cmd_verb_name(want));
          found += want != SMTP_VERB_UNKNOWN;
        }
        line[i] = keep;
      }
    }
  }
  ck_assert_int_gt(found, 0);
}
END_TEST

static const struct {
  const char *addr;
  bool ok;
} mailboxes[] = {
    {"a@b.c", true},
    {"a.b@c", true},
    {"\"a b\"@c.d", true},
    {"\"a\\\"b\"@c.d", true},
    {"a@[192.0.2.1]", true},
    {"a@[IPv6:2001:db8::1]", true},
    {"a..b@c", false},
    {".a@c", false},
    {"a.@c", false},
    {"a@", false},
    {"@c", false},
    {"a@b..c", false},
    {"a@-b", false},
    {"a@b-", false},
    {"a b@c", false},
    {"a@b c", false},
    {"\xc3\xa4@b.c", false},
    {"a@b_c.d", false},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@b.c", false}, /* 65 */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@b.c", true},   /* 64 */
};

START_TEST(mailbox_syntax) {
  ck_assert_msg(smtp_cmd_mailbox_valid(mailboxes[_i].addr) == mailboxes[_i].ok, "%s: got %d",
                mailboxes[_i].addr, !mailboxes[_i].ok);
}
END_TEST

static const struct {
  const char *arg;
  unsigned allowed;
  int code;
  const char *from;
} mails[] = {
    {"FROM:<a@b.c>", 0, 0, "a@b.c"},
    {"from:<>", 0, 0, ""},
    {"FROM: <a@b.c>", 0, 0, "a@b.c"},
    {"FROM:<@x.y,@z.w:a@b.c>", 0, 0, "a@b.c"},
    {"FROM:a@b.c", 0, 501, NULL},
    {"FROM:<a@b.c", 0, 501, NULL},
    {"FROM:<a@b.c>x", 0, 501, NULL},
    {"TO:<a@b.c>", 0, 501, NULL},
    {"FROM:<a@@b.c>", 0, 501, NULL},
    {"FROM:<a@b.c> SIZE=10", 0, 555, NULL},
    {"FROM:<a@b.c> SIZE=10", SMTP_CMD_P_SIZE, 0, "a@b.c"},
    {"FROM:<a@b.c> SIZE=", SMTP_CMD_P_SIZE, 501, NULL},
    {"FROM:<a@b.c> SIZE=99999999999999999999999", SMTP_CMD_P_SIZE, 501, NULL},
    {"FROM:<a@b.c> SIZE=1001", SMTP_CMD_P_SIZE, 552, NULL},
    {"FROM:<a@b.c> BODY=BINARYMIME", SMTP_CMD_P_BODY, 501, NULL},
    {"FROM:<a@b.c> body=7bit", SMTP_CMD_P_BODY, 0, "a@b.c"},
    {"FROM:<a@b.c> RET=FULL ENVID=x+41", SMTP_CMD_P_DSN, 0, "a@b.c"},
    {"FROM:<a@b.c> ENVID=x+4", SMTP_CMD_P_DSN, 501, NULL},
    {"FROM:<a@b.c> ENVID=x=y", SMTP_CMD_P_DSN, 501, NULL},
    {"FROM:<a@b.c> RET=ALL", SMTP_CMD_P_DSN, 501, NULL},
    {"FROM:<a@b.c> AUTH=<>", SMTP_CMD_P_AUTH, 0, "a@b.c"},
    {"FROM:<a@b.c>  SIZE=1  ", SMTP_CMD_P_SIZE, 0, "a@b.c"},
    {"FROM:<a@b.c> =1", SMTP_CMD_P_SIZE, 501, NULL},
};

START_TEST(mail_parse) {
  smtp_cmd_mail m;
  smtp_cmd_status st = smtp_cmd_parse_mail(mails[_i].arg, mails[_i].allowed, 1000, &m);
  ck_assert_msg(st.code == mails[_i].code, "%s: got %d want %d", mails[_i].arg, st.code,
                mails[_i].code);
  if (st.code == 0)
    ck_assert_str_eq(m.from, mails[_i].from);
  else
    ck_assert_ptr_null(m.from);
  smtp_cmd_mail_clear(&m);
}
END_TEST

/* Parameter lists of any length (the list is cut in a copy: on the stack
 * below 512 octets, else on the heap): spaces around the parameters, the
 * last one good or bad. */
START_TEST(long_param_list) {
  static const struct {
    const char *last;
    int code;
  } rows[] = {{"BODY=7BIT", 0}, {"BODY=9BIT", 501}, {"X=1", 555}, {"=1", 501}, {"", 0}};
  for (size_t pad = 500; pad < 530; pad++) {
    for (size_t r = 0; r < G_N_ELEMENTS(rows); r++) {
      GString *arg = g_string_new("FROM:<a@b.c> SIZE=7");
      for (size_t i = 0; i < pad; i++)
        g_string_append_c(arg, ' ');
      g_string_append(arg, rows[r].last);
      smtp_cmd_mail m;
      smtp_cmd_status st =
          smtp_cmd_parse_mail(arg->str, SMTP_CMD_P_SIZE | SMTP_CMD_P_BODY, 1000, &m);
      ck_assert_msg(st.code == rows[r].code, "pad %zu, %s: got %d want %d", pad, rows[r].last,
                    st.code, rows[r].code);
      if (st.code == 0)
        ck_assert_msg(m.has_size && m.size == 7, "pad %zu: SIZE lost", pad);
      smtp_cmd_mail_clear(&m);
      g_string_free(arg, TRUE);
    }
  }
}
END_TEST

static const struct {
  const char *arg;
  int code;
  unsigned notify;
  const char *orcpt;
} rcpts[] = {
    {"TO:<a@b.c>", 0, 0, NULL},
    {"TO:<postmaster>", 0, 0, NULL},
    {"TO:<>", 501, 0, NULL},
    {"TO:<a@b.c> NOTIFY=NEVER", 0, SMTP_NOTIFY_NEVER, NULL},
    {"TO:<a@b.c> NOTIFY=NEVER,DELAY", 501, 0, NULL},
    {"TO:<a@b.c> NOTIFY=failure,delay", 0, SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY, NULL},
    {"TO:<a@b.c> NOTIFY=SOMETIMES", 501, 0, NULL},
    {"TO:<a@b.c> ORCPT=rfc822;a+40b.c", 0, 0, "rfc822;a+40b.c"},
    {"TO:<a@b.c> ORCPT=;x", 501, 0, NULL},
    {"TO:<a@b.c> ORCPT=rfc822", 501, 0, NULL},
    {"TO:<a@b.c> FOO=BAR", 555, 0, NULL},
};

START_TEST(rcpt_parse) {
  smtp_cmd_rcpt r;
  smtp_cmd_status st = smtp_cmd_parse_rcpt(rcpts[_i].arg, SMTP_CMD_P_DSN, &r);
  ck_assert_msg(st.code == rcpts[_i].code, "%s: got %d want %d", rcpts[_i].arg, st.code,
                rcpts[_i].code);
  if (st.code == 0) {
    ck_assert_uint_eq(r.notify, rcpts[_i].notify);
    if (rcpts[_i].orcpt)
      ck_assert_str_eq(r.orcpt, rcpts[_i].orcpt);
    else
      ck_assert_ptr_null(r.orcpt);
  }
  smtp_cmd_rcpt_clear(&r);
}
END_TEST

/* The _in parsers give what the allocating ones give, their strings in
 * one arena: every MAIL and RCPT row parsed into the same arena (many
 * blocks' worth), each result compared with the allocating parse, then
 * every string checked again at the end (copies never move), a reset and
 * the rows again (the first block reused), and a clear. */
START_TEST(arena_parse) {
  smtp_cmd_arena a = {0};
  for (int round = 0; round < 2; round++) {
    enum { REPEAT = 40 };
    smtp_cmd_mail got_m[REPEAT * G_N_ELEMENTS(mails)];
    smtp_cmd_rcpt got_r[REPEAT * G_N_ELEMENTS(rcpts)];
    size_t nm = 0, nr = 0;
    for (int k = 0; k < REPEAT; k++) {
      for (size_t i = 0; i < G_N_ELEMENTS(mails); i++, nm++) {
        smtp_cmd_status st = smtp_cmd_parse_mail_in(
            mails[i].arg, mails[i].allowed | SMTP_CMD_P_DSN | SMTP_CMD_P_AUTH, 1000, &got_m[nm],
            &a);
        if (st.code)
          ck_assert(!got_m[nm].from && !got_m[nm].envid && !got_m[nm].auth);
      }
      for (size_t i = 0; i < G_N_ELEMENTS(rcpts); i++, nr++) {
        smtp_cmd_status st = smtp_cmd_parse_rcpt_in(rcpts[i].arg, SMTP_CMD_P_DSN, &got_r[nr], &a);
        if (st.code)
          ck_assert(!got_r[nr].to && !got_r[nr].orcpt);
      }
    }
    for (size_t j = 0; j < nm; j++) { /* all still there, as the allocating parse gives them */
      const char *arg = mails[j % G_N_ELEMENTS(mails)].arg;
      smtp_cmd_mail want;
      smtp_cmd_parse_mail(arg,
                          mails[j % G_N_ELEMENTS(mails)].allowed | SMTP_CMD_P_DSN | SMTP_CMD_P_AUTH,
                          1000, &want);
      ck_assert_msg(g_strcmp0(got_m[j].from, want.from) == 0 &&
                        g_strcmp0(got_m[j].envid, want.envid) == 0 &&
                        g_strcmp0(got_m[j].auth, want.auth) == 0 && got_m[j].size == want.size,
                    "%s: from %s want %s", arg, got_m[j].from, want.from);
      smtp_cmd_mail_clear(&want);
    }
    for (size_t j = 0; j < nr; j++) {
      const char *arg = rcpts[j % G_N_ELEMENTS(rcpts)].arg;
      smtp_cmd_rcpt want;
      smtp_cmd_parse_rcpt(arg, SMTP_CMD_P_DSN, &want);
      ck_assert_msg(g_strcmp0(got_r[j].to, want.to) == 0 &&
                        g_strcmp0(got_r[j].orcpt, want.orcpt) == 0 &&
                        got_r[j].notify == want.notify,
                    "%s: to %s want %s", arg, got_r[j].to, want.to);
      smtp_cmd_rcpt_clear(&want);
    }
    smtp_cmd_arena_reset(&a);
  }
  /* a copy longer than a block gets a block of its own */
  char *big = g_strnfill(5000, 'x');
  char *c1 = smtp_cmd_arena_strndup(&a, "ab", 2), *c2 = smtp_cmd_arena_strndup(&a, big, 5000);
  char *c3 = smtp_cmd_arena_strndup(&a, "cd", 1);
  ck_assert_str_eq(c1, "ab");
  ck_assert_str_eq(c2, big);
  ck_assert_str_eq(c3, "c");
  g_free(big);
  smtp_cmd_arena_clear(&a);
  ck_assert_ptr_null(a.head);
  smtp_cmd_arena_clear(&a); /* twice: a no-op */
}
END_TEST

static const struct {
  const char *b64;
  const char *want; /* NULL: rejected */
  size_t len;
} b64s[] = {
    {"YWxpY2U=", "alice", 5}, {"=", "", 0},      {"YWxp", "ali", 3}, {"YWxpY2U", NULL, 0},
    {"YW xp", NULL, 0},       {"YW!p", NULL, 0}, {"Y=xp", NULL, 0},  {"", NULL, 0},
    {"YQ==", "a", 1},         {"YQ=a", NULL, 0},
};

START_TEST(base64_strict) {
  gsize len = 99;
  guchar *got = smtp_cmd_b64_decode(b64s[_i].b64, &len);
  if (!b64s[_i].want) {
    ck_assert_msg(got == NULL, "%s: accepted", b64s[_i].b64);
    return;
  }
  ck_assert_msg(got != NULL, "%s: rejected", b64s[_i].b64);
  ck_assert_uint_eq(len, b64s[_i].len);
  ck_assert_str_eq((char *)got, b64s[_i].want);
  g_free(got);
}
END_TEST

START_TEST(plain_split) {
  char *z, *c, *p;
  ck_assert(smtp_cmd_plain_split((const guchar *)"\0u\0pw", 5, &z, &c, &p));
  ck_assert_str_eq(z, "");
  ck_assert_str_eq(c, "u");
  ck_assert_str_eq(p, "pw");
  g_free(z), g_free(c), g_free(p);
  ck_assert(!smtp_cmd_plain_split((const guchar *)"u\0pw", 4, &z, &c, &p));
  ck_assert(!smtp_cmd_plain_split((const guchar *)"\0\0pw", 4, &z, &c, &p));
  ck_assert(!smtp_cmd_plain_split((const guchar *)"\0u\0", 3, &z, &c, &p));
  ck_assert(!smtp_cmd_plain_split((const guchar *)"\0u\0p\0w", 6, &z, &c, &p));
}
END_TEST

/* ---- replies ---- */

static const struct {
  int code;
  const char *esc, *text, *want;
} fmts[] = {
    {250, "2.1.0", "Ok", "250 2.1.0 Ok\r\n"},
    {250, NULL, "a\nb\nc", "250-a\r\n250-b\r\n250 c\r\n"},
    {334, "", "", "334 \r\n"},
    {554, "5.7.1", "x\ny", "554-5.7.1 x\r\n554 5.7.1 y\r\n"},
};

START_TEST(reply_format) {
  GString *s = g_string_new(NULL);
  smtp_reply_append(s, fmts[_i].code, fmts[_i].esc, fmts[_i].text);
  ck_assert_str_eq(s->str, fmts[_i].want);
  g_string_free(s, TRUE);
}
END_TEST

/* smtp_reply_append_line writes what smtp_reply_append writes of the same
 * one-line text, cut into A and B at every place, with and without an
 * enhanced code, after text already in the string and past its room. */
START_TEST(reply_line_as_append) {
  static const char *const texts[] = {"", "Ok", "Ok: queued as 4F2A9C", "mx.example ESMTP",
                                      "End data with <CR><LF>.<CR><LF>"};
  static const char *const escs[] = {NULL, "", "2.0.0", "5.7.11"};
  static const int codes[] = {220, 250, 354, 421, 599};
  int runs = 0;
  for (size_t t = 0; t < G_N_ELEMENTS(texts); t++)
    for (size_t e = 0; e < G_N_ELEMENTS(escs); e++)
      for (size_t c = 0; c < G_N_ELEMENTS(codes); c++)
        for (size_t cut = 0; cut <= strlen(texts[t]); cut++)
          for (size_t pre = 0; pre < 3; pre++) {
            GString *want = g_string_sized_new(pre * 7), *got = g_string_sized_new(pre * 7);
            for (size_t k = 0; k < pre * 5; k++)
              g_string_append(want, "x"), g_string_append(got, "x");
            smtp_reply_append(want, codes[c], escs[e], texts[t]);
            const char *b = texts[t] + cut;
            smtp_reply_append_line(got, codes[c], escs[e], escs[e] ? strlen(escs[e]) : 0, texts[t],
                                   cut, *b ? b : NULL, strlen(b));
            ck_assert_msg(strcmp(got->str, want->str) == 0 && got->len == want->len,
                          "got %s want %s", got->str, want->str);
            g_string_free(want, TRUE), g_string_free(got, TRUE);
            runs++;
          }
  ck_assert_int_gt(runs, 0);
}
END_TEST

static const struct {
  const char *lines; /* '|' separated */
  smtp_reply_status last;
  int code;
  const char *esc, *text;
} parses[] = {
    {"250 ok", SMTP_REPLY_COMPLETE, 250, "", "ok"},
    {"250", SMTP_REPLY_COMPLETE, 250, "", ""},
    {"250-a|250-b|250 c", SMTP_REPLY_COMPLETE, 250, "", "a\nb\nc"},
    {"550 5.1.1 no", SMTP_REPLY_COMPLETE, 550, "5.1.1", "no"},
    {"550 4.1.1 class mismatch", SMTP_REPLY_COMPLETE, 550, "", "4.1.1 class mismatch"},
    {"451-4.3.0 a|451 4.3.0 b", SMTP_REPLY_COMPLETE, 451, "4.3.0", "a\nb"},
    {"250-a", SMTP_REPLY_MORE, 250, "", "a"},
    {"250-a|251 b", SMTP_REPLY_BAD, 0, NULL, NULL},
    {"25 x", SMTP_REPLY_BAD, 0, NULL, NULL},
    {"250x", SMTP_REPLY_BAD, 0, NULL, NULL},
    {"650 x", SMTP_REPLY_BAD, 0, NULL, NULL},
    {"250 2.0.0x", SMTP_REPLY_COMPLETE, 250, "", "2.0.0x"},
};

START_TEST(reply_parse) {
  smtp_reply r;
  smtp_reply_init(&r);
  gchar **lines = g_strsplit(parses[_i].lines, "|", -1);
  smtp_reply_status st = SMTP_REPLY_MORE;
  for (gchar **l = lines; *l && st == SMTP_REPLY_MORE; l++)
    st = smtp_reply_feed_line(&r, *l, strlen(*l));
  ck_assert_msg(st == parses[_i].last, "%s: got %d want %d", parses[_i].lines, st, parses[_i].last);
  if (parses[_i].esc) {
    ck_assert_int_eq(r.code, parses[_i].code);
    ck_assert_str_eq(r.esc, parses[_i].esc);
    ck_assert_str_eq(r.text->str, parses[_i].text);
  }
  g_strfreev(lines);
  smtp_reply_clear(&r);
}
END_TEST

/* smtp_string_renew through a run of values: the slot always holds the
 * value; a value no longer than the text held is written over it in
 * place (the same block), and with WIPE the old text's octets beyond the
 * new end are zero; a longer one, or NULL, lets the block go. */
START_TEST(string_renew_in_place) {
  static const char *const vals[] = {
      "secret-one", "secret-one", "short", "tiny", "longer-than-before", "x", NULL, NULL, "again"};
  for (int wipe = 0; wipe < 2; wipe++) {
    char *slot = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(vals); i++) {
      char *before = slot;
      size_t old = slot ? strlen(slot) : 0;
      smtp_string_renew(&slot, vals[i], wipe);
      if (!vals[i]) {
        ck_assert_ptr_null(slot);
        continue;
      }
      ck_assert_str_eq(slot, vals[i]);
      size_t n = strlen(vals[i]);
      if (before && n <= old) {
        ck_assert_msg(slot == before, "row %zu: moved", i);
        for (size_t k = n; wipe && k <= old; k++)
          ck_assert_msg(slot[k] == 0, "row %zu: octet %zu not wiped", i, k);
      }
    }
    smtp_string_renew(&slot, NULL, wipe);
    ck_assert_ptr_null(slot);
  }
}
END_TEST

/* smtp_cmd_ieq / smtp_cmd_ieqn against g_ascii_strcasecmp /
 * g_ascii_strncasecmp: every pair of octets, alone, before a common tail
 * and before a NUL; prefixes of every length. */
START_TEST(ieq_every_pair) {
  for (int a = 1; a < 256; a++)
    for (int b = 1; b < 256; b++) {
      char x[4] = {(char)a, 'k', 0, 0}, y[4] = {(char)b, 'K', 0, 0};
      bool want = g_ascii_strcasecmp(x, y) == 0;
      ck_assert_msg(smtp_cmd_ieq(x, y) == want, "%02x %02x: got %d want %d", a, b, !want, want);
      x[1] = 0;
      want = g_ascii_strcasecmp(x, y) == 0;
      ck_assert_msg(smtp_cmd_ieq(x, y) == want, "%02x / %02xK", a, b);
      for (size_t n = 0; n < 4; n++) {
        want = g_ascii_strncasecmp(x, y, n) == 0;
        ck_assert_msg(smtp_cmd_ieqn(x, y, n) == want, "%02x %02x n=%zu: got %d want %d", a, b, n,
                      !want, want);
      }
    }
}
END_TEST

/* The mailbox syntax rule as it was written before the octet-class table
 * (RFC 5321 §4.1.2), the reference for mailbox_every_octet. */
static bool ref_atext(char c) {
  return g_ascii_isalnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}
static size_t ref_local(const char *s) {
  size_t i = 0;
  if (s[0] == '"') {
    for (i = 1; s[i] && s[i] != '"'; i++) {
      if (s[i] == '\\') {
        if (s[i + 1] < 32 || s[i + 1] > 126)
          return 0;
        i++;
      } else if (s[i] < 32 || s[i] > 126) {
        return 0;
      }
    }
    return s[i] == '"' ? i + 1 : 0;
  }
  for (;;) {
    size_t a = i;
    while (ref_atext(s[i]))
      i++;
    if (i == a)
      return 0;
    if (s[i] != '.')
      return i;
    i++;
  }
}
static bool ref_domain(const char *s, size_t n) {
  if (n == 0 || n > 255)
    return false;
  if (s[0] == '[') {
    if (s[n - 1] != ']' || n < 3)
      return false;
    for (size_t i = 1; i + 1 < n; i++)
      if (s[i] < 33 || s[i] > 126 || s[i] == '[' || s[i] == ']' || s[i] == '\\')
        return false;
    return true;
  }
  size_t lab = 0;
  for (size_t i = 0; i <= n; i++) {
    char c = s[i];
    if (c == '.' || c == 0) {
      if (lab == 0 || lab > 63 || s[i - 1] == '-')
        return false;
      lab = 0;
    } else if (g_ascii_isalnum(c) || (c == '-' && lab > 0)) {
      lab++;
    } else {
      return false;
    }
  }
  return true;
}
static bool ref_mailbox(const char *s) {
  size_t l = ref_local(s);
  if (l == 0 || l > 64 || s[l] != '@')
    return false;
  size_t n = l + 1 + strlen(s + l + 1);
  return n <= 254 && ref_domain(s + l + 1, n - l - 1);
}

/* Every octet (but NUL) at every place of a few mailboxes, and label
 * lengths around 63, against the reference rule. */
START_TEST(mailbox_every_octet) {
  static const char *const bases[] = {"a.b@d-1.example", "\"q x\"@h.test", "u@[1.2.3.4]",
                                      "x-y@a--b.c", "o'k@x.y-"};
  for (size_t b = 0; b < G_N_ELEMENTS(bases); b++) {
    size_t n = strlen(bases[b]);
    for (size_t at = 0; at < n; at++)
      for (int c = 1; c < 256; c++) {
        char s[64];
        memcpy(s, bases[b], n + 1);
        s[at] = (char)c;
        ck_assert_msg(smtp_cmd_mailbox_valid(s) == ref_mailbox(s), "%s with %02x at %zu: got %d",
                      bases[b], c, at, smtp_cmd_mailbox_valid(s));
      }
  }
  for (size_t len = 60; len < 66; len++) {
    GString *g = g_string_new("u@");
    for (size_t i = 0; i < len; i++)
      g_string_append_c(g, i == len / 2 ? '-' : 'a');
    g_string_append(g, ".test");
    ck_assert_int_eq(smtp_cmd_mailbox_valid(g->str), ref_mailbox(g->str));
    ck_assert_int_eq(smtp_cmd_mailbox_valid(g->str), len <= 63);
    g_string_free(g, TRUE);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("smtp_cmd");
  TCase *tc = tcase_create("commands");
  tcase_add_loop_test(tc, verb_parse, 0, G_N_ELEMENTS(verbs));
  tcase_add_test(tc, verb_every_octet);
  tcase_add_loop_test(tc, mailbox_syntax, 0, G_N_ELEMENTS(mailboxes));
  tcase_add_loop_test(tc, mail_parse, 0, G_N_ELEMENTS(mails));
  tcase_add_test(tc, long_param_list);
  tcase_add_loop_test(tc, rcpt_parse, 0, G_N_ELEMENTS(rcpts));
  tcase_add_test(tc, arena_parse);
  tcase_add_test(tc, ieq_every_pair);
  tcase_add_test(tc, mailbox_every_octet);
  suite_add_tcase(s, tc);
  tc = tcase_create("auth data");
  tcase_add_loop_test(tc, base64_strict, 0, G_N_ELEMENTS(b64s));
  tcase_add_test(tc, plain_split);
  suite_add_tcase(s, tc);
  tc = tcase_create("replies");
  tcase_add_loop_test(tc, reply_format, 0, G_N_ELEMENTS(fmts));
  tcase_add_test(tc, reply_line_as_append);
  tcase_add_loop_test(tc, reply_parse, 0, G_N_ELEMENTS(parses));
  tcase_add_test(tc, string_renew_in_place);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
