/* cmd_export.h — `mailsim export`: a trace in other tools' formats.
 *
 *   mailsim export TRACE --mermaid [--message ID | --connection ID]
 *   mailsim export TRACE --eml DIR | --mbox FILE [--mailbox ADDR] [--all]
 *
 * --mermaid prints a Mermaid sequenceDiagram (traces/trace_mermaid.h) of a
 * message's journey (ID: its Message-ID or the start of it; without
 * --message and --connection: the first message of the trace) or of one
 * connection's dialogue (ID: either end's connection id), ready to paste
 * into a ```mermaid block. Exit status: 0 done, 1 no such message or
 * connection, 2 bad usage or an unreadable or bad trace (file:line). */
#ifndef MAILSIM_CMD_EXPORT_H
#define MAILSIM_CMD_EXPORT_H

#include <stdbool.h>

int cli_cmd_export(int argc, char **argv);

/* --eml DIR / --mbox FILE (either may be NULL, not both): the messages of
 * TRACE stored at the end of the run (ALL: every stored copy ever), of
 * MAILBOX only when non-NULL (traces/trace_eml.h). .eml files are the
 * stored bytes exactly, named NNN-MAILBOX-FOLDER-UID.eml; the mbox is
 * mboxrd. Prints each file written. Returns the exit status: 0, 1 no such
 * message, 2 a bad trace, a trace without bodies, or a write error. */
int cli_export_mail(const char *trace, const char *eml_dir, const char *mbox_file,
                    const char *mailbox, bool all);

#endif
