/* cmd_explain.c — `mailsim explain TRACE [--message ID]`: a message's
 * journey in numbered steps, in plain words. */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "trace_story.h"

/* "T+00:01:02.345" */
static void print_time(int64_t t) {
  int64_t ms = t / 1000000;
  printf("T+%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64, ms / 3600000,
         ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

static void print_story(const trace_story *s, bool details) {
  char *outcome = trace_story_outcome(s);
  if (*s->from)
    printf("Message %s\n  \"%s\" from %s — %s\n", s->msg, s->subject, s->from, outcome);
  else /* no msg.compose: made by a server (a DSN) or sent from outside */
    printf("Message %s\n  (not composed in this trace: a DSN or an outside message) — %s\n", s->msg,
           outcome);
  g_free(outcome);
  for (guint i = 0; i < s->steps->len; i++) {
    const trace_step *st = s->steps->pdata[i];
    printf("%3u. ", i + 1);
    print_time(st->t);
    printf("  %s\n", st->text);
    if (!details)
      continue;
    for (guint k = 0; k < st->details->len; k++)
      printf("                       %s\n", (char *)st->details->pdata[k]);
  }
}

int cli_cmd_explain(int argc, char **argv) {
  char *id = NULL;
  gboolean brief = FALSE;
  GOptionEntry entries[] = {
      {"message", 'm', 0, G_OPTION_ARG_STRING, &id,
       "The message to explain: its Message-ID, or the start of it (\"m1\")", "ID"},
      {"brief", 0, 0, G_OPTION_ARG_NONE, &brief, "Steps only, without the protocol lines", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status = 2;
  trace_reader *r = NULL;
  GPtrArray *stories = NULL;
  if (!cli_parse("explain", "TRACE",
                 "Tells the journey of each message of a trace in plain words: composed,\n"
                 "submitted, looked up, relayed, deferred, checked, stored, fetched, displayed —\n"
                 "with times, hosts and the protocol lines that mattered.\n"
                 "Without --message: every message with its outcome.\n"
                 "Exit status: 0 done, 1 no such message, 2 unreadable trace or bad usage.",
                 entries, &argc, &argv))
    goto out;
  if (argc != 2) {
    fprintf(stderr, "mailsim explain: expected one TRACE file\nTry 'mailsim explain --help'.\n");
    goto out;
  }
  GError *err = NULL;
  r = trace_reader_open(argv[1], &err);
  if (r)
    stories = trace_story_read(r, &err);
  if (!stories) {
    fprintf(stderr, "mailsim explain: %s\n", err->message);
    g_error_free(err);
    goto out;
  }
  if (id) {
    const trace_story *s = trace_story_find(stories, id);
    if (!s) {
      fprintf(stderr, "mailsim explain: no message \"%s\" in %s (run without --message for the "
                      "list)\n", id, argv[1]);
      status = 1;
      goto out;
    }
    print_story(s, !brief);
  } else if (stories->len == 0) {
    printf("%s: no message in this trace\n", argv[1]);
  } else {
    for (guint i = 0; i < stories->len; i++) {
      const trace_story *s = stories->pdata[i];
      char *o = trace_story_outcome(s);
      if (*s->from)
        printf("%-40s \"%s\" from %s: %s, %u steps\n", s->msg, s->subject, s->from, o,
               s->steps->len);
      else
        printf("%-40s (a DSN or an outside message): %s, %u steps\n", s->msg, o, s->steps->len);
      g_free(o);
    }
    printf("\nRun 'mailsim explain %s --message ID' for one message, step by step.\n", argv[1]);
  }
  status = 0;
out:
  if (stories)
    g_ptr_array_unref(stories);
  trace_reader_free(r);
  g_free(id);
  return status;
}
