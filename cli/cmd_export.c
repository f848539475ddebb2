/* cmd_export.c — `mailsim export TRACE --mermaid [--message ID |
 * --connection ID]` (see cmd_export.h). */
#include "cmd_export.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "trace_mermaid.h"

int cli_cmd_export(int argc, char **argv) {
  gboolean mermaid = FALSE, all = FALSE;
  char *msg = NULL, *conn = NULL, *eml = NULL, *mbox = NULL, *mailbox = NULL;
  GOptionEntry entries[] = {
      {"mermaid", 0, 0, G_OPTION_ARG_NONE, &mermaid, "A Mermaid sequenceDiagram", NULL},
      {"message", 'm', 0, G_OPTION_ARG_STRING, &msg,
       "The message: its Message-ID, or the start of it (\"m1\")", "ID"},
      {"connection", 'c', 0, G_OPTION_ARG_STRING, &conn,
       "One connection's dialogue: either end's connection id", "ID"},
      {"eml", 0, 0, G_OPTION_ARG_FILENAME, &eml,
       "Each stored message as DIR/NNN-MAILBOX-FOLDER-UID.eml", "DIR"},
      {"mbox", 0, 0, G_OPTION_ARG_FILENAME, &mbox, "The stored messages as one mbox (mboxrd)",
       "FILE"},
      {"mailbox", 0, 0, G_OPTION_ARG_STRING, &mailbox,
       "--eml/--mbox: only this mailbox (the account's address)", "ADDR"},
      {"all", 0, 0, G_OPTION_ARG_NONE, &all,
       "--eml/--mbox: every copy ever stored, also those deleted before the end", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status = 2;
  trace_reader *r = NULL;
  GString *out = g_string_new(NULL);
  if (!cli_parse("export", "TRACE",
                 "Exports a trace for other tools.\n"
                 "--mermaid: a Mermaid sequence diagram of a message's journey (hosts in order of\n"
                 "appearance, one arrow per protocol line and per hop, notes for deferrals and\n"
                 "bounces) or of one connection's dialogue, ready to paste into Markdown.\n"
                 "--eml DIR, --mbox FILE: the messages the mailbox hosts held at the end of\n"
                 "the run, byte for byte as stored (Received, Authentication-Results,\n"
                 "DKIM-Signature, X-Spam-* fields included); messages deleted before the\n"
                 "end (POP3 DELE, IMAP EXPUNGE) are left out unless --all. Needs a trace\n"
                 "of 'mailsim run --keep-messages'. The mbox is mboxrd: a From_ line with\n"
                 "the envelope sender and the simulated storing date (UTC), LF line ends,\n"
                 "'From ' lines quoted with '>'.\n"
                 "Exit status: 0 done, 1 no such message or connection (--eml/--mbox: none\n"
                 "stored), 2 bad usage, a bad trace, a trace without bodies or a write error.",
                 entries, &argc, &argv))
    goto out;
  if (argc != 2) {
    fprintf(stderr, "mailsim export: expected one TRACE file\nTry 'mailsim export --help'.\n");
    goto out;
  }
  if (!mermaid && !eml && !mbox) {
    fprintf(stderr, "mailsim export: say which format (--mermaid, --eml DIR or --mbox FILE)\n"
                    "Try 'mailsim export --help'.\n");
    goto out;
  }
  if (mermaid && (eml || mbox)) {
    fprintf(stderr, "mailsim export: --mermaid excludes --eml and --mbox\n");
    goto out;
  }
  if (!mermaid) {
    if (msg || conn) {
      fprintf(stderr, "mailsim export: --message and --connection are for --mermaid\n");
      goto out;
    }
    status = cli_export_mail(argv[1], eml, mbox, mailbox, all);
    goto out;
  }
  if (mailbox || all) {
    fprintf(stderr, "mailsim export: --mailbox and --all are for --eml and --mbox\n");
    goto out;
  }
  if (msg && conn) {
    fprintf(stderr, "mailsim export: --message and --connection exclude each other\n");
    goto out;
  }
  guint64 cid = 0;
  if (conn && (!g_ascii_string_to_unsigned(conn, 10, 1, G_MAXUINT64, &cid, NULL))) {
    fprintf(stderr, "mailsim export: --connection wants a connection id (1, 2, ...), got \"%s\"\n",
            conn);
    goto out;
  }
  GError *err = NULL;
  r = trace_reader_open(argv[1], &err);
  bool ok = r && (conn ? trace_mermaid_connection(r, argv[1], cid, out, &err)
                       : trace_mermaid_message(r, argv[1], msg, out, &err));
  if (!ok) {
    fprintf(stderr, "mailsim export: %s\n", err->message);
    status = g_error_matches(err, TRACE_MERMAID_ERROR, TRACE_MERMAID_ERROR_NOT_FOUND) ? 1 : 2;
    g_error_free(err);
    goto out;
  }
  fwrite(out->str, 1, out->len, stdout);
  status = fflush(stdout) == 0 ? 0 : 2;
out:
  g_string_free(out, TRUE);
  trace_reader_free(r);
  g_free(msg);
  g_free(conn);
  g_free(eml);
  g_free(mbox);
  g_free(mailbox);
  return status;
}
