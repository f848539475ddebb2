/* Tests for imap_framer, imap_parse and imap_mutf7: framing with literals
 * (zero length, split across feeds, over the limit, LITERAL+), every split
 * of every stream, and the grammar of each command. */
#include <stdlib.h>
#include <string.h>

#include "imap_framer.h"
#include "imap_mutf7.h"
#include "imap_parse.h"
#include "testutil.h"

/* ---- framer ---- */

typedef struct {
  const char *name;
  const char *in;
  size_t inlen;     /* 0 = strlen */
  const char *want; /* frames: "C[text]" "+" "E[tag|error]" */
} frow;

static const frow frows[] = {
    {"simple", "a1 NOOP\r\na2 LOGOUT\r\n", 0, "C[a1 NOOP]C[a2 LOGOUT]"},
    {"bare_lf", "a1 NOOP\na2 X\n", 0, "C[a1 NOOP]C[a2 X]"},
    {"sync_literal", "a LOGIN {3}\r\nbob {6}\r\nsecret\r\n", 0,
     "+"
     "+"
     "C[a LOGIN {3}\r\nbob {6}\r\nsecret]"},
    {"literal_plus", "a LOGIN {3+}\r\nbob {6+}\r\nsecret\r\nb NOOP\r\n", 0,
     "C[a LOGIN {3+}\r\nbob {6+}\r\nsecret]C[b NOOP]"},
    {"zero_literals", "a LOGIN {0}\r\n {0+}\r\n\r\n", 0, "+C[a LOGIN {0}\r\n {0+}\r\n]"},
    {"literal_with_crlf_inside", "a APPEND x {7+}\r\nab\r\n{1}\r\n", 0,
     "C[a APPEND x {7+}\r\nab\r\n{1}]"},
    {"literal_lf_after_brace", "a X {2}\nhi\n", 0, "+C[a X {2}\r\nhi]"},
    {"sync_literal_too_big", "a APPEND x {100}\r\nb NOOP\r\n", 0,
     "E[a|literal too large]C[b NOOP]"},
    {"plus_literal_too_big_skipped",
     "a APPEND x {60+}\r\n012345678901234567890123456789012345678901234567890123456789 more\r\n"
     "b NOOP\r\n",
     0, "E[a|literal too large]C[b NOOP]"},
    {"line_too_long",
     "t1 NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nb NOOP\r\n", 0,
     "E[t1|line too long]C[b NOOP]"},
    {"long_line_with_plus_literal",
     "t2 NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx {5+}\r\n"
     "a\nb\nc tail\r\nb NOOP\r\n",
     0, "E[t2|line too long]C[b NOOP]"},
    {"long_line_with_sync_literal",
     "t3 NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx {5}\r\nb NOOP\r\n", 0,
     "E[t3|line too long]C[b NOOP]"},
    {"line_at_limit_then_cr_with_literal",
     "t4 NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx {5+}\r\nabcde\r\nb NOOP\r\n", 0,
     "E[t4|line too long]C[b NOOP]"},
    {"nul_in_literal", "a X {3+}\r\na\0b\r\n", 15, "C[a X {3+}\r\na\0b]"},
    {"not_a_literal", "a X {x}\r\na X {}\r\na X 3}\r\n", 0, "C[a X {x}]C[a X {}]C[a X 3}]"},
    /* lines returned where they lie (whole in one feed) or assembled */
    {"empty_lines", "\r\n\na NOOP\r\n\r\r\n", 0, "C[]C[]C[a NOOP]C[\r]"},
    {"line_at_limit_with_cr",
     "t5 NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nb NOOP\r\n", 0,
     "C[t5 NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]C[b NOOP]"},
    {"line_at_limit_bare_lf",
     "t6 NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nb NOOP\r\n", 0,
     "C[t6 NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]C[b NOOP]"},
    {"line_over_limit_by_its_cr",
     "t6 NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nb NOOP\r\n", 0,
     "E[t6|line too long]C[b NOOP]"},
    {"line_then_literal_then_line", "a NOOP\r\nb X {2+}\r\nhi\r\nc NOOP\r\n", 0,
     "C[a NOOP]C[b X {2+}\r\nhi]C[c NOOP]"},
};

