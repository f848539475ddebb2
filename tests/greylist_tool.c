/* greylist_tool — runs our greylist for the real-peer test
 * (greylist_peer_test.py compares it with Postgrey).
 *
 * Reads lines "SECONDS CLIENT_IP SENDER RECIPIENT" (SENDER "<>" = the null
 * path) from standard input, checks each with the default configuration at
 * SECONDS of simulated time, and prints "RESULT WAITED_SECONDS" per line. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "greylist.h"

int main(void) {
  greylist *g = greylist_new(NULL);
  char line[2048];
  while (fgets(line, sizeof line, stdin)) {
    char **f = g_strsplit(g_strstrip(line), " ", 4);
    if (g_strv_length(f) != 4) {
      fprintf(stderr, "greylist_tool: bad line\n");
      g_strfreev(f);
      greylist_free(g);
      return 2;
    }
    gint64 t = g_ascii_strtoll(f[0], NULL, 10);
    const char *sender = g_str_equal(f[2], "<>") ? "" : f[2];
    greylist_verdict v;
    greylist_check(g, f[1], sender, f[3], t * GREYLIST_SEC, &v);
    printf("%s %" G_GINT64_FORMAT "\n", greylist_result_name(v.result), v.waited / GREYLIST_SEC);
    greylist_verdict_clear(&v);
    g_strfreev(f);
  }
  greylist_free(g);
  return 0;
}
