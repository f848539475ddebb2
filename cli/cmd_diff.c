/* cmd_diff.c — `mailsim diff A B`: the first divergence of two traces and
 * what differs for each message (traces/trace_diff_mail.h). */
#include <stdio.h>

#include "cli.h"
#include "trace_diff.h"
#include "trace_diff_mail.h"
#include "trace_read.h"

/* Prints one side of a divergence: its time, kind and whole record. */
static void print_side(const char *label, const char *path, const cJSON *rec, const char *text) {
  if (!rec) {
    printf("  %s %s: (trace ended)\n", label, path);
    return;
  }
  int64_t t;
  const char *ev = trace_get_str(rec, "ev");
  if (ev && trace_get_int(rec, "t", &t))
    printf("  %s %s: t=%" G_GINT64_FORMAT " ns %s\n      %s\n", label, path, (gint64)t, ev, text);
  else
    printf("  %s %s:\n      %s\n", label, path, text);
}

int cli_cmd_diff(int argc, char **argv) {
  GOptionEntry entries[] = {{NULL, 0, 0, 0, NULL, NULL, NULL}};
  if (!cli_parse("diff", "A B",
                 "Compares two traces: the header keys that differ, then the first divergence\n"
                 "of the events (the line, the time, both records and the first key that\n"
                 "differs), then a summary in mail terms with the messages aligned by\n"
                 "identity (a scenario message by its key and domain, whatever the seed; a\n"
                 "DSN by the message it reports on): for each, what happened in B against\n"
                 "A, e.g. \"delivered 38m later\", \"used mx2 instead of mx1\", \"bounced\n"
                 "instead of delivered\", \"deferred 3 times instead of 1\", \"only in B\".\n"
                 "Exit status: 0 identical, 1 different, 2 unreadable input.",
                 entries, &argc, &argv))
    return 2;
  if (argc != 3) {
    fprintf(stderr, "mailsim diff: expected two trace files\nTry 'mailsim diff --help'.\n");
    return 2;
  }
  GError *err = NULL;
  trace_reader *a = trace_reader_open(argv[1], &err);
  trace_reader *b = a ? trace_reader_open(argv[2], &err) : NULL;
  if (!a || !b) {
    fprintf(stderr, "mailsim diff: %s\n", err->message);
    g_error_free(err);
    trace_reader_free(a);
    return 2;
  }
  /* Headers first, by key: runs often differ there on purpose (a seed). */
  const cJSON *ha = trace_reader_header(a), *hb = trace_reader_header(b);
  bool headers_differ = false;
  for (const cJSON *ka = ha->child; ka; ka = ka->next) {
    const cJSON *kb = cJSON_GetObjectItemCaseSensitive(hb, ka->string);
    if (!kb || !cJSON_Compare(ka, kb, true)) {
      char *va = cJSON_PrintUnformatted(ka), *vb = kb ? cJSON_PrintUnformatted(kb) : NULL;
      printf("headers differ: \"%s\": %.60s vs %.60s\n", ka->string, va, vb ? vb : "(absent)");
      cJSON_free(va);
      cJSON_free(vb);
      headers_differ = true;
    }
  }
  trace_diff_result res = {0};
  trace_diff_status st = trace_diff_events(a, b, &res, &err);
  int status = 0;
  if (st == TRACE_DIFF_ERROR) {
    fprintf(stderr, "mailsim diff: %s\n", err->message);
    g_error_free(err);
    status = 2;
  } else if (st == TRACE_DIFF_DIFFER) {
    printf("traces differ first at line %" G_GUINT64_FORMAT "%s%s%s\n", (guint64)res.line,
           res.key ? " (key \"" : "", res.key ? res.key : "", res.key ? "\")" : "");
    print_side("A", argv[1], res.rec_a, res.a);
    print_side("B", argv[2], res.rec_b, res.b);
    status = 1;
  } else if (headers_differ) {
    printf("events are identical\n");
    status = 1;
  } else {
    printf("traces are identical\n");
  }
  trace_diff_result_clear(&res);
  trace_reader_free(a);
  trace_reader_free(b);
  if (status == 1) {
    /* Read both again, whole, for the mail-terms summary. */
    a = trace_reader_open(argv[1], &err);
    b = a ? trace_reader_open(argv[2], &err) : NULL;
    GPtrArray *lines = b ? trace_diff_mail(a, b, &err) : NULL;
    if (!lines) {
      fprintf(stderr, "mailsim diff: %s\n", err->message);
      g_error_free(err);
      status = 2;
    } else if (!lines->len) {
      printf("in mail terms: no difference (every message took the same path with the same "
             "outcome at the same time)\n");
    } else {
      printf("in mail terms (B against A):\n");
      for (guint i = 0; i < lines->len; i++)
        printf("  %s\n", (const char *)lines->pdata[i]);
    }
    if (lines)
      g_ptr_array_unref(lines);
    trace_reader_free(a);
    trace_reader_free(b);
  }
  return status;
}
