/* smtp_glue.h — the SMTP engines as session engines, and their line records.
 *
 * smtp_glue_srv_ops / smtp_glue_cli_ops adapt smtp_srv / smtp_cli to
 * session_engine. smtp_glue_env() gives the environment an engine is created
 * with so that every line it RECEIVES becomes a trace record, written by the
 * receiving host when the line arrives:
 *   smtp.cmd   {"conn","from","to","sent","line"}  a command, at the server
 *   smtp.reply {"conn","from","to","sent","line"}  a reply line, at the client
 * "line" is the line without its CRLF, as a bytes string (AUTH secrets are
 * masked by the engine). The session must be attached before the first
 * line arrives (smtp_glue_attach).
 */
#ifndef MAILSIM_SMTP_GLUE_H
#define MAILSIM_SMTP_GLUE_H

#include "session.h"
#include "smtp_cli.h"
#include "smtp_srv.h"

extern const session_engine smtp_glue_srv_ops;
extern const session_engine smtp_glue_cli_ops;

/* The trace context of one engine: which session, and which record. */
typedef struct {
  session *s;
  const char *ev; /* "smtp.cmd" (server) or "smtp.reply" (client) */
} smtp_glue_trace;

/* Fills *T for a server (SERVER true) or client engine and returns the env
 * to create the engine with; T must outlive the engine. */
smtp_env smtp_glue_env(smtp_glue_trace *t, bool server);
/* The same for an engine on host H: when H's world records below protocol
 * detail the env has no trace hook, so the engine formats no trace text
 * at all (the records would be dropped anyway). */
smtp_env smtp_glue_env_on(smtp_glue_trace *t, bool server, const host *h);
static inline void smtp_glue_attach(smtp_glue_trace *t, session *s) { t->s = s; }

#endif
