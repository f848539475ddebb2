/* mime_trace.h — trace header fields: writing and reading Received
 * (RFC 5321 §4.4 time-stamp line) and prepending a field to a message. */
#ifndef MAILSIM_MIME_TRACE_H
#define MAILSIM_MIME_TRACE_H

#include <glib.h>
#include <stdint.h>

/* What a receiving host records (plain data; strings borrowed). */
typedef struct {
  const char *helo;     /* EHLO/HELO argument of the client (required) */
  const char *rdns;     /* verified reverse-DNS name of the client, or NULL */
  const char *ip;       /* client address "192.0.2.1" or "IPv6:2001:db8::1", or NULL */
  const char *by;       /* the receiving host's name (required) */
  const char *with;     /* protocol: "SMTP", "ESMTP", "ESMTPS", "ESMTPSA", "LMTP"... or NULL */
  const char *id;       /* queue id (an atom), or NULL */
  const char *for_addr; /* one recipient "bob@b.example", or NULL */
  const char *comment;  /* e.g. "TLS1.3 TLS_AES_128_GCM_SHA256", written after "with", or NULL */
  int64_t date_ns;      /* simulated time of receipt */
  int64_t epoch_unix;   /* Unix seconds of simulated time 0 */
  int tz_min;           /* zone of the date, minutes east of UTC */
} mime_received;

/* The whole field "Received: from HELO (RDNS [IP])\r\n\tby BY with W id ID\r\n
 * \tfor <FOR>; DATE\r\n" (RFC 5321 §4.4 Stamp), folded before each clause.
 * Returns a new string, or NULL when HELO or BY is missing, an argument
 * holds CR, LF, '(' or ')', or the date is out of range. */
char *mime_trace_received(const mime_received *r);
/* The same into BUF (BUFSZ octets; NULL when 0) when it surely fits
 * (the arguments' lengths, the date and 80 octets), else a new string:
 * the caller frees a result that is not BUF. */
char *mime_trace_received_buf(const mime_received *r, char *buf, gsize bufsz);

/* A new message: FIELD (a complete field ending in CRLF) followed by MSG.
 * RFC 5321 §4.4: trace fields are prepended, never reordered. */
GBytes *mime_trace_prepend(GBytes *msg, const char *field);

/* A Received field read back (new strings; NULL when absent). */
typedef struct {
  char *from;      /* from-domain as the client named itself */
  char *from_info; /* the TCP-info comment after it, e.g. "mail.a.example [192.0.2.1]" */
  char *by;
  char *by_info;
  char *via;
  char *with;
  char *id;
  char *for_addr; /* angle brackets removed */
  char *date;     /* text after the last ';' */
  gboolean date_ok;
  int64_t date_unix; /* when date_ok */
  int tz_min;
} mime_received_info;

/* Parses an unfolded Received value. Clauses may come in any order and
 * unknown ones are skipped; returns FALSE only when neither a clause nor a
 * date was found. Clear OUT with mime_received_info_clear either way. */
gboolean mime_trace_received_parse(const char *value, mime_received_info *out);
void mime_received_info_clear(mime_received_info *ri);

#endif
