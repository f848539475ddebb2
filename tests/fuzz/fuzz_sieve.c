/* libFuzzer target for the Sieve parser and interpreter: any script is
 * either refused with "line N: ..." or runs to a non-empty action list.
 * Built only with clang; run in CI for a short, seeded burst (see
 * tests/meson.build). Longer runs can use tests/fuzz/sieve.dict. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sieve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char msg[] = "From: Coyote <coyote@desert.example>\r\n"
                          "To: me@example.com, team: a@x.example;\r\n"
                          "Subject: =?UTF-8?Q?Make_money_fast_=E2=82=AC?=\r\n"
                          "\r\n"
                          "Body.\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *err = NULL;
  sieve_script *s = sieve_parse((const char *)data, size, &err);
  if (!s) {
    if (!err || strncmp(err, "line ", 5) != 0)
      abort();
    g_free(err);
    return 0;
  }
  if (err)
    abort();
  mime_msg *m = mime_msg_parse(msg, sizeof msg - 1, NULL);
  sieve_input in = {
      .msg = m, .env_from = size & 1 ? "" : "a@b.example", .env_to = "me@example.com"};
  sieve_result r;
  sieve_run(s, &in, &r);
  if (r.actions->len == 0)
    abort();
  char *d = sieve_result_describe(&r);
  g_free(d);
  sieve_result_clear(&r);
  mime_msg_free(m);
  sieve_script_free(s);
  return 0;
}