static void frame_dump(imap_framer *f, GString *out) {
  for (;;) {
    imap_frame r = imap_framer_next(f);
    if (r.kind == IMAP_FRAME_NEED_MORE)
      return;
    if (r.kind == IMAP_FRAME_CONTINUE)
      g_string_append(out, "+");
    else if (r.kind == IMAP_FRAME_COMMAND) {
      g_string_append(out, "C[");
      g_string_append_len(out, (const char *)r.data, (gssize)r.len);
      g_string_append(out, "]");
    } else
      g_string_append_printf(out, "E[%s|%s]", r.tag ? r.tag : "", r.error);
  }
}

static char *frame_run(const frow *r, const size_t *cuts, size_t ncuts) {
  imap_framer *f = imap_framer_new(64, 50);
  GString *out = g_string_new(NULL);
  size_t len = r->inlen ? r->inlen : strlen(r->in), prev = 0;
  for (size_t i = 0; i <= ncuts; i++) {
    size_t end = i < ncuts ? cuts[i] : len;
    imap_framer_feed(f, r->in + prev, end - prev);
    frame_dump(f, out);
    prev = end;
  }
  imap_framer_free(f);
  return g_string_free(out, FALSE);
}

START_TEST(framer_rows) {
  const frow *r = &frows[_i];
  size_t len = r->inlen ? r->inlen : strlen(r->in);
  char *got = frame_run(r, NULL, 0);
  ck_assert_msg(strlen(got) == strlen(r->want) && memcmp(got, r->want, strlen(r->want)) == 0,
                "%s whole: got %s want %s", r->name, got, r->want);
  g_free(got);
  size_t *cuts = g_new(size_t, len);
  for (size_t i = 0; i + 1 < len; i++)
    cuts[i] = i + 1;
  got = frame_run(r, cuts, len - 1);
  ck_assert_msg(strcmp(got, r->want) == 0, "%s byte by byte: got %s want %s", r->name, got,
                r->want);
  g_free(got);
  for (size_t c = 1; c < len; c++) {
    got = frame_run(r, &c, 1);
    ck_assert_msg(strcmp(got, r->want) == 0, "%s split at %zu: got %s want %s", r->name, c, got,
                  r->want);
    g_free(got);
  }
  g_free(cuts);
}
END_TEST

START_TEST(framer_raw_and_discard) {
  imap_framer *f = imap_framer_new(64, 50);
  imap_framer_set_raw(f, true);
  imap_framer_feed(f, "DONE {5}\r\n", 10);
  imap_frame r = imap_framer_next(f);
  ck_assert_int_eq(r.kind, IMAP_FRAME_COMMAND);
  ck_assert_uint_eq(r.len, 8);
  imap_framer_set_raw(f, false);
  imap_framer_feed(f, "a STARTTLS\r\nb INJECTED\r\n", 24);
  r = imap_framer_next(f);
  ck_assert_int_eq(r.kind, IMAP_FRAME_COMMAND);
  imap_framer_discard(f);
  ck_assert_uint_eq(imap_framer_pending(f), 0);
  ck_assert_int_eq(imap_framer_next(f).kind, IMAP_FRAME_NEED_MORE);
  imap_framer_free(f);
}
END_TEST

/* ---- parser ---- */

static void dump_set(GString *g, const GArray *set) {
  for (guint i = 0; i < set->len; i++) {
    imap_range r = g_array_index(set, imap_range, i);
    g_string_append_printf(g, "%s", i ? "," : "");
    if (r.lo == IMAP_STAR)
      g_string_append(g, "*");
    else
      g_string_append_printf(g, "%u", r.lo);
    if (r.hi != r.lo) {
      if (r.hi == IMAP_STAR)
        g_string_append(g, ":*");
      else
        g_string_append_printf(g, ":%u", r.hi);
    }
  }
}

