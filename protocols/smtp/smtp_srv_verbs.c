/* smtp_srv_verbs.c — the server's verb table: for each verb the states it
 * is allowed in, a check that may only answer an error, and a proceed that
 * changes state (maybe by asking the owner and waiting), after OpenSMTPD's
 * smtp_session.c and Postfix's smtpd.c command table.
 *
 * RFC 5321 §4.1.1 (the commands), §4.1.4 (order of commands: EHLO resets
 * the transaction, MAIL needs EHLO, RCPT needs MAIL, DATA needs an accepted
 * RCPT), §3.5.3 (VRFY may answer 252), §4.2.4 (502 for recognised but
 * unimplemented commands), RFC 1870, 6152, 2920, 2034 and 3461 (the EHLO
 * keywords and MAIL/RCPT parameters), RFC 3207 §4 (STARTTLS, 454/501/554,
 * 530 before STARTTLS), RFC 4954 §4 (AUTH: 334 continuations, "*" aborts
 * with 501, one successful AUTH per session, not inside a transaction, 504
 * for unknown mechanisms, 538 when encryption is required), RFC 4616
 * (PLAIN), RFC 6409 §4.3 (submission: 530 5.7.0 before AUTH).
 */
#include "smtp_srv_int.h"

#include <string.h>

typedef struct {
  smtp_verb verb;
  unsigned states;
  bool (*check)(smtp_srv *srv, const char *arg); /* NULL: nothing to check */
  void (*proceed)(smtp_srv *srv, const char *arg);
} verb_row;

#define CMD_STATES (SRV_BIT(SRV_HELO) | SRV_BIT(SRV_READY) | SRV_BIT(SRV_MAIL) | SRV_BIT(SRV_RCPT))

/* ---- HELO / EHLO ---- */

static bool helo_check(smtp_srv *srv, const char *arg) {
  bool bad = !*arg;
  for (const char *p = arg; *p && !bad; p++)
    bad = *p < 33 || *p > 126;
  if (bad)
    smtp_srv__reply(srv, 501, "5.5.4", "Syntax: EHLO hostname");
  return !bad;
}

static void helo_start(smtp_srv *srv, const char *arg, bool esmtp) {
  smtp_srv__reset_txn(srv); /* RFC 5321 §4.1.4: EHLO implies RSET */
  smtp_reply_set(srv->cand_helo, arg);
  srv->cand_esmtp = esmtp;
  smtp_srv__enter(srv, SRV_HELO_WAIT);
  smtp_srv__decide(srv, SMTP_SRV_EV_DECIDE_HELO);
}

static void ehlo_proceed(smtp_srv *srv, const char *arg) { helo_start(srv, arg, true); }
static void helo_proceed(smtp_srv *srv, const char *arg) { helo_start(srv, arg, false); }

static bool auth_offered(const smtp_srv *srv) {
  return srv->cfg.ext_auth && (srv->cfg.auth_plain || srv->cfg.auth_login) &&
         (srv->tls || !srv->cfg.require_tls_for_auth) && !srv->auth_user;
}

