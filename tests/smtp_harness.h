/* smtp_harness.h — a scripted peer for the SMTP server engine: feeds a
 * client script in chunks, answers decisions by a fixed policy, and writes
 * a transcript ("S: " reply lines, "E: " events, "T: " TLS up) that tests
 * compare with a golden text. */
#ifndef MAILSIM_SMTP_HARNESS_H
#define MAILSIM_SMTP_HARNESS_H

#include <glib.h>

#include "smtp_srv.h"

/* How the script is cut before feeding. */
typedef enum {
  SPLIT_WHOLE, /* one feed (per TLS segment) */
  SPLIT_BYTES, /* one byte per feed */
  SPLIT_AT,    /* two feeds, cut at `at` */
} split_mode;

typedef struct {
  split_mode mode;
  size_t at;
  bool deferred; /* answer each decision only after the next feed */
} split_plan;

/* The marker in a script where the TLS handshake happens: bytes before it
 * are plaintext, bytes after it are fed only once smtp_srv_tls_started ran
 * (if the engine asked for STARTTLS). */
#define HARNESS_TLS "\x01"

/* Runs SCRIPT[0..LEN) against a new engine with CFG and returns the
 * transcript (g_free it). */
char *harness_run(const smtp_srv_config *cfg, const char *script, size_t len, split_plan plan);

/* The same on the engine smtp_srv_renew(*SPARE, CFG) makes; the engine is
 * left in *SPARE (in whatever state the script leaves it) instead of
 * freed. */
char *harness_run_kept(smtp_srv **spare, const smtp_srv_config *cfg, const char *script,
                       size_t len, split_plan plan);

/* The default config of the tests: hostname "mx.test", defaults otherwise. */
void harness_config(smtp_srv_config *cfg);

#endif