static void dump_sk(GString *g, const imap_search_key *k) {
  g_string_append(g, imap_search_kind_name(k->kind));
  if (k->str)
    g_string_append_printf(g, " '%s'", k->str);
  if (k->str2)
    g_string_append_printf(g, " '%s'", k->str2);
  if (k->kind == IMAP_SK_LARGER || k->kind == IMAP_SK_SMALLER)
    g_string_append_printf(g, " %" G_GUINT64_FORMAT, k->num);
  if (k->kind == IMAP_SK_BEFORE || k->kind == IMAP_SK_ON || k->kind == IMAP_SK_SINCE ||
      k->kind == IMAP_SK_SENTBEFORE || k->kind == IMAP_SK_SENTON || k->kind == IMAP_SK_SENTSINCE)
    g_string_append_printf(g, " d%" G_GINT64_FORMAT, k->day);
  if (k->set) {
    g_string_append_c(g, ' ');
    dump_set(g, k->set);
  }
  if (k->kids) {
    g_string_append(g, "(");
    for (guint i = 0; i < k->kids->len; i++) {
      if (i)
        g_string_append_c(g, ' ');
      dump_sk(g, g_ptr_array_index(k->kids, i));
    }
    g_string_append(g, ")");
  }
}

/* Parses IN[0..LEN) (in *SPARE's storage when SPARE is not NULL, the
 * command recycled into it afterwards) and describes the result. */
static char *dump_with(imap_cmd **spare, const char *in, size_t len) {
  char *tag;
  const char *err;
  imap_cmd *c = spare ? imap_cmd_parse_spare(spare, (const uint8_t *)in, len, &tag, &err)
                      : imap_cmd_parse((const uint8_t *)in, len, &tag, &err);
  if (spare) /* taken by a command; given back on a syntax error */
    ck_assert(c ? *spare == NULL : *spare != NULL);
  if (!c) {
    char *s = g_strdup_printf("BAD[%s] %s", tag ? tag : "*", err);
    g_free(tag);
    return s;
  }
  GString *g = g_string_new(NULL);
  g_string_append_printf(g, "%s %s%s", c->tag, c->uid ? "UID " : "", imap_verb_name(c->verb));
  if (c->arg1)
    g_string_append_printf(g, " a1='%s'", c->arg1);
  if (c->arg2)
    g_string_append_printf(g, " a2='%s'", c->arg2);
  if (c->set) {
    g_string_append(g, " set=");
    dump_set(g, c->set);
  }
  if (c->store_mode)
    g_string_append_printf(g, " mode=%c%s", c->store_mode, c->silent ? " silent" : "");
  if (c->list && (c->list->len || c->has_list)) {
    g_string_append(g, " list=[");
    for (guint i = 0; i < c->list->len; i++) {
      const char *s = g_ptr_array_index(c->list, i);
      g_string_append_printf(g, "%s%s", i ? "|" : "", s ? s : "NIL");
    }
    g_string_append(g, "]");
  }
  if (c->has_date)
    g_string_append_printf(g, " date=%" G_GINT64_FORMAT, c->date_unix);
  if (c->message)
    g_string_append_printf(g, " msg=%zu'%.*s'", g_bytes_get_size(c->message),
                           (int)g_bytes_get_size(c->message),
                           (const char *)g_bytes_get_data(c->message, NULL));
  if (c->charset)
    g_string_append_printf(g, " charset=%s", c->charset);
  if (c->search) {
    g_string_append(g, " ");
    dump_sk(g, c->search);
  }
  if (c->fetch) {
    for (guint i = 0; i < c->fetch->len; i++) {
      imap_fetch_att *a = &g_array_index(c->fetch, imap_fetch_att, i);
      g_string_append_printf(g, " fa%d", a->kind);
      if (a->kind == IMAP_FA_SECTION) {
        g_string_append_printf(g, "%s[%s]s%d", a->peek ? "p" : "", a->spec, a->sec);
        /* The part numbers are the spec's leading digits; none: NULL. */
        GString *parts = g_string_new(NULL);
        for (guint j = 0; a->part && j < a->part->len; j++)
          g_string_append_printf(parts, "%s%u", j ? "." : "", g_array_index(a->part, uint32_t, j));
        size_t lead = strspn(a->spec, "0123456789.");
        while (lead && a->spec[lead - 1] == '.')
          lead--;
        ck_assert_msg((a->part != NULL) == (lead > 0) && strncmp(a->spec, parts->str, lead) == 0 &&
                          parts->len == lead,
                      "%s: parts '%s' for spec '%s'", in, parts->str, a->spec);
        g_string_free(parts, TRUE);
        if (a->partial)
          g_string_append_printf(g, "<%u.%u>", a->origin, a->count);
      }
    }
  }
  if (spare)
    imap_cmd_recycle(spare, c);
  else
    imap_cmd_free(c);
  return g_string_free(g, FALSE);
}