void smtp_srv__helo_reply(smtp_srv *srv) {
  if (!srv->esmtp) {
    smtp_srv__reply(srv, 250, "", srv->hostname);
    return;
  }
  GString *t = srv->scratch;
  smtp_reply_set(t, srv->hostname);
  const smtp_srv_config *c = &srv->cfg;
  if (c->ext_pipelining)
    smtp_reply_puts(t, "\nPIPELINING");
  if (c->ext_size && c->max_size) {
    char num[24], *e = num + sizeof num, *d = e;
    uint64_t v = c->max_size;
    do
      *--d = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    smtp_reply_puts(t, "\nSIZE ");
    smtp_reply_put(t, d, (size_t)(e - d));
  } else if (c->ext_size) {
    smtp_reply_puts(t, "\nSIZE");
  }
  smtp_reply_puts(t, "\nVRFY");
  if (c->ext_starttls && !srv->tls)
    smtp_reply_puts(t, "\nSTARTTLS");
  if (auth_offered(srv)) {
    smtp_reply_puts(t, "\nAUTH");
    if (c->auth_plain)
      smtp_reply_puts(t, " PLAIN");
    if (c->auth_login)
      smtp_reply_puts(t, " LOGIN");
  }
  if (c->ext_enhancedstatuscodes)
    smtp_reply_puts(t, "\nENHANCEDSTATUSCODES");
  if (c->ext_8bitmime)
    smtp_reply_puts(t, "\n8BITMIME");
  if (c->ext_dsn)
    smtp_reply_puts(t, "\nDSN");
  /* RFC 2034 §3: no enhanced codes on the EHLO reply. The same text as
   * last time: its formatted lines again. */
  GString *key = srv->ehlo_text, *wire = srv->ehlo_wire;
  if (t->len == key->len && memcmp(t->str, key->str, t->len) == 0) {
    smtp_srv__reply_wire(srv, 250, wire->str, wire->len);
    return;
  }
  size_t at = srv->out->len;
  smtp_srv__reply(srv, 250, "", t->str);
  if (t->len <= SRV_EHLO_CACHE_MAX) {
    smtp_reply_set(key, t->str);
    wire->str[wire->len = 0] = 0;
    smtp_reply_put(wire, srv->out->str + at, srv->out->len - at);
  }
}

/* ---- MAIL / RCPT / DATA ---- */

static bool mail_check(smtp_srv *srv, const char *arg) {
  if (srv->cfg.require_auth && !srv->auth_user) {
    if (srv->cfg.require_tls_for_auth && !srv->tls && srv->cfg.ext_starttls)
      smtp_srv__reply(srv, 530, "5.7.0", "Must issue a STARTTLS command first");
    else
      smtp_srv__reply(srv, 530, "5.7.0", "Authentication required");
    return false;
  }
  unsigned allowed =
      (srv->cfg.ext_size ? SMTP_CMD_P_SIZE : 0) | (srv->cfg.ext_8bitmime ? SMTP_CMD_P_BODY : 0) |
      (srv->cfg.ext_dsn ? SMTP_CMD_P_DSN : 0) | (srv->cfg.ext_auth ? SMTP_CMD_P_AUTH : 0);
  smtp_cmd_status st = smtp_cmd_parse_mail_in(
      arg, allowed, srv->cfg.ext_size ? srv->cfg.max_size : 0, &srv->scratch_mail, &srv->txn_strs);
  if (st.code) {
    smtp_srv__reply(srv, st.code, st.esc, st.text);
    return false;
  }
  return true;
}

static void mail_proceed(smtp_srv *srv, const char *arg) {
  (void)arg;
  smtp_srv__enter(srv, SRV_MAIL_WAIT);
  smtp_srv__decide(srv, SMTP_SRV_EV_DECIDE_MAIL);
}

static bool rcpt_check(smtp_srv *srv, const char *arg) {
  if (srv->rcpts->len >= srv->cfg.max_recipients) { /* RFC 5321 §4.5.3.1.10 */
    smtp_srv__reply(srv, 452, "4.5.3", "Error: too many recipients");
    return false;
  }
  smtp_cmd_status st = smtp_cmd_parse_rcpt_in(arg, srv->cfg.ext_dsn ? SMTP_CMD_P_DSN : 0,
                                              &srv->cand_rcpt, &srv->txn_strs);
  if (st.code) {
    smtp_srv__reply(srv, st.code, st.esc, st.text);
    return false;
  }
  return true;
}

static void rcpt_proceed(smtp_srv *srv, const char *arg) {
  (void)arg;
  smtp_srv__enter(srv, SRV_RCPT_WAIT);
  smtp_srv__decide(srv, SMTP_SRV_EV_DECIDE_RCPT);
}

static bool no_arg_check(smtp_srv *srv, const char *arg, const char *syntax) {
  if (*arg) {
    smtp_srv__replyf(srv, 501, "5.5.4", "Syntax: %s", syntax);
    return false;
  }
  return true;
}

