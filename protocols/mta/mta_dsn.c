/* mta_dsn.c — building delivery status notifications.
 *
 * RFC 6522 §3: multipart/report with report-type=delivery-status; first
 * part human-readable, second the machine-readable report, third the
 * returned message or its header (text/rfc822-headers, RFC 6522 §4).
 * RFC 3464 §2.1-2.3: the message/delivery-status body is the per-message
 * fields, then one group of per-recipient fields per recipient, each group
 * preceded by a blank line; address types "rfc822", MTA name types "dns",
 * diagnostic type "smtp" (§2.2.1, §2.3.6); dates are RFC 5322 date-times.
 * RFC 3834 §5: Auto-Submitted: auto-replied. Dates through mime_date,
 * boundaries through mime_compose_boundary, long fields folded with
 * mime_compose_fold, so the whole message is a function of its inputs.
 */
#include "mta_dsn.h"

#include <string.h>

#include "mime_compose.h"
#include "mime_date.h"

static const char *const action_names[MTA_DSN_ACTION__COUNT] = {"failed", "delayed", "delivered",
                                                                "relayed", "expanded"};

const char *mta_dsn_action_name(mta_dsn_action a) {
  g_assert((unsigned)a < MTA_DSN_ACTION__COUNT);
  return action_names[a];
}

/* RFC 3463 §2: class "." subject "." detail, class 2, 4 or 5, subject 1-3
 * digits, detail 1-3 digits. */
static bool status_ok(const char *s) {
  if (!s || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
    return false;
  s += 2;
  for (int part = 0; part < 2; part++) {
    int n = 0;
    while (g_ascii_isdigit(*s) && n < 4) {
      s++;
      n++;
    }
    if (n < 1 || n > 3)
      return false;
    if (part == 0 && *s++ != '.')
      return false;
  }
  return *s == 0;
}

static bool has_crlf(const char *s) { return s && strpbrk(s, "\r\n") != NULL; }

static bool add_date(GString *o, const char *name, int64_t t, const mta_dsn_config *c) {
  char *d = mime_date_format(t, c->epoch_unix, c->tz_min);
  if (!d)
    return false;
  g_string_append_printf(o, "%s: %s\r\n", name, d);
  g_free(d);
  return true;
}

/* "Name: value" folded to 78 columns. */
static void add_folded(GString *o, const char *name, const char *value) {
  char *f = mime_compose_fold(value, strlen(name) + 2);
  g_string_append_printf(o, "%s: %s\r\n", name, f);
  g_free(f);
}

/* One line of diagnostic text: newlines to spaces, at most 900 octets. */
static char *flat_text(const char *t) {
  char *s = g_strndup(t ? t : "", 900);
  for (char *p = s; *p; p++)
    if (*p == '\r' || *p == '\n' || *p == '\t')
      *p = ' ';
  return s;
}

static bool atext_phrase(const char *s) {
  for (; *s; s++)
    if (!g_ascii_isalnum(*s) && !strchr(" !#$%&'*+-/=?^_`{|}~", *s))
      return false;
  return true;
}

/* Appends the header block of MSG (up to its empty line) with every line
 * ending in CRLF and cut at 998 octets (RFC 5322 §2.1.1). */
static void append_header(GString *o, const uint8_t *msg, size_t len, bool whole) {
  size_t i = 0;
  while (i < len) {
    size_t e = i;
    while (e < len && msg[e] != '\r' && msg[e] != '\n')
      e++;
    if (e == i && !whole) /* the empty line ends the header */
      break;
    size_t n = e - i > 998 ? 998 : e - i;
    g_string_append_len(o, (const char *)msg + i, (gssize)n);
    g_string_append(o, "\r\n");
    if (e < len && msg[e] == '\r' && e + 1 < len && msg[e + 1] == '\n')
      e++;
    i = e + 1;
  }
}

static bool has_8bit(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] & 0x80)
      return true;
  return false;
}

static const char *fail(char **err, const char *what) {
  *err = g_strdup(what);
  return NULL;
}