static char *dump(const char *in, size_t len) { return dump_with(NULL, in, len); }

typedef struct {
  const char *in;
  const char *want;
} prow;

static const prow prows[] = {
    {"a1 CAPABILITY", "a1 CAPABILITY"},
    {"a1 noop", "a1 NOOP"},
    {"a LOGIN bob \"se\\\"cr\\\\et\"", "a LOGIN a1='bob' a2='se\"cr\\et'"},
    {"a LOGIN {3}\r\nbob {2+}\r\npw", "a LOGIN a1='bob' a2='pw'"},
    {"a LOGIN {0}\r\n \"\"", "a LOGIN a1='' a2=''"},
    {"a AUTHENTICATE PLAIN AGJvYgBzZWNyZXQ=", "a AUTHENTICATE a1='PLAIN' a2='AGJvYgBzZWNyZXQ='"},
    {"a AUTHENTICATE PLAIN =", "a AUTHENTICATE a1='PLAIN' a2='='"},
    {"a AUTHENTICATE PLAIN", "a AUTHENTICATE a1='PLAIN'"},
    {"a select inbox", "a SELECT a1='INBOX'"},
    {"a EXAMINE \"Sent\"", "a EXAMINE a1='Sent'"},
    {"a CREATE a/b]", "a CREATE a1='a/b]'"},
    {"a RENAME old new", "a RENAME a1='old' a2='new'"},
    {"a LIST \"\" *", "a LIST a1='' a2='*'"},
    {"a LSUB \"\" %/x]", "a LSUB a1='' a2='%/x]'"},
    {"a STATUS INBOX (MESSAGES uidnext UNSEEN)",
     "a STATUS a1='INBOX' list=[MESSAGES|UIDNEXT|UNSEEN]"},
    {"a APPEND Drafts (\\Draft $k) \" 1-Feb-1994 21:52:25 -0800\" {5}\r\nhello",
     "a APPEND a1='Drafts' list=[\\Draft|$k] date=760168345 msg=5'hello'"},
    {"a APPEND INBOX {0}\r\n", "a APPEND a1='INBOX' msg=0''"},
    {"a APPEND INBOX () {2+}\r\nhi", "a APPEND a1='INBOX' list=[] msg=2'hi'"},
    {"a FETCH 1:* (FLAGS UID BODY.PEEK[HEADER.FIELDS (Subject from)]<0.100>)",
     "a FETCH set=1:* fa1 fa9 fa10p[HEADER.FIELDS (SUBJECT FROM)]s2<0.100>"},
    {"a UID FETCH 4,7:5,* (BODY[] RFC822.SIZE INTERNALDATE)",
     "a UID FETCH set=4,7:5,* fa10[]s0 fa5 fa2"},
    {"a FETCH 1 ALL", "a FETCH set=1 fa1 fa2 fa5 fa0"},
    {"a FETCH 1 FAST", "a FETCH set=1 fa1 fa2 fa5"},
    {"a FETCH 1 FULL", "a FETCH set=1 fa1 fa2 fa5 fa0 fa7"},
    {"a FETCH 1 body[1.2.MIME]", "a FETCH set=1 fa10[1.2.MIME]s5"},
    {"a FETCH 1 BODY[2.TEXT]", "a FETCH set=1 fa10[2.TEXT]s4"},
    {"a FETCH 1 BODY[3]", "a FETCH set=1 fa10[3]s0"},
    {"a FETCH 1 (RFC822 RFC822.HEADER RFC822.TEXT ENVELOPE BODYSTRUCTURE BODY)",
     "a FETCH set=1 fa3 fa4 fa6 fa0 fa8 fa7"},
    {"a STORE 1:3 +FLAGS.SILENT (\\Seen \\Deleted)",
     "a STORE set=1:3 mode=+ silent list=[\\Seen|\\Deleted]"},
    {"a UID STORE 9 -FLAGS \\Flagged", "a UID STORE set=9 mode=- list=[\\Flagged]"},
    {"a STORE 1 FLAGS ()", "a STORE set=1 mode== list=[]"},
    {"a COPY 2:4 Trash", "a COPY a1='Trash' set=2:4"},
    {"a UID MOVE 10 \"Junk\"", "a UID MOVE a1='Junk' set=10"},
    {"a UID EXPUNGE 3:5", "a UID EXPUNGE set=3:5"},
    {"a SEARCH UNSEEN", "a SEARCH AND(UNSEEN)"},
    {"a UID SEARCH UID 5:* NOT DELETED", "a UID SEARCH AND(UID 5:* NOT(DELETED))"},
    {"a SEARCH CHARSET UTF-8 OR FROM bob (SUBJECT \"hi there\" LARGER 10) 1:3",
     "a SEARCH charset=UTF-8 AND(OR(FROM 'bob' AND(SUBJECT 'hi there' LARGER 10)) SEQSET 1:3)"},
    {"a SEARCH SINCE 1-Jan-1970 BEFORE \"29-Feb-2024\" SENTON 2-feb-1970",
     "a SEARCH AND(SINCE d0 BEFORE d19782 SENTON d32)"},
    {"a SEARCH HEADER X-Spam yes KEYWORD $Junk UNKEYWORD x BODY {3}\r\nabc",
     "a SEARCH AND(HEADER 'X-Spam' 'yes' KEYWORD '$Junk' UNKEYWORD 'x' BODY 'abc')"},
    {"a SEARCH ALL ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED UNDELETED "
     "UNDRAFT UNFLAGGED UNSEEN SMALLER 5 TEXT t TO t CC c BCC b ON 1-Jan-2000 SENTBEFORE "
     "1-Jan-2000 SENTSINCE 1-Jan-2000",
     "a SEARCH AND(ALL ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED UNDELETED "
     "UNDRAFT UNFLAGGED UNSEEN SMALLER 5 TEXT 't' TO 't' CC 'c' BCC 'b' ON d10957 SENTBEFORE "
     "d10957 SENTSINCE d10957)"},
    {"a ID (\"name\" \"imaplib\" \"version\" NIL)", "a ID list=[name|imaplib|version|NIL]"},
    {"a ID NIL", "a ID"},
    {"a ENABLE CONDSTORE UTF8=ACCEPT IMAP4rev2", "a ENABLE list=[CONDSTORE|UTF8=ACCEPT|IMAP4rev2]"},
    {"a IDLE", "a IDLE"},
    {"a NAMESPACE", "a NAMESPACE"},
    {"a UNSELECT", "a UNSELECT"},
    /* names compared in place, in any case (session 6) */
    {"t uid fetch 1 (uid flags body.peek[header.fields (x)])",
     "t UID FETCH set=1 fa9 fa1 fa10p[HEADER.FIELDS (X)]s2"},
    {"t FETCH 2 Body.Peek[1.Text]", "t FETCH set=2 fa10p[1.TEXT]s4"},
    {"t fetch 1 fast", "t FETCH set=1 fa1 fa2 fa5"},
    {"t store 1 +flags.silent (\\seen)", "t STORE set=1 mode=+ silent list=[\\seen]"},
    {"t uid search uid 1:* unseen", "t UID SEARCH AND(UID 1:* UNSEEN)"},
    {"t select InBoX", "t SELECT a1='INBOX'"},
    {"t LOGIN \"\\\\\" \"\\\"a\\\\b\\\"\"", "t LOGIN a1='\\' a2='\"a\\b\"'"},
    {"t LOGIN \"\" \"x\\", "BAD[t] bad escape in quoted string"},
    {"t select INBOXES", "t SELECT a1='INBOXES'"},
    {"t FETCH 1 FASTER", "BAD[t] unknown fetch attribute"},
    {"t FETCH 1 BODY.PEEKX[]", "BAD[t] unknown fetch attribute"},
    {"t STORE 1 FLAGS.SILENTX ()", "BAD[t] expected FLAGS or FLAGS.SILENT"},
    {"t SEARCH UIDS 1", "BAD[t] unknown search key"},
    {"t UIDS FETCH 1 FLAGS", "BAD[t] unknown command"},
    {"t UID", "BAD[t] UID needs FETCH, STORE, COPY, MOVE, SEARCH or EXPUNGE"},
    {"t UID  FETCH 1 FLAGS", "BAD[t] UID needs FETCH, STORE, COPY, MOVE, SEARCH or EXPUNGE"},
    {"t1234567890123456789012345678901234567890123456789012345678901234 NOOP",
     "BAD[*] missing command"},
    {"t123456789012345678901234567890123456789012345678901234567890123 NOOP",
     "t123456789012345678901234567890123456789012345678901234567890123 NOOP"},
    /* errors */
    {"", "BAD[*] missing tag"},
    {"a", "BAD[a] missing command"},
    {"a+ NOOP", "BAD[*] missing command"},
    {"a FOO", "BAD[a] unknown command"},
    {"a UID NOOP", "BAD[a] UID needs FETCH, STORE, COPY, MOVE, SEARCH or EXPUNGE"},
    {"a NOOP extra", "BAD[a] unexpected characters after the command"},
    {"a LOGIN bob", "BAD[a] expected a space"},
    {"a LOGIN \"bob pw", "BAD[a] unterminated quoted string"},
    {"a LOGIN \"b\\ob\" pw", "BAD[a] bad escape in quoted string"},
    {"a FETCH 0 FLAGS", "BAD[a] sequence numbers start at 1"},
    {"a FETCH 1 (FLAGS", "BAD[a] expected ')' after fetch attributes"},
    {"a FETCH 1 BODY[HEADER.FIELDS]", "BAD[a] expected a header list"},
    {"a FETCH 1 BODY[MIME]", "BAD[a] bad section"},
    {"a FETCH 1 BODY[]<5.0>", "BAD[a] bad partial <origin.size>"},
    {"a FETCH 1 BODY.PEEK", "BAD[a] BODY.PEEK needs a section"},
    {"a FETCH 1 XYZ", "BAD[a] unknown fetch attribute"},
    {"a FETCH 99999999999 FLAGS", "BAD[a] number too large"},
    {"a SEARCH FOO", "BAD[a] unknown search key"},
    {"a SEARCH SINCE 31-Feb-2020", "BAD[a] bad date (want d-Mon-yyyy)"},
    {"a SEARCH NOT", "BAD[a] expected a space"},
    {"a SEARCH (ALL", "BAD[a] expected ')' in search"},
    {"a STORE 1 FLAGZ (\\Seen)", "BAD[a] expected FLAGS or FLAGS.SILENT"},
    {"a APPEND INBOX \"bad date\" {1}\r\nx", "BAD[a] bad date-time"},
    {"a STATUS INBOX", "BAD[a] STATUS needs a mailbox and an item list"},
    {"a ENABLE", "BAD[a] ENABLE needs capability names"},
    {"a LOGIN {5}\r\nab", "BAD[a] bad literal"},
    {"a LOGIN {2}\r\na\0 x", "BAD[a] NUL in literal string"},
};