static bool data_check(smtp_srv *srv, const char *arg) { return no_arg_check(srv, arg, "DATA"); }

static void data_proceed(smtp_srv *srv, const char *arg) {
  (void)arg;
  smtp_srv__reply_lit(srv, 354, "", "End data with <CR><LF>.<CR><LF>");
  smtp_srv__begin_data(srv);
  smtp_srv__enter(srv, SRV_DATA);
}

/* ---- simple verbs ---- */

static void rset_proceed(smtp_srv *srv, const char *arg) {
  (void)arg;
  smtp_srv__reset_txn(srv);
  smtp_srv__reply_lit(srv, 250, "2.0.0", "Ok");
  if (srv->state == SRV_MAIL || srv->state == SRV_RCPT)
    smtp_srv__enter(srv, SRV_READY);
}

static void noop_proceed(smtp_srv *srv, const char *arg) {
  (void)arg;
  smtp_srv__reply_lit(srv, 250, "2.0.0", "Ok");
}

static void quit_proceed(smtp_srv *srv, const char *arg) {
  (void)arg;
  smtp_srv__reply_lit(srv, 221, "2.0.0", "Bye");
  smtp_srv__close(srv, "quit");
}

static bool vrfy_check(smtp_srv *srv, const char *arg) {
  if (!*arg) {
    smtp_srv__reply(srv, 501, "5.5.4", "Syntax: VRFY address");
    return false;
  }
  return true;
}

static void vrfy_proceed(smtp_srv *srv, const char *arg) {
  (void)arg; /* RFC 5321 §3.5.3 */
  smtp_srv__reply(srv, 252, "2.0.0",
                  "Cannot VRFY user, but will accept message and attempt delivery");
}

static void help_proceed(smtp_srv *srv, const char *arg) {
  (void)arg;
  smtp_srv__replyf(srv, 214, "2.0.0",
                   "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP%s%s",
                   srv->cfg.ext_starttls ? " STARTTLS" : "", srv->cfg.ext_auth ? " AUTH" : "");
}

static bool unimpl_check(smtp_srv *srv, const char *arg) {
  (void)arg;
  smtp_srv__reply(srv, 502, "5.5.1", "Error: command not implemented");
  return false;
}

/* ---- STARTTLS (RFC 3207) ---- */

static bool starttls_check(smtp_srv *srv, const char *arg) {
  if (!srv->cfg.ext_starttls) {
    smtp_srv__reply(srv, 502, "5.5.1", "Error: command not implemented");
    return false;
  }
  if (srv->tls) {
    smtp_srv__reply(srv, 554, "5.5.1", "Error: TLS already active");
    return false;
  }
  return no_arg_check(srv, arg, "STARTTLS");
}

static void starttls_proceed(smtp_srv *srv, const char *arg) {
  (void)arg;
  smtp_srv__reply(srv, 220, "2.0.0", "Ready to start TLS");
  /* RFC 3207 §4.2: pipelined commands after STARTTLS are not acted on. */
  smtp_srv__discard_input(srv, "pipelined after STARTTLS");
  smtp_srv__enter(srv, SRV_TLS_WAIT);
  smtp_srv__push_event(srv, SMTP_SRV_EV_STARTTLS);
}

/* ---- AUTH (RFC 4954, RFC 4616) ---- */

static bool auth_check(smtp_srv *srv, const char *arg) {
  if (!srv->cfg.ext_auth || (!srv->cfg.auth_plain && !srv->cfg.auth_login)) {
    smtp_srv__reply(srv, 502, "5.5.1", "Error: authentication not enabled");
    return false;
  }
  if (srv->auth_user) {
    smtp_srv__reply(srv, 503, "5.5.1", "Error: already authenticated");
    return false;
  }
  if (srv->cfg.require_tls_for_auth && !srv->tls) {
    smtp_srv__reply(srv, 538, "5.7.11",
                    "Encryption required for requested authentication mechanism");
    return false;
  }
  size_t n = strcspn(arg, " ");
  bool plain = n == 5 && smtp_cmd_ieqn(arg, "PLAIN", 5) && srv->cfg.auth_plain;
  bool login = n == 5 && smtp_cmd_ieqn(arg, "LOGIN", 5) && srv->cfg.auth_login;
  if (n == 0) {
    smtp_srv__reply(srv, 501, "5.5.4", "Syntax: AUTH mechanism");
    return false;
  }
  if (!plain && !login) {
    smtp_srv__reply(srv, 504, "5.5.4", "Unrecognized authentication type");
    return false;
  }
  return true;
}

