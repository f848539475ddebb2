/* A sample DSN shared by the mta_dsn suites. */
#ifndef MAILSIM_TEST_MTA_DSN_SAMPLE_H
#define MAILSIM_TEST_MTA_DSN_SAMPLE_H

#include "mime_date.h"
#include "mta_dsn.h"
#include "mta_retry.h"

static const char sample_original[] =
    "Received: from laptop.a.example (laptop.a.example [192.0.2.10])\r\n"
    "\tby mail.a.example with ESMTPSA id 1A; Thu, 01 Jan 2026 00:00:00 +0000\r\n"
    "From: Alice <alice@a.example>\r\n"
    "To: bob@b.example, carol@c.example\r\n"
    "Subject: Hello\n" /* a bare LF: normalised in the DSN */
    "Message-ID: <m1@a.example>\r\n"
    "\r\n"
    "Body text that must not be quoted.\r\n";

static const mta_dsn_rcpt sample_rcpts[] = {
    {"bob@b.example", "rfc822;bob@b.example", MTA_DSN_FAILED, "5.1.1", "mx.b.example", 550,
     "5.1.1 <bob@b.example>: Recipient address rejected:\nUser unknown in virtual mailbox table",
     3600 * MTA_SEC, -1},
    {"carol@c.example", NULL, MTA_DSN_DELAYED, "4.4.1", NULL, 0,
     "connect to mx.c.example[192.0.2.30]:25: Connection timed out", 3601 * MTA_SEC, 5 * MTA_DAY},
};

static void sample_config(mta_dsn_config *c) {
  *c = (mta_dsn_config){
      .reporting_mta = "mail.a.example",
      .from = "MAILER-DAEMON@mail.a.example",
      .from_name = "Mail Delivery System",
      .to = "alice@a.example",
      .message_id = "dsn.1A@mail.a.example",
      .date = 3602 * MTA_SEC,
      .epoch_unix = MIME_DATE_EPOCH_DEFAULT,
      .tz_min = 0,
      .queue_id = "1A",
      .envid = NULL,
      .arrival = 0,
      .received_from = "laptop.a.example",
      .rcpts = sample_rcpts,
      .nrcpts = 2,
      .original = (const uint8_t *)sample_original,
      .original_len = sizeof sample_original - 1,
  };
}

#endif