START_TEST(parser_rows) {
  const prow *r = &prows[_i];
  size_t len = strlen(r->in);
  if (strstr(r->want, "NUL in literal"))
    len = 17; /* the row embeds a NUL */
  char *got = dump(r->in, len);
  ck_assert_msg(strcmp(got, r->want) == 0, "'%s':\n got  %s\n want %s", r->in, got, r->want);
  g_free(got);
}
END_TEST

START_TEST(parser_deep_nesting_bounded) {
  GString *g = g_string_new("a SEARCH ");
  for (int i = 0; i < 10000; i++)
    g_string_append(g, "NOT (");
  g_string_append(g, "ALL");
  char *got = dump(g->str, g->len);
  ck_assert_str_eq(got, "BAD[a] search keys nested too deeply");
  g_free(got);
  g_string_free(g, TRUE);
}
END_TEST

START_TEST(parser_every_prefix_no_crash) {
  /* Every prefix of every valid row parses or fails cleanly. */
  for (size_t r = 0; r < G_N_ELEMENTS(prows); r++) {
    size_t len = strlen(prows[r].in);
    for (size_t n = 0; n < len; n++) {
      char *got = dump(prows[r].in, n);
      ck_assert_ptr_nonnull(got);
      g_free(got);
    }
  }
}
END_TEST

