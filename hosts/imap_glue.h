/* imap_glue.h — the IMAP engines as session engines, their line records,
 * and the MIME provider the IMAP server needs for ENVELOPE, BODYSTRUCTURE
 * and BODY[part] (protocols/mime).
 *
 * imap_glue_srv_ops / imap_glue_cli_ops adapt imap_srv / imap_cli to
 * session_engine. imap_glue_env() gives the environment an engine is
 * created with so that every line it RECEIVES and reports becomes a trace
 * record, written by the receiving host when the line arrives:
 *   imap.cmd   {"conn","from","to","sent","line"}  a command, at the server
 *   imap.reply {"conn","from","to","sent","line"}  a tagged reply (or BYE),
 *                                                  at the client
 * "line" is the line as the engine reports it, without CRLF: passwords and
 * SASL responses are masked by the engine ("a1 LOGIN bob ****"), literals
 * (APPEND data, message bodies) are not recorded. Attach the session
 * (imap_glue_attach) before the first line arrives.
 */
#ifndef MAILSIM_IMAP_GLUE_H
#define MAILSIM_IMAP_GLUE_H

#include "imap_cli.h"
#include "imap_srv.h"
#include "session.h"

extern const session_engine imap_glue_srv_ops;
extern const session_engine imap_glue_cli_ops;

/* The trace context of one engine: which session, and which record. */
typedef struct {
  session *s;
  const char *ev;   /* "imap.cmd" (server) or "imap.reply" (client) */
  const char *want; /* the engine's trace event that becomes a record */
} imap_glue_trace;

/* Fills *T for a server (SERVER true) or client engine and returns the env
 * to create the engine with; T must outlive the engine. */
imap_env imap_glue_env(imap_glue_trace *t, bool server);
/* The same for an engine on host H: when H's world records below protocol
 * detail the env has no trace hook, so the engine formats no trace text
 * at all (the records would be dropped anyway). */
imap_env imap_glue_env_on(imap_glue_trace *t, bool server, const host *h);
static inline void imap_glue_attach(imap_glue_trace *t, session *s) { t->s = s; }

/* MIME views for imap_srv_config.mime, computed by parsing the message
 * with mime_msg (no state: ud is unused). */
extern const imap_mime_provider imap_glue_mime;

#endif