GBytes *mta_dsn_build(const mta_dsn_config *c, char **err) {
  *err = NULL;
  if (!c->reporting_mta || !*c->reporting_mta || !c->from || !*c->from || !c->to || !*c->to ||
      !c->message_id || !*c->message_id || c->nrcpts == 0)
    return (GBytes *)fail(err, "a required field is missing");
  if (has_crlf(c->reporting_mta) || has_crlf(c->from) || has_crlf(c->from_name) ||
      has_crlf(c->to) || has_crlf(c->message_id) || has_crlf(c->envid) ||
      has_crlf(c->received_from) || has_crlf(c->queue_id))
    return (GBytes *)fail(err, "a field holds CR or LF");
  bool any_failed = false, all_delayed = true;
  for (size_t i = 0; i < c->nrcpts; i++) {
    const mta_dsn_rcpt *r = &c->rcpts[i];
    if ((unsigned)r->action >= MTA_DSN_ACTION__COUNT)
      return (GBytes *)fail(err, "bad action");
    if (!r->rcpt || !*r->rcpt || has_crlf(r->rcpt) || has_crlf(r->orcpt) ||
        has_crlf(r->remote_mta) || !status_ok(r->status))
      return (GBytes *)fail(err, "bad recipient: address, status (x.y.z) or field with CR/LF");
    any_failed |= r->action == MTA_DSN_FAILED;
    all_delayed &= r->action == MTA_DSN_DELAYED;
  }
  const char *subject = any_failed    ? "Undelivered Mail Returned to Sender"
                        : all_delayed ? "Delayed Mail (still being retried)"
                                      : "Successful Mail Delivery Report";
  char *boundary = mime_compose_boundary(c->message_id, 0);
  GString *o = g_string_new(NULL);
  bool ok = true;

  /* ---- header ---- */
  if (c->from_name && *c->from_name)
    g_string_append_printf(
        o, atext_phrase(c->from_name) ? "From: %s <%s>\r\n" : "From: \"%s\" <%s>\r\n", c->from_name,
        c->from);
  else
    g_string_append_printf(o, "From: <%s>\r\n", c->from);
  g_string_append_printf(o, "To: <%s>\r\n", c->to);
  g_string_append_printf(o, "Subject: %s\r\n", subject);
  ok &= add_date(o, "Date", c->date, c);
  g_string_append_printf(o, "Message-ID: <%s>\r\n", c->message_id);
  g_string_append(o, "Auto-Submitted: auto-replied\r\n");
  g_string_append(o, "MIME-Version: 1.0\r\n");
  g_string_append_printf(o,
                         "Content-Type: multipart/report; report-type=delivery-status;\r\n"
                         "\tboundary=\"%s\"\r\n",
                         boundary);
  bool eight = has_8bit(c->original, c->original_len);
  if (eight)
    g_string_append(o, "Content-Transfer-Encoding: 8bit\r\n");
  g_string_append(o, "\r\nThis is a MIME-encapsulated message.\r\n\r\n");

  /* ---- 1: for people ---- */
  g_string_append_printf(o, "--%s\r\n", boundary);
  g_string_append(o, "Content-Description: Notification\r\n"
                     "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
  g_string_append_printf(o, "This is the mail system at host %s.\r\n\r\n", c->reporting_mta);
  if (any_failed)
    g_string_append(o, "I'm sorry to have to inform you that your message could not\r\n"
                       "be delivered to one or more recipients. It's attached below.\r\n\r\n");
  else if (all_delayed)
    g_string_append(o, "THIS IS A WARNING ONLY. YOU DO NOT NEED TO RESEND YOUR MESSAGE.\r\n\r\n"
                       "Your message could not be delivered yet to the recipients below;\r\n"
                       "the mail system will keep trying.\r\n\r\n");
  else
    g_string_append(o, "Your message was delivered to the recipients below.\r\n\r\n");
  if (c->queue_id)
    g_string_append_printf(o, "Queue ID: %s\r\n\r\n", c->queue_id);
  for (size_t i = 0; i < c->nrcpts; i++) {
    const mta_dsn_rcpt *r = &c->rcpts[i];
    char *t = flat_text(r->text);
    char *line;
    if (r->remote_mta && r->code)
      line = g_strdup_printf("<%s>: %s; host %s said: %d %s %s", r->rcpt,
                             mta_dsn_action_name(r->action), r->remote_mta, r->code, r->status, t);
    else
      line = g_strdup_printf("<%s>: %s; %s%s%s", r->rcpt, mta_dsn_action_name(r->action), r->status,
                             *t ? ": " : "", t);
    char *f = mime_compose_fold(line, 0);
    g_string_append_printf(o, "%s\r\n\r\n", f);
    g_free(f);
    g_free(line);
    g_free(t);
  }

  /* ---- 2: for machines (RFC 3464 §2) ---- */
  g_string_append_printf(o, "--%s\r\n", boundary);
  g_string_append(o, "Content-Description: Delivery report\r\n"
                     "Content-Type: message/delivery-status\r\n\r\n");
  g_string_append_printf(o, "Reporting-MTA: dns; %s\r\n", c->reporting_mta);
  if (c->envid)
    g_string_append_printf(o, "Original-Envelope-Id: %s\r\n", c->envid);
  if (c->received_from)
    g_string_append_printf(o, "Received-From-MTA: dns; %s\r\n", c->received_from);
  if (c->arrival >= 0)
    ok &= add_date(o, "Arrival-Date", c->arrival, c);
  for (size_t i = 0; i < c->nrcpts; i++) {
    const mta_dsn_rcpt *r = &c->rcpts[i];
    g_string_append(o, "\r\n");
    g_string_append_printf(o, "Final-Recipient: rfc822; %s\r\n", r->rcpt);
    if (r->orcpt)
      g_string_append_printf(o, "Original-Recipient: %s\r\n", r->orcpt);
    g_string_append_printf(o, "Action: %s\r\n", mta_dsn_action_name(r->action));
    g_string_append_printf(o, "Status: %s\r\n", r->status);
    if (r->remote_mta)
      g_string_append_printf(o, "Remote-MTA: dns; %s\r\n", r->remote_mta);
    if (r->code > 0) {
      char *t = flat_text(r->text);
      char *v = g_strdup_printf("smtp; %d %s%s%s", r->code, r->status, *t ? " " : "", t);
      add_folded(o, "Diagnostic-Code", v);
      g_free(v);
      g_free(t);
    }
    if (r->last_attempt >= 0)
      ok &= add_date(o, "Last-Attempt-Date", r->last_attempt, c);
    if (r->action == MTA_DSN_DELAYED && r->retry_until >= 0)
      ok &= add_date(o, "Will-Retry-Until", r->retry_until, c);
  }
  g_string_append(o, "\r\n");

  /* ---- 3: the original ---- */
  g_string_append_printf(o, "--%s\r\n", boundary);
  if (c->return_full) {
    g_string_append(o, "Content-Description: Undelivered Message\r\n"
                       "Content-Type: message/rfc822\r\n");
    if (eight)
      g_string_append(o, "Content-Transfer-Encoding: 8bit\r\n");
    g_string_append(o, "\r\n");
    append_header(o, c->original, c->original_len, true);
  } else {
    g_string_append(o, "Content-Description: Undelivered Message Headers\r\n"
                       "Content-Type: text/rfc822-headers\r\n");
    if (eight)
      g_string_append(o, "Content-Transfer-Encoding: 8bit\r\n");
    g_string_append(o, "\r\n");
    append_header(o, c->original, c->original_len, false);
  }
  g_string_append_printf(o, "\r\n--%s--\r\n", boundary);
  g_free(boundary);
  if (!ok) {
    g_string_free(o, TRUE);
    return (GBytes *)fail(err, "a date is out of range");
  }
  return g_string_free_to_bytes(o);
}
