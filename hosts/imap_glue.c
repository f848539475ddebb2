/* imap_glue.c — IMAP engines behind the session interface, their line
 * records, and the MIME provider of the server (RFC 3501 §7.4.2 ENVELOPE
 * and BODYSTRUCTURE, §6.4.5 section numbers) from protocols/mime. */
#include "imap_glue.h"

#include <string.h>

#include "mime_imap.h"

static void srv_feed(void *e, const uint8_t *b, size_t n, sim_time now) {
  imap_srv_feed(e, b, n, now);
}
static const uint8_t *srv_peek(void *e, size_t *n) { return imap_srv_output_peek(e, n); }
static void srv_consume(void *e, size_t n, sim_time now) {
  (void)now;
  imap_srv_output_consume(e, n);
}
static sim_time srv_deadline(void *e) { return imap_srv_deadline(e); }
static void srv_tick(void *e, sim_time now) { imap_srv_tick(e, now); }

const session_engine imap_glue_srv_ops = {srv_feed, srv_peek, srv_consume, srv_deadline, srv_tick};

static void cli_feed(void *e, const uint8_t *b, size_t n, sim_time now) {
  imap_cli_feed(e, b, n, now);
}
static const uint8_t *cli_peek(void *e, size_t *n) { return imap_cli_output_peek(e, n); }
static void cli_consume(void *e, size_t n, sim_time now) {
  (void)now;
  imap_cli_output_consume(e, n);
}
static sim_time cli_deadline(void *e) { return imap_cli_deadline(e); }
static void cli_tick(void *e, sim_time now) { imap_cli_tick(e, now); }

const session_engine imap_glue_cli_ops = {cli_feed, cli_peek, cli_consume, cli_deadline, cli_tick};

/* The engines report what they send as well as what they receive; only a
 * received line ("cmd" at the server, "reply" at the client) is recorded,
 * by the host that received it. */
static void on_trace(void *ctx, const char *event, const char *detail) {
  imap_glue_trace *t = ctx;
  if (t->s && strcmp(event, t->want) == 0)
    session_trace_text(t->s, t->ev, detail);
}

imap_env imap_glue_env(imap_glue_trace *t, bool server) {
  t->s = NULL;
  t->ev = server ? "imap.cmd" : "imap.reply";
  t->want = server ? "cmd" : "reply";
  /* hosts record lines through the hook and read no COMMAND/REPLY event */
  imap_env env = {on_trace, t, true};
  return env;
}

/* ---- MIME provider ---- */

static mime_msg *parse(GBytes *msg) {
  gsize n;
  const void *p = g_bytes_get_data(msg, &n);
  return mime_msg_parse(p, n, NULL);
}

static char *mime_envelope(void *ud, GBytes *msg) {
  (void)ud;
  mime_msg *m = parse(msg);
  char *r = mime_imap_envelope(mime_msg_root(m));
  mime_msg_free(m);
  return r;
}

static char *mime_bodystructure(void *ud, GBytes *msg, bool extensible) {
  (void)ud;
  mime_msg *m = parse(msg);
  char *r = mime_imap_bodystructure(m, extensible);
  mime_msg_free(m);
  return r;
}

/* Part numbers and kind -> the section text mime_imap reads ("1.2.MIME"). */
static bool mime_section(void *ud, GBytes *msg, const uint32_t *part, size_t npart,
                         imap_section_kind kind, size_t *off, size_t *len) {
  (void)ud;
  GString *sec = g_string_new(NULL);
  for (size_t i = 0; i < npart; i++)
    g_string_append_printf(sec, "%s%u", i ? "." : "", part[i]);
  switch (kind) {
  case IMAP_SEC_ALL:
    break;
  case IMAP_SEC_HEADER:
    g_string_append(sec, ".HEADER");
    break;
  case IMAP_SEC_TEXT:
    g_string_append(sec, ".TEXT");
    break;
  case IMAP_SEC_MIME:
    g_string_append(sec, ".MIME");
    break;
  default:
    g_string_free(sec, TRUE);
    return false;
  }
  mime_msg *m = parse(msg);
  gsize o = 0, l = 0;
  bool ok = mime_imap_section_range(m, sec->str, &o, &l);
  mime_msg_free(m);
  g_string_free(sec, TRUE);
  *off = o;
  *len = l;
  return ok;
}

const imap_mime_provider imap_glue_mime = {mime_envelope, mime_bodystructure, mime_section, NULL};

imap_env imap_glue_env_on(imap_glue_trace *t, bool server, const host *h) {
  imap_env env = imap_glue_env(t, server);
  if (!host_trace(h, SIM_DETAIL_PROTOCOL))
    env.trace = NULL;
  return env;
}
