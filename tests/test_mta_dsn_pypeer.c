/* Real peer: Python's email package reads our DSN and must find a valid
 * multipart/report; report-type=delivery-status whose parts and
 * delivery-status fields are what we wrote. Exit 77 (skipped) when python3
 * is not installed. */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mta_dsn_sample.h"
#include "testutil.h"

static const char script[] =
    "import sys, email, email.policy\n"
    "data = open(sys.argv[1], 'rb').read()\n"
    "m = email.message_from_bytes(data, policy=email.policy.default)\n"
    "out = [m.get_content_type(), m.get_param('report-type'), str(m['subject'])]\n"
    "out.append('defects=%d' % len(m.defects))\n"
    "parts = m.get_payload()\n"
    "out.append(' '.join(p.get_content_type() for p in parts))\n"
    "for p in parts: out.append('pdefects=%d' % len(p.defects))\n"
    "ds = parts[1].get_payload()\n"
    "out.append('groups=%d' % len(ds))\n"
    "out.append(ds[0]['Reporting-MTA'])\n"
    "for g in ds[1:]:\n"
    "    out.append('%s|%s|%s' % (g['Final-Recipient'], g['Action'], g['Status']))\n"
    "out.append(str(ds[1]['Diagnostic-Code']))\n"
    "h = email.message_from_string(parts[2].get_payload(), policy=email.policy.default)\n"
    "out.append('orig-subject=' + str(h['subject']))\n"
    "print('\\n'.join(out))\n";

START_TEST(python_reads_dsn) {
  mta_dsn_config c;
  sample_config(&c);
  char *err = NULL;
  GBytes *dsn = mta_dsn_build(&c, &err);
  ck_assert_ptr_nonnull(dsn);
  char *path = NULL;
  GError *gerr = NULL;
  int fd = g_file_open_tmp("mta_dsn_XXXXXX.eml", &path, &gerr);
  ck_assert_int_ge(fd, 0);
  close(fd);
  ck_assert(
      g_file_set_contents(path, g_bytes_get_data(dsn, NULL), (gssize)g_bytes_get_size(dsn), NULL));
  char *argv[] = {"python3", "-c", (char *)script, path, NULL};
  char *out = NULL, *errs = NULL;
  int status = 0;
  ck_assert(
      g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &errs, &status, &gerr));
  ck_assert_msg(g_spawn_check_wait_status(status, NULL), "python: %s%s", out, errs);
  const char *want = "multipart/report\n"
                     "delivery-status\n"
                     "Undelivered Mail Returned to Sender\n"
                     "defects=0\n"
                     "text/plain message/delivery-status text/rfc822-headers\n"
                     "pdefects=0\npdefects=0\npdefects=0\n"
                     "groups=3\n"
                     "dns; mail.a.example\n"
                     "rfc822; bob@b.example|failed|5.1.1\n"
                     "rfc822; carol@c.example|delayed|4.4.1\n"
                     "smtp; 550 5.1.1 5.1.1 <bob@b.example>: Recipient address rejected: User "
                     "unknown in virtual mailbox table\n"
                     "orig-subject=Hello\n";
  ck_assert_msg(strcmp(out, want) == 0, "python output:\n%s\nwant:\n%s", out, want);
  g_unlink(path);
  g_free(path);
  g_free(out);
  g_free(errs);
  g_bytes_unref(dsn);
}
END_TEST

int main(void) {
  char *py = g_find_program_in_path("python3");
  if (!py) {
    printf("SKIP: python3 not found in PATH; this real-peer test needs Python's email package\n");
    return 77;
  }
  g_free(py);
  Suite *s = suite_create("mta_dsn_pypeer");
  TCase *tc = tcase_create("python_email");
  tcase_add_test(tc, python_reads_dsn);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
