/* Real peer for mime_compose: messages we compose are parsed by Python's
 * email package (tests/mime_pypeer.py, policy.default) and compared with
 * what the configuration asked for: headers decoded, addresses, parts,
 * file names and the SHA-256 of every decoded part. Exit 77 (skipped) when
 * python3 is not installed. */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime_compose.h"
#include "mime_date.h"
#include "mime_random.h"
#include "testutil.h"

#define S INT64_C(1000000000)

static char *sha(const guint8 *d, gsize n) {
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, d ? d : (const guint8 *)"", n);
}

/* The decoded text a text part must carry: CRLF line ends, final CRLF. */
static char *text_sha(const char *t) {
  GString *o = g_string_new(NULL);
  for (const char *p = t; *p; p++) {
    if (*p == '\r' && p[1] == '\n')
      continue;
    if (*p == '\n' || *p == '\r')
      g_string_append(o, "\r\n");
    else
      g_string_append_c(o, *p);
  }
  if (o->len && !g_str_has_suffix(o->str, "\r\n"))
    g_string_append(o, "\r\n");
  char *r = sha((const guint8 *)o->str, o->len);
  g_string_free(o, TRUE);
  return r;
}

typedef struct {
  const char *name;
  mime_compose_config cfg;
  /* expected addresses: field, display name, addr-spec */
  const char *addrs[8][3];
} sample;

static guint8 big[10000];

#define N_RANDOM 40

static void write_sample(const char *dir, const sample *s) {
  GError *err = NULL;
  GBytes *b = mime_compose_build(&s->cfg, NULL, &err);
  ck_assert_msg(b != NULL, "%s: %s", s->name, err ? err->message : "?");
  char *eml = g_strdup_printf("%s/%s.eml", dir, s->name);
  gsize n;
  const char *d = g_bytes_get_data(b, &n);
  ck_assert(g_file_set_contents(eml, d, (gssize)n, NULL));
  GString *e = g_string_new(NULL);
  if (s->cfg.subject)
    g_string_append_printf(e, "subject\t%s\n", s->cfg.subject);
  g_string_append_printf(e, "date\t%" G_GINT64_FORMAT "\n", s->cfg.epoch_unix + s->cfg.date_ns / S);
  g_string_append_printf(e, "msgid\t<%s>\n", s->cfg.message_id);
  for (int i = 0; i < 8 && s->addrs[i][0]; i++)
    g_string_append_printf(e, "addr\t%s\t%s\t%s\n", s->addrs[i][0], s->addrs[i][1], s->addrs[i][2]);
  g_string_append(e, "noheader\tBcc\n");
  const mime_compose_config *c = &s->cfg;
  char *h;
  if (c->text || !c->html) {
    h = text_sha(c->text ? c->text : "");
    g_string_append_printf(e, "part\ttext/plain\t-\t%s\n", h);
    g_free(h);
  }
  if (c->html) {
    h = text_sha(c->html);
    g_string_append_printf(e, "part\ttext/html\t-\t%s\n", h);
    g_free(h);
  }
  for (gsize i = 0; i < c->n_attachments; i++) {
    const mime_compose_attachment *a = &c->attachments[i];
    h = sha(a->data, a->len);
    g_string_append_printf(e, "part\t%s\t%s\t%s\n",
                           a->content_type ? a->content_type : "application/octet-stream",
                           a->filename ? a->filename : "-", h);
    g_free(h);
  }
  char *exp = g_strdup_printf("%s/%s.expect", dir, s->name);
  ck_assert(g_file_set_contents(exp, e->str, (gssize)e->len, NULL));
  g_string_free(e, TRUE);
  g_free(exp);
  g_free(eml);
  g_bytes_unref(b);
}