static size_t row_len(const prow *r) {
  return strstr(r->want, "NUL in literal") ? 17 : strlen(r->in);
}

/* One spare command through every row and every prefix, forwards then
 * backwards: each parse reads as a fresh imap_cmd_parse does. */
START_TEST(parser_spare_same_as_fresh) {
  imap_cmd *spare = NULL;
  for (int pass = 0; pass < 2; pass++)
    for (size_t k = 0; k < G_N_ELEMENTS(prows); k++) {
      const prow *r = &prows[pass ? G_N_ELEMENTS(prows) - 1 - k : k];
      size_t len = row_len(r);
      for (size_t n = pass ? 0 : len; n <= len; n++) {
        char *want = dump(r->in, n);
        char *got = dump_with(&spare, r->in, n);
        ck_assert_msg(strcmp(got, want) == 0, "'%.*s':\n got  %s\n want %s", (int)n, r->in, got,
                      want);
        ck_assert_ptr_nonnull(spare);
        g_free(got);
        g_free(want);
      }
    }
  imap_cmd_free(spare);
}
END_TEST

/* The spare keeps the arrays of a command (not those of one that grew
 * large) and the next command uses them; a second spare is freed. */
START_TEST(parser_spare_keeps_arrays) {
  char *tag;
  const char *err;
  imap_cmd *spare = NULL;
  const char *f = "a UID FETCH 1:4,7 (UID BODY.PEEK[1.2])";
  imap_cmd *c = imap_cmd_parse_spare(&spare, (const uint8_t *)f, strlen(f), &tag, &err);
  ck_assert_ptr_nonnull(c);
  GArray *set = c->set, *fetch = c->fetch;
  imap_cmd_recycle(&spare, c);
  ck_assert_ptr_eq(spare, c);
  ck_assert_ptr_eq(spare->set, NULL);
  ck_assert_ptr_eq(spare->keep_set, set);
  ck_assert_ptr_eq(spare->keep_fetch, fetch);
  ck_assert_uint_eq(set->len, 0);
  ck_assert_str_eq(spare->tag, "");
  const char *st = "b STORE 9 +FLAGS (\\Seen)";
  c = imap_cmd_parse_spare(&spare, (const uint8_t *)st, strlen(st), &tag, &err);
  ck_assert_ptr_eq(c->set, set);
  ck_assert_uint_eq(c->set->len, 1);
  ck_assert_ptr_eq(c->keep_fetch, fetch); /* STORE has no fetch list */
  ck_assert_ptr_null(c->fetch);
  ck_assert_str_eq(c->tag, "b");
  GPtrArray *list = c->list;
  imap_cmd *other = imap_cmd_parse((const uint8_t *)f, strlen(f), &tag, &err);
  imap_cmd_recycle(&spare, c);
  imap_cmd_recycle(&spare, other); /* the spare is taken: freed (ASan checks) */
  ck_assert_ptr_eq(spare, c);
  ck_assert_ptr_eq(spare->keep_list, list);
  GString *big = g_string_new("c FETCH 1");
  for (int i = 0; i < 40; i++)
    g_string_append_printf(big, ",%d", 3 * i + 5);
  g_string_append(big, " (UID)");
  c = imap_cmd_parse_spare(&spare, (const uint8_t *)big->str, big->len, &tag, &err);
  ck_assert_uint_eq(c->set->len, 41);
  imap_cmd_recycle(&spare, c);
  ck_assert_ptr_null(spare->keep_set); /* grown: let go */
  ck_assert_ptr_nonnull(spare->keep_fetch);
  g_string_free(big, TRUE);
  imap_cmd_free(spare);
}
END_TEST

