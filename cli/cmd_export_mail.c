/* cmd_export_mail.c — `mailsim export TRACE --eml DIR | --mbox FILE
 * [--mailbox ADDR] [--all]` (see cmd_export.h): the stored messages of a
 * run kept with `mailsim run --keep-messages` (traces/trace_eml.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd_export.h"
#include "trace_eml.h"

static bool write_file(const char *path, const void *p, size_t n) {
  GError *err = NULL;
  if (!g_file_set_contents(path, p, (gssize)n, &err)) {
    fprintf(stderr, "mailsim export: %s\n", err->message);
    g_error_free(err);
    return false;
  }
  return true;
}

int cli_export_mail(const char *trace, const char *eml_dir, const char *mbox_file,
                    const char *mailbox, bool all) {
  GError *err = NULL;
  trace_reader *r = trace_reader_open(trace, &err);
  GPtrArray *msgs =
      r ? trace_eml_collect(r, trace, all ? TRACE_EML_EVER : TRACE_EML_AT_END, mailbox, &err)
        : NULL;
  trace_reader_free(r);
  if (!msgs) {
    fprintf(stderr, "mailsim export: %s\n", err->message);
    int st = g_error_matches(err, TRACE_EML_ERROR, TRACE_EML_ERROR_NOT_FOUND) ? 1 : 2;
    g_error_free(err);
    return st;
  }
  int status = 0;
  if (eml_dir) {
    if (g_mkdir_with_parents(eml_dir, 0755) != 0) {
      fprintf(stderr, "mailsim export: %s: %s\n", eml_dir, g_strerror(errno));
      status = 2;
    }
    for (guint i = 0; status == 0 && i < msgs->len; i++) {
      const trace_eml_msg *m = msgs->pdata[i];
      char *name = trace_eml_file_name(m, i + 1);
      char *path = g_build_filename(eml_dir, name, NULL);
      gsize n;
      const void *p = g_bytes_get_data(m->data, &n);
      if (!write_file(path, p, n))
        status = 2;
      else
        printf("%s\n", path);
      g_free(path);
      g_free(name);
    }
  }
  if (status == 0 && mbox_file) {
    GString *o = g_string_new(NULL);
    for (guint i = 0; i < msgs->len; i++)
      trace_eml_mbox_append(o, msgs->pdata[i]);
    if (!write_file(mbox_file, o->str, o->len))
      status = 2;
    else
      printf("%s: %u message%s\n", mbox_file, msgs->len, msgs->len == 1 ? "" : "s");
    g_string_free(o, TRUE);
  }
  g_ptr_array_unref(msgs);
  if (fflush(stdout) != 0)
    status = 2;
  return status;
}
