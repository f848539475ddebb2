/* cmd_check_trace.c — `mailsim check-trace TRACE`: the invariants of
 * traces/CHECK.md checked again on a trace file, offline. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_check.h"
#include "trace_check.h"

int cli_cmd_check_trace(int argc, char **argv) {
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print the violations only", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  if (!cli_parse("check-trace", "TRACE",
                 "Checks the mail invariants on a trace, offline, from its msg.* and fault.*\n"
                 "records (traces/CHECK.md): no loss (every message an MTA accepted with 250\n"
                 "is passed on, stored, bounced with a DSN or still queued), no bounce of a\n"
                 "bounce, no delivery after a bounce, no message in the wrong mailbox, IMAP\n"
                 "UIDs increasing within a UIDVALIDITY, queue lifetime, hop limit, and\n"
                 "liveness (queues drain after the last fault heals). Prints one line per\n"
                 "violation, naming the message, the hosts and the event ids, and whether\n"
                 "the trace's end record reported the same.\n"
                 "Exit status: 0 no violation, 1 violations, 2 unreadable trace.",
                 entries, &argc, &argv))
    return 2;
  if (argc != 2) {
    fprintf(stderr, "mailsim check-trace: expected one TRACE file\n"
                    "Try 'mailsim check-trace --help'.\n");
    return 2;
  }
  GError *err = NULL;
  trace_check *tc = trace_check_file(argv[1], &err);
  if (!tc) {
    fprintf(stderr, "mailsim check-trace: %s\n", err->message);
    g_error_free(err);
    return 2;
  }
  size_t n = trace_check_count(tc);
  if (!quiet) {
    if (n)
      printf("%s: %zu violation%s\n", argv[1], n, n == 1 ? "" : "s");
    else
      printf("%s: every invariant holds (%" G_GUINT64_FORMAT " queue entries checked)\n", argv[1],
             (guint64)trace_check_accepted(tc));
  }
  for (size_t i = 0; i < n; i++)
    printf("%s%s\n", quiet ? "" : "  ", trace_check_at(tc, i)->text);
  if (!quiet) {
    if (trace_check_liveness_note(tc))
      printf("liveness: %s\n", trace_check_liveness_note(tc));
    const GPtrArray *rep = trace_check_reported(tc);
    if (!rep)
      printf("the trace has no end record with violations to compare with\n");
    else if (trace_check_agrees(tc))
      printf("the end record reported the same\n");
    else
      printf("the end record reported %u violation%s instead:\n", rep->len,
             rep->len == 1 ? "" : "s");
    for (guint i = 0; rep && !trace_check_agrees(tc) && i < rep->len; i++)
      printf("  %s\n", (const char *)rep->pdata[i]);
  }
  trace_check_free(tc);
  return n ? 1 : 0;
}