/* Asks the owner about the gathered credentials. */
static void auth_decide(smtp_srv *srv) {
  smtp_srv__enter(srv, SRV_AUTH_WAIT);
  smtp_srv__decide(srv, SMTP_SRV_EV_DECIDE_AUTH);
}

static void auth_fail(smtp_srv *srv, int code, const char *esc, const char *text) {
  smtp_srv__reply(srv, code, esc, text);
  smtp_srv__reset_auth_input(srv);
  if (srv->state != SRV_READY) /* an initial response fails straight from READY */
    smtp_srv__enter(srv, SRV_READY);
}

/* One base64 response (initial or continuation). */
static void auth_response(smtp_srv *srv, const char *b64) {
  if (strcmp(b64, "*") == 0) { /* RFC 4954 §4 */
    auth_fail(srv, 501, "5.0.0", "Authentication aborted");
    return;
  }
  /* decoded in place after what is already there (LOGIN's user) */
  GString *in = srv->auth_in;
  size_t at = in->len;
  if (!smtp_cmd_b64_decode_append(b64, in)) {
    auth_fail(srv, 501, "5.5.2", "Error: invalid base64 in authentication response");
    return;
  }
  const guchar *raw = (const guchar *)in->str + at;
  size_t len = in->len - at;
  if (!srv->auth_login) {
    gsize user, pass;
    if (!smtp_cmd_plain_parts(raw, len, &user, &pass)) {
      auth_fail(srv, 501, "5.5.2", "Error: malformed PLAIN response");
      return;
    }
    srv->a_authzid = at; /* each part ended by its NUL, the last by the string's */
    srv->a_user = at + user;
    srv->a_pass = at + pass;
    auth_decide(srv);
    return;
  }
  bool ok = len > 0 && len <= 255 && memchr(raw, 0, len) == NULL;
  if (!ok) {
    auth_fail(srv, 501, "5.5.2", "Error: malformed LOGIN response");
    return;
  }
  smtp_reply_put(in, "", 1); /* its NUL: the next part goes after it */
  if (srv->auth_step == 0) {
    srv->a_user = at;
    srv->auth_step = 1;
    smtp_srv__reply(srv, 334, "", "UGFzc3dvcmQ6"); /* "Password:" */
    if (srv->state != SRV_AUTH_INPUT)
      smtp_srv__enter(srv, SRV_AUTH_INPUT);
    return;
  }
  srv->a_pass = at;
  auth_decide(srv);
}

static void auth_proceed(smtp_srv *srv, const char *arg) {
  size_t n = strcspn(arg, " ");
  smtp_srv__reset_auth_input(srv);
  srv->auth_login = g_ascii_toupper(arg[0]) == 'L';
  const char *ir = arg + n;
  while (*ir == ' ')
    ir++;
  if (*ir) {
    auth_response(srv, ir);
    return;
  }
  /* No initial response: PLAIN gets an empty challenge, LOGIN "Username:". */
  smtp_srv__reply(srv, 334, "", srv->auth_login ? "VXNlcm5hbWU6" : "");
  smtp_srv__enter(srv, SRV_AUTH_INPUT);
}

void smtp_srv__auth_input(smtp_srv *srv, const char *line) { auth_response(srv, line); }

/* ---- the table and the dispatcher ---- */

