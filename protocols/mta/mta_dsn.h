/* mta_dsn.h — delivery status notifications (RFC 3464) as messages:
 * multipart/report; report-type=delivery-status (RFC 6522) with a
 * human-readable text/plain part, a message/delivery-status part and the
 * original header as text/rfc822-headers (or the whole original message as
 * message/rfc822 when RET=FULL was asked).
 *
 * The caller sends it with a null reverse-path (RFC 5321 §4.5.5, RFC 3464
 * §2) and never about a message whose own reverse-path was null. Nothing
 * here reads a clock or draws randomness: dates, the Message-ID and the
 * boundary seed are supplied.
 */
#ifndef MAILSIM_MTA_DSN_H
#define MAILSIM_MTA_DSN_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
  MTA_DSN_FAILED, /* RFC 3464 §2.3.3 */
  MTA_DSN_DELAYED,
  MTA_DSN_DELIVERED,
  MTA_DSN_RELAYED,
  MTA_DSN_EXPANDED,
  MTA_DSN_ACTION__COUNT
} mta_dsn_action;
/* "failed", "delayed", "delivered", "relayed", "expanded". */
const char *mta_dsn_action_name(mta_dsn_action a);

/* One recipient's report (strings borrowed). */
typedef struct {
  const char *rcpt;  /* Final-Recipient: rfc822;RCPT */
  const char *orcpt; /* Original-Recipient: "rfc822;addr" as given in ORCPT, or NULL */
  mta_dsn_action action;
  const char *status;     /* "5.1.1" (RFC 3463); required */
  const char *remote_mta; /* Remote-MTA: dns;NAME, or NULL */
  int code;               /* Diagnostic-Code: smtp; CODE ESC TEXT (0 = no field) */
  const char *text;       /* the reply text or local reason (newlines become spaces) */
  int64_t last_attempt;   /* Last-Attempt-Date, or < 0 for none */
  int64_t retry_until;    /* Will-Retry-Until (delayed only), or < 0 */
} mta_dsn_rcpt;

typedef struct {
  const char *reporting_mta; /* Reporting-MTA: dns;NAME (required) */
  const char *from;          /* header From, e.g. "MAILER-DAEMON@a.example" (required) */
  const char *from_name;     /* its display name, e.g. "Mail Delivery System", or NULL */
  const char *to;            /* header To: the original sender (required) */
  const char *message_id;    /* "id@host" without brackets (required) */
  int64_t date;              /* Date of the report (simulated ns) */
  int64_t epoch_unix;        /* as in mime_date */
  int tz_min;
  const char *queue_id;      /* X-Postfix-style queue id mentioned in the text, or NULL */
  const char *envid;         /* Original-Envelope-Id, or NULL */
  int64_t arrival;           /* Arrival-Date, or < 0 */
  const char *received_from; /* Received-From-MTA: dns;NAME, or NULL */
  const mta_dsn_rcpt *rcpts;
  size_t nrcpts;
  const uint8_t *original; /* the original message (its header is quoted) */
  size_t original_len;
  bool return_full; /* RET=FULL: the whole message as message/rfc822 */
} mta_dsn_config;

/* Builds the DSN: CRLF line ends, lines within 998 octets (the quoted
 * header's lines are kept, longer ones are refused), boundaries from
 * mime_compose_boundary(message_id). Subject "Undelivered Mail Returned to
 * Sender" when any recipient failed, "Delayed Mail (still being retried)"
 * when all are delayed, "Successful Mail Delivery Report" otherwise.
 * Returns the message, or NULL with *ERR set (a new string) when a
 * required field is missing, a field holds CR or LF, a status is not
 * x.y.z with x in 2, 4, 5, or a date is out of range. */
GBytes *mta_dsn_build(const mta_dsn_config *c, char **err);

#endif
