/* pop3_glue.h — the POP3 engines as session engines, and their line
 * records.
 *
 * pop3_glue_srv_ops / pop3_glue_cli_ops adapt pop3_srv / pop3_cli to
 * session_engine. pop3_glue_env() gives the environment an engine is
 * created with so that every line it RECEIVES and reports becomes a trace
 * record, written by the receiving host when the line arrives:
 *   pop3.cmd   {"conn","from","to","sent","line"}  a command, at the server
 *   pop3.reply {"conn","from","to","sent","line"}  a status line, at the client
 * "line" is the line without CRLF as the engine reports it: PASS and AUTH
 * secrets are masked ("PASS ****"), SASL responses appear as
 * "<sasl response>", multi-line bodies (RETR, UIDL lists) are not
 * recorded. Attach the session (pop3_glue_attach) before the first line
 * arrives.
 */
#ifndef MAILSIM_POP3_GLUE_H
#define MAILSIM_POP3_GLUE_H

#include "pop3_cli.h"
#include "pop3_srv.h"
#include "session.h"

extern const session_engine pop3_glue_srv_ops;
extern const session_engine pop3_glue_cli_ops;

/* The trace context of one engine: which session, and which record. */
typedef struct {
  session *s;
  const char *ev;   /* "pop3.cmd" (server) or "pop3.reply" (client) */
  const char *want; /* the engine's trace event that becomes a record */
} pop3_glue_trace;

/* Fills *T for a server (SERVER true) or client engine and returns the env
 * to create the engine with; T must outlive the engine. */
pop3_env pop3_glue_env(pop3_glue_trace *t, bool server);
/* The same for an engine on host H: when H's world records below protocol
 * detail the env has no trace hook, so the engine formats no trace text
 * at all (the records would be dropped anyway). */
pop3_env pop3_glue_env_on(pop3_glue_trace *t, bool server, const host *h);
static inline void pop3_glue_attach(pop3_glue_trace *t, session *s) { t->s = s; }

#endif
