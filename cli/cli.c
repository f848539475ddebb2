/* cli.c — option parsing shared by the subcommands. */
#include "cli.h"

#include <stdio.h>

bool cli_parse(const char *name, const char *params, const char *summary, GOptionEntry *entries,
               int *argc, char ***argv) {
  GOptionContext *ctx = g_option_context_new(params);
  char *prg = g_strdup_printf("mailsim %s", name);
  g_set_prgname(prg);
  g_option_context_set_summary(ctx, summary);
  g_option_context_add_main_entries(ctx, entries, NULL);
  GError *err = NULL;
  bool ok = g_option_context_parse(ctx, argc, argv, &err);
  if (!ok) {
    fprintf(stderr, "mailsim %s: %s\nTry 'mailsim %s --help'.\n", name, err->message, name);
    g_error_free(err);
  }
  g_option_context_free(ctx);
  g_free(prg);
  return ok;
}