static const verb_row verbs[SMTP_VERB__COUNT] = {
    [SMTP_VERB_HELO] = {SMTP_VERB_HELO, CMD_STATES, helo_check, helo_proceed},
    [SMTP_VERB_EHLO] = {SMTP_VERB_EHLO, CMD_STATES, helo_check, ehlo_proceed},
    [SMTP_VERB_MAIL] = {SMTP_VERB_MAIL, SRV_BIT(SRV_READY), mail_check, mail_proceed},
    [SMTP_VERB_RCPT] = {SMTP_VERB_RCPT, SRV_BIT(SRV_MAIL) | SRV_BIT(SRV_RCPT), rcpt_check,
                        rcpt_proceed},
    [SMTP_VERB_DATA] = {SMTP_VERB_DATA, SRV_BIT(SRV_RCPT), data_check, data_proceed},
    [SMTP_VERB_RSET] = {SMTP_VERB_RSET, CMD_STATES, NULL, rset_proceed},
    [SMTP_VERB_NOOP] = {SMTP_VERB_NOOP, CMD_STATES, NULL, noop_proceed},
    [SMTP_VERB_QUIT] = {SMTP_VERB_QUIT, CMD_STATES, NULL, quit_proceed},
    [SMTP_VERB_VRFY] = {SMTP_VERB_VRFY, CMD_STATES, vrfy_check, vrfy_proceed},
    [SMTP_VERB_HELP] = {SMTP_VERB_HELP, CMD_STATES, NULL, help_proceed},
    [SMTP_VERB_STARTTLS] = {SMTP_VERB_STARTTLS, SRV_BIT(SRV_READY), starttls_check,
                            starttls_proceed},
    [SMTP_VERB_AUTH] = {SMTP_VERB_AUTH, SRV_BIT(SRV_READY), auth_check, auth_proceed},
    [SMTP_VERB_EXPN] = {SMTP_VERB_EXPN, CMD_STATES, unimpl_check, NULL},
    [SMTP_VERB_ETRN] = {SMTP_VERB_ETRN, CMD_STATES, unimpl_check, NULL},
    [SMTP_VERB_TURN] = {SMTP_VERB_TURN, CMD_STATES, unimpl_check, NULL},
    [SMTP_VERB_BDAT] = {SMTP_VERB_BDAT, CMD_STATES, unimpl_check, NULL},
};

/* The reply to a verb given in a state that does not allow it. */
static void sequence_error(smtp_srv *srv, smtp_verb v) {
  const char *text = "Error: bad sequence of commands";
  int code = 503;
  if (srv->state == SRV_HELO)
    text = "Error: send HELO/EHLO first";
  else if (v == SMTP_VERB_MAIL)
    text = "Error: nested MAIL command";
  else if ((v == SMTP_VERB_AUTH || v == SMTP_VERB_STARTTLS) &&
           (srv->state == SRV_MAIL || srv->state == SRV_RCPT))
    text = "Error: MAIL transaction in progress";
  else if ((v == SMTP_VERB_RCPT || v == SMTP_VERB_DATA) && srv->state == SRV_READY)
    text = v == SMTP_VERB_RCPT ? "Error: need MAIL command" : "Error: need RCPT command";
  else if (v == SMTP_VERB_DATA && srv->state == SRV_MAIL)
    code = 554, text = "Error: no valid recipients"; /* RFC 2920 §3.1 */
  smtp_srv__reply(srv, code, "5.5.1", text);
}

void smtp_srv__command(smtp_srv *srv, const char *line) {
  smtp_cmd cmd;
  smtp_cmd_parse(line, &cmd);
  if (cmd.verb == SMTP_VERB_UNKNOWN) {
    smtp_srv__reply(srv, 500, "5.5.2", "Error: command not recognized");
    return;
  }
  const verb_row *row = &verbs[cmd.verb];
  g_assert(row->verb == cmd.verb);
  if (!(row->states & SRV_BIT(srv->state))) {
    sequence_error(srv, cmd.verb);
    return;
  }
  if (row->check && !row->check(srv, cmd.arg))
    return;
  g_assert(row->proceed);
  row->proceed(srv, cmd.arg);
}
