/* testutil.c — shared helpers for the Check suites. */
#include "testutil.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

int testutil_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int ran = srunner_ntests_run(sr);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (ran == 0) {
    fprintf(stderr, "no check ran (is CK_RUN_SUITE/CK_RUN_CASE filtering everything?)\n");
    return EXIT_FAILURE;
  }
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

char *testutil_src_path(const char *rel) {
  const char *src = g_getenv("MAILSIM_SRCDIR");
  return g_build_filename(src ? src : ".", rel, NULL);
}
