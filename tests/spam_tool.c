/* spam_tool — scores one message with our spam rules for the real-peer
 * test (spam_peer_test.py compares the content rules with SpamAssassin).
 *
 *   spam_tool MESSAGE MAIL_FROM
 *
 * Prints the names of the rules that hit, one per line, then
 * "status: " and the X-Spam-Status value. */
#include <glib.h>
#include <stdio.h>

#include "spam.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: spam_tool MESSAGE MAIL_FROM\n");
    return 2;
  }
  gchar *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(argv[1], &data, &len, NULL)) {
    fprintf(stderr, "spam_tool: cannot read %s\n", argv[1]);
    return 2;
  }
  mime_msg *m = mime_msg_parse(data, len, NULL);
  spam_input in;
  spam_input_init(&in, m, argv[2]);
  spam_result r;
  spam_score(NULL, &in, &r);
  for (guint i = 0; i < r.hits->len; i++)
    printf("%s\n", ((const spam_hit *)r.hits->pdata[i])->name);
  printf("status: %s\n", r.status_header);
  spam_result_clear(&r);
  mime_msg_free(m);
  g_free(data);
  return 0;
}