START_TEST(python_email_parses_ours) {
  for (gsize i = 0; i < sizeof big; i++)
    big[i] = (guint8)((i * 2654435761u) >> 13);
  static const mime_compose_attachment a1[] = {
      {"report.pdf", "application/pdf", big, 3000},
      {"r\xC3\xA9sum\xC3\xA9 avec un nom de fichier vraiment tr\xC3\xA8s long \xE2\x82\xAC.txt",
       "text/plain", (const guint8 *)"hello\r\n", 7},
      {"empty.bin", NULL, NULL, 0},
  };
  static const mime_compose_attachment a2[] = {
      {"we\"ird name.bin", "application/octet-stream", big, sizeof big},
  };
  sample samples[] = {
      {"full",
       {.from = "Alice \xC3\x89xample <alice@a.example>",
        .to = "Bob <bob@b.example>, \"Carol, C.\" <carol@c.example>",
        .cc = "Team: erin@e.example;",
        .bcc = "dave@d.example",
        .subject = "R\xC3\xA9union demain \xE2\x80\x94 ordre du jour",
        .date_ns = 3600 * S,
        .epoch_unix = MIME_DATE_EPOCH_DEFAULT,
        .message_id = "m1.abc@a.example",
        .text = "Hello Bob,\nsee attached.\n-- \nAlice",
        .html = "<p>Hello Bob, caf\xC3\xA9</p>",
        .attachments = a1,
        .n_attachments = G_N_ELEMENTS(a1)},
       {{"From", "Alice \xC3\x89xample", "alice@a.example"},
        {"To", "Bob", "bob@b.example"},
        {"To", "Carol, C.", "carol@c.example"},
        {"Cc", "", "erin@e.example"}}},
      {"plain",
       {.from = "a@a.example",
        .to = "b@b.example",
        .subject = "Plain and simple",
        .date_ns = 0,
        .epoch_unix = MIME_DATE_EPOCH_DEFAULT,
        .tz_min = -300,
        .message_id = "p@a.example",
        .text = "one line\r\ntwo lines\r\n"},
       {{"From", "", "a@a.example"}, {"To", "", "b@b.example"}}},
      {"html_long",
       {.from = "\xE5\xB1\xB1\xE7\x94\xB0 \xE5\xA4\xAA\xE9\x83\x8E <yamada@j.example>",
        .to = "aaaaaaaaaaaaaaaaaaaa@example.com, bbbbbbbbbbbbbbbbbbbbbbbb@example.com, "
              "cccccccccccccccccccc@example.com, \"Dee, D\" <d@example.com>",
        .subject = "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE4\xBB\xB6\xE5\x90\x8D "
                   "with a fairly long English tail that needs several encoded words to fit",
        .date_ns = 86400 * S + 1,
        .epoch_unix = MIME_DATE_EPOCH_DEFAULT,
        .tz_min = 540,
        .message_id = "j@j.example",
        .html = "<html><body><p>"
                "a very long html line a very long html line a very long html line a very long "
                "html line a very long html line</p></body></html>\n"},
       {{"From", "\xE5\xB1\xB1\xE7\x94\xB0 \xE5\xA4\xAA\xE9\x83\x8E", "yamada@j.example"},
        {"To", "", "cccccccccccccccccccc@example.com"},
        {"To", "Dee, D", "d@example.com"}}},
      {"binary",
       {.from = "x@x.example",
        .to = "y@y.example",
        .bcc = "z@z.example",
        .subject = "=?not an encoded word?=",
        .date_ns = 59 * S,
        .epoch_unix = MIME_DATE_EPOCH_DEFAULT,
        .message_id = "b@x.example",
        .text = "From the start\n.dot line\ntrailing space \n\ttab\n",
        .attachments = a2,
        .n_attachments = 1},
       {{"From", "", "x@x.example"}, {"To", "", "y@y.example"}}},
  };
  char *py = g_find_program_in_path("python3");
  if (!py) {
    printf("SKIP: python3 not found in PATH\n");
    exit(77);
  }
  char *dir = g_dir_make_tmp("mime_pypeer_XXXXXX", NULL);
  ck_assert(dir != NULL);
  for (gsize i = 0; i < G_N_ELEMENTS(samples); i++)
    write_sample(dir, &samples[i]);
  /* Random subjects, display names and file names (see mime_random_text). */
  guint64 seed = 77;
  for (int i = 0; i < N_RANDOM; i++) {
    char *subject = mime_random_text(&seed, TRUE), *name = mime_random_text(&seed, FALSE),
         *fname = mime_random_text(&seed, TRUE);
    GString *from = g_string_new("\"");
    for (const char *p = name; *p; p++) {
      if (*p == '"' || *p == '\\')
        g_string_append_c(from, '\\');
      g_string_append_c(from, *p);
    }
    g_string_append(from, "\" <r@r.example>");
    if (fname[0] == '<' && g_str_has_suffix(fname, ">")) {
      /* Python's email.utils.unquote strips <...> from a file name. */
      char *t = g_strconcat(fname, "x", NULL);
      g_free(fname);
      fname = t;
    }
    mime_compose_attachment a = {fname, "application/octet-stream", (const guint8 *)subject,
                                 strlen(subject)};
    sample r = {NULL,
                {.from = from->str,
                 .to = "t@t.example",
                 .subject = subject,
                 .epoch_unix = MIME_DATE_EPOCH_DEFAULT,
                 .message_id = "rnd@r.example",
                 .text = name,
                 .attachments = &a,
                 .n_attachments = 1},
                {{"From", name, "r@r.example"}, {"To", "", "t@t.example"}}};
    char *nm = g_strdup_printf("random%02d", i);
    r.name = nm;
    write_sample(dir, &r);
    g_free(nm);
    g_string_free(from, TRUE);
    g_free(subject);
    g_free(name);
    g_free(fname);
  }
  char *script = testutil_src_path("tests/mime_pypeer.py");
  char *argv[] = {py, script, dir, NULL};
  char *out = NULL, *errs = NULL;
  int status = -1;
  GError *err = NULL;
  ck_assert_msg(
      g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errs, &status, &err),
      "spawn: %s", err ? err->message : "?");
  printf("%s%s", out, errs);
  ck_assert_msg(g_spawn_check_wait_status(status, NULL), "python: %s%s", out, errs);
  char *want = g_strdup_printf("%d messages checked", 4 + N_RANDOM);
  ck_assert_msg(strstr(out, want) != NULL, "python output: %s", out);
  g_free(want);
  /* Clean up. */
  GDir *gd = g_dir_open(dir, 0, NULL);
  const char *f;
  while (gd && (f = g_dir_read_name(gd)) != NULL) {
    char *p = g_build_filename(dir, f, NULL);
    g_remove(p);
    g_free(p);
  }
  if (gd)
    g_dir_close(gd);
  g_rmdir(dir);
  g_free(out);
  g_free(errs);
  g_free(script);
  g_free(dir);
  g_free(py);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mime_pypeer");
  TCase *tc = tcase_create("python_email");
  tcase_add_test(tc, python_email_parses_ours);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  char *py = g_find_program_in_path("python3");
  if (!py) {
    printf("SKIP: python3 not found in PATH; the real-peer test needs Python's email package\n");
    return 77;
  }
  g_free(py);
  return testutil_run(suite());
}
