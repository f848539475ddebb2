/* cmd_export.h — `mailsim export`: a trace in other tools' formats.
 *
 *   mailsim export TRACE --mermaid [--message ID | --connection ID]
 *
 * --mermaid prints a Mermaid sequenceDiagram (traces/trace_mermaid.h) of a
 * message's journey (ID: its Message-ID or the start of it; without
 * --message and --connection: the first message of the trace) or of one
 * connection's dialogue (ID: either end's connection id), ready to paste
 * into a ```mermaid block. Exit status: 0 done, 1 no such message or
 * connection, 2 bad usage or an unreadable or bad trace (file:line). */
#ifndef MAILSIM_CMD_EXPORT_H
#define MAILSIM_CMD_EXPORT_H

int cli_cmd_export(int argc, char **argv);

#endif