/* RFC 3501 §9 ATOM-CHAR (any CHAR but atom-specials), the reference for
 * atom_chars_every_octet. */
static bool ref_atom_char(int ch) { return ch > 0x20 && ch < 0x7f && !strchr("(){%*\"\\]", ch); }

/* Every octet inside a tag ("a?b NOOP") and inside a STORE flag keyword
 * ("t STORE 1 +FLAGS (k?w)"): parsed or refused as ATOM-CHAR says (a tag
 * never holds '+'; a space in the list separates two flags). */
START_TEST(atom_chars_every_octet) {
  for (int ch = 0; ch < 256; ch++) {
    char line[32];
    int n = g_snprintf(line, sizeof line, "a%cb NOOP", ch ? ch : '!');
    if (!ch)
      line[1] = 0;
    char *tag = NULL;
    const char *err = NULL;
    imap_cmd *c = imap_cmd_parse((const uint8_t *)line, (size_t)n, &tag, &err);
    bool want = ref_atom_char(ch) && ch != '+';
    ck_assert_msg((c != NULL) == want, "tag octet %02x: got %d want %d", ch, c != NULL, want);
    imap_cmd_free(c);
    g_free(tag);
    n = g_snprintf(line, sizeof line, "t STORE 1 +FLAGS (k%cw)", ch ? ch : '!');
    if (!ch)
      line[19] = 0;
    c = imap_cmd_parse((const uint8_t *)line, (size_t)n, &tag, &err);
    want = ref_atom_char(ch) || ch == ' '; /* a space: two flags */
    ck_assert_msg((c != NULL) == want, "flag octet %02x: got %d want %d", ch, c != NULL, want);
    if (c) {
      ck_assert_uint_eq(c->list->len, ch == ' ' ? 2 : 1);
      ck_assert_uint_eq(strlen(g_ptr_array_index(c->list, 0)), ch == ' ' ? 1 : 3);
    }
    imap_cmd_free(c);
    g_free(tag);
  }
}
END_TEST

