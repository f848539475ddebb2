/* sieve_tool — runs our Sieve interpreter for the real-peer test
 * (sieve_peer_test.py compares it with Pigeonhole's sieve-test).
 *
 *   sieve_tool SCRIPT MESSAGE ENV_FROM ENV_TO
 *
 * Prints "error: line N: ..." when the script is refused, else one line
 * per action: "keep", "fileinto FOLDER", "redirect ADDRESS", "discard",
 * "implicit keep", and "runtime-error ..." for a run-time error. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "sieve.h"

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: sieve_tool SCRIPT MESSAGE ENV_FROM ENV_TO\n");
    return 2;
  }
  gchar *script = NULL, *msg = NULL;
  gsize slen = 0, mlen = 0;
  if (!g_file_get_contents(argv[1], &script, &slen, NULL) ||
      !g_file_get_contents(argv[2], &msg, &mlen, NULL)) {
    fprintf(stderr, "sieve_tool: cannot read input\n");
    return 2;
  }
  char *err = NULL;
  sieve_script *s = sieve_parse(script, slen, &err);
  if (!s) {
    printf("error: %s\n", err);
  } else {
    mime_msg *m = mime_msg_parse(msg, mlen, NULL);
    sieve_input in = {.msg = m, .env_from = argv[3], .env_to = argv[4]};
    sieve_result r;
    sieve_run(s, &in, &r);
    if (r.error)
      printf("runtime-error %s\n", r.error);
    for (guint i = 0; i < r.actions->len; i++) {
      const sieve_action *a = r.actions->pdata[i];
      printf("%s%s%s%s\n", a->implicit ? "implicit " : "", sieve_action_kind_name(a->kind),
             a->arg ? " " : "", a->arg ? a->arg : "");
    }
    sieve_result_clear(&r);
    mime_msg_free(m);
    sieve_script_free(s);
  }
  g_free(err);
  g_free(script);
  g_free(msg);
  return 0;
}
