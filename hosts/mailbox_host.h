/* mailbox_host.h — a mailbox host: the users' message store, IMAP (143)
 * and POP3 (110) for their mail programs, and local delivery over SMTP
 * (port 25) from the domain's MX.
 *
 * Store: a mailstore with one account per user of the directory whose
 * mailbox is this host (userdir_on_host), each with the configured quota.
 * The store is the host's disk: it survives a crash; sessions and POP3
 * locks do not (on restart the listeners come back and the locks are
 * reset).
 *
 * IMAP and POP3 offer STARTTLS / STLS when a tls_host is given; with
 * require_tls the IMAP server announces LOGINDISABLED and both refuse
 * authentication before TLS (RFC 3501 §6.2.1, RFC 2595 §3.1 / RFC 1939).
 * Logins are the users' addresses; passwords are checked against the
 * directory.
 *
 * Delivery (no LMTP engine exists, so SMTP): RCPT of an address that is
 * not a user of this host gets 550 5.1.1; a user whose account is full
 * (counting the MAIL SIZE= when the client gave one) gets 452 4.2.2
 * (RFC 3463). At the end of DATA the message gets a Received field
 * (RFC 5321 §4.4, "with ESMTP" or "ESMTPS") and is stored in each
 * recipient's INBOX; if any recipient's account cannot take it the whole
 * message is refused with 452 4.2.2 and nothing is stored, so the sender
 * keeps it and nothing is lost. After the 250 the host records msg.relay
 * (the hop from the MX) and one msg.deliver per recipient (mail_trace.h),
 * naming the message by its Message-ID.
 *
 * Line records: smtp.cmd, imap.cmd, pop3.cmd for every command received
 * (smtp_glue.h, imap_glue.h, pop3_glue.h).
 */
#ifndef MAILSIM_MAILBOX_HOST_H
#define MAILSIM_MAILBOX_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "host.h"
#include "mailstore.h"
#include "tls_host.h"
#include "userdir.h"

typedef struct {
  const char *hostname; /* greetings and the Received "by"; NULL: the host name */
  bool imap, pop3;      /* serve port 143 / 110 */
  bool smtp;            /* the delivery listener on port 25 */
  bool require_tls;     /* no authentication before STARTTLS/STLS (needs a tls_host) */
  uint64_t quota_bytes; /* per user, all folders; 0 = none */
  uint64_t quota_msgs;  /* per user; 0 = none */
  int64_t epoch_unix;   /* Unix seconds of simulated time 0 (Received dates, IMAP dates) */
  uint32_t first_uidvalidity;
  /* Issue 7: a message marked "X-Spam-Flag: YES" by the MX is filed into
   * this folder before any user script runs (Pigeonhole's sieve_before
   * with `if header :is "X-Spam-Flag" "YES" { fileinto "Junk"; stop; }`);
   * NULL = off (the default). */
  const char *spam_folder;
  /* Write the stored bytes into the trace: msg.store at each delivery and
   * msg.kept at the end (hosts/mailbox_keep.h). Off by default. */
  bool keep_messages;
} mailbox_host_config;

/* Defaults: host name, IMAP, POP3 and SMTP on, require_tls on, no quota,
 * MIME_DATE_EPOCH_DEFAULT, first UIDVALIDITY 1. */
void mailbox_host_config_init(mailbox_host_config *cfg);

typedef struct mailbox_host mailbox_host;

/* Runs the service on H. CFG is copied. USERS (borrowed; must outlive the
 * service) gives the accounts and passwords. TLS (borrowed, may be NULL:
 * then no STARTTLS and require_tls is ignored) gives the certificate. */
mailbox_host *mailbox_host_new(host *h, const mailbox_host_config *cfg, const userdir *users,
                               tls_host *tls);
/* Frees the service and its store (before the world; see host.h). NULL is
 * a no-op. */
void mailbox_host_free(mailbox_host *m);

/* Issue 7: USER's Sieve script (RFC 5228 subset, protocols/sieve),
 * replacing an earlier one; SCRIPT NULL removes it. Run at every delivery
 * to USER: keep → INBOX, fileinto → that folder (created when missing, as
 * Dovecot's lda_mailbox_autocreate=yes), discard → not stored
 * (msg.deliver with folder "" and uid 0). Known gap: redirect is not sent
 * (no outbound SMTP client here); it is written as msg.deliver with folder
 * "redirect:ADDRESS" and uid 0. Returns false (script not installed) with
 * *ERR ("line N: ...", may be NULL; g_free it) on a parse error. */
bool mailbox_host_set_sieve(mailbox_host *m, const char *user, const char *script, char **err);

/* The store (borrowed): tests and the end-of-run summary read it. */
mailstore *mailbox_host_store(mailbox_host *m);
/* With keep_messages: one msg.kept record per message still stored (the
 * run's end; see mailbox_keep.h). Otherwise nothing. */
void mailbox_host_write_kept(mailbox_host *m);
/* A fault (issue 10): while FULL, USER's account takes nothing more, as if
 * over quota (452 4.2.2 at RCPT and at the end of DATA). */
void mailbox_host_set_full(mailbox_host *m, const char *user, bool full);
/* Messages stored by delivery so far (one per recipient). */
uint64_t mailbox_host_delivered(const mailbox_host *m);

#endif
