/* testutil.h — shared helpers for the Check suites. */
#ifndef MAILSIM_TESTUTIL_H
#define MAILSIM_TESTUTIL_H

#include <check.h>

/* Runs suite S (fork mode, normal verbosity) and returns the exit status:
 * EXIT_FAILURE if any test failed, or if the suite ran no check at all (a
 * filter that matches nothing must not pass silently). */
int testutil_run(Suite *s);

/* Path of a file in the source tree (MAILSIM_SRCDIR/REL); g_free it. */
char *testutil_src_path(const char *rel);

#endif