START_TEST(set_contains) {
  GArray *s = g_array_new(FALSE, FALSE, sizeof(imap_range));
  imap_range a = {2, 4}, b = {9, IMAP_STAR}, c = {7, 6};
  g_array_append_val(s, a);
  g_array_append_val(s, b);
  g_array_append_val(s, c);
  static const struct {
    uint32_t n, max;
    bool want;
  } rows[] = {{1, 20, false}, {2, 20, true}, {4, 20, true},  {5, 20, false}, {6, 20, true},
              {8, 20, false}, {9, 20, true}, {20, 20, true}, {9, 5, true},   {21, 20, false}};
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
    ck_assert_msg(imap_set_contains(s, rows[i].n, rows[i].max) == rows[i].want,
                  "n=%u max=%u: got %d want %d", rows[i].n, rows[i].max, !rows[i].want,
                  rows[i].want);
  g_array_free(s, TRUE);
}
END_TEST

/* ---- modified UTF-7 ---- */

START_TEST(mutf7_roundtrip) {
  static const struct {
    const char *utf8, *m7;
  } rows[] = {
      {"INBOX", "INBOX"},
      {"a&b", "a&-b"},
      {"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
      {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
       "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
      {"\xf0\x9f\x93\xa7 mail", "&2D3c5w- mail"},
      {"", ""},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *e = imap_mutf7_encode(rows[i].utf8);
    ck_assert_msg(strcmp(e, rows[i].m7) == 0, "encode %s: got %s want %s", rows[i].utf8, e,
                  rows[i].m7);
    char *d = imap_mutf7_decode(rows[i].m7);
    ck_assert_msg(d && strcmp(d, rows[i].utf8) == 0, "decode %s: got %s", rows[i].m7,
                  d ? d : "NULL");
    g_free(e);
    g_free(d);
  }
  static const char *bad[] = {"&",         "&Jjo", "&AGE-", "&APw-&APw-",
                              "a\xc3\xbc", "&A-",  "&2D0-", "&APx-"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
    ck_assert_msg(!imap_mutf7_valid(bad[i]), "'%s' accepted", bad[i]);
  ck_assert_ptr_null(imap_mutf7_encode("\xff"));
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("imap_parse");
  TCase *tc = tcase_create("framer");
  tcase_add_loop_test(tc, framer_rows, 0, (int)G_N_ELEMENTS(frows));
  tcase_add_test(tc, framer_raw_and_discard);
  suite_add_tcase(s, tc);
  tc = tcase_create("parser");
  tcase_add_loop_test(tc, parser_rows, 0, (int)G_N_ELEMENTS(prows));
  tcase_add_test(tc, parser_deep_nesting_bounded);
  tcase_add_test(tc, parser_every_prefix_no_crash);
  tcase_add_test(tc, parser_spare_same_as_fresh);
  tcase_add_test(tc, parser_spare_keeps_arrays);
  tcase_add_test(tc, atom_chars_every_octet);
  tcase_add_test(tc, set_contains);
  suite_add_tcase(s, tc);
  tc = tcase_create("mutf7");
  tcase_add_test(tc, mutf7_roundtrip);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
