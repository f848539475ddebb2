/* cmd_stats.c — `mailsim stats TRACE [--csv] [--plot FILE.png]` (see
 * cmd_stats.h): reads the trace into trace_stats, prints it, plots it. */
#include "cmd_stats.h"

#include <stdio.h>

#include "cli.h"
#include "trace_stats.h"
#include "cmd_viz.h"

int cli_cmd_stats(int argc, char **argv) {
  gboolean csv = FALSE;
  char *plot = NULL, *title = NULL;
  GOptionEntry entries[] = {
      {"csv", 0, 0, G_OPTION_ARG_NONE, &csv,
       "Machine-readable rows: section,key,node,peer,msg,rcpt,t_ns,value", NULL},
      {"plot", 'p', 0, G_OPTION_ARG_FILENAME, &plot,
       "Also draw the delay CDF, queue lengths and retries into FILE (PNG)", "FILE.png"},
      {"title", 0, 0, G_OPTION_ARG_STRING, &title, "The plot's title (default: the trace's name)",
       "TEXT"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status = 2;
  char **args = g_strdupv(argv); /* as given: for mailsim-viz, if it plots */
  trace_reader *r = NULL;
  trace_stats *s = NULL;
  if (!cli_parse("stats", "TRACE",
                 "Statistics of a trace: delivery delay distribution (CDF, p50/p95/max),\n"
                 "per-hop delays, retries per message, queue length over time per MTA, delay\n"
                 "added by greylisting, bounce rate and DNS cache hit rate. All numbers are\n"
                 "integers or fixed decimals (times in seconds with 3 decimals; in CSV, ns).\n"
                 "Exit status: 0 done, 2 unreadable or bad trace, bad usage, or a plot that\n"
                 "could not be written.",
                 entries, &argc, &argv))
    goto out;
  if (argc != 2) {
    fprintf(stderr, "mailsim stats: expected one TRACE file\nTry 'mailsim stats --help'.\n");
    goto out;
  }
  if (plot && !cli_viz_linked()) {
    status = cli_viz_exec(args);
    goto out;
  }
  GError *err = NULL;
  r = trace_reader_open(argv[1], &err);
  if (r)
    s = trace_stats_read(r, argv[1], &err);
  if (!s) {
    fprintf(stderr, "mailsim stats: %s\n", err->message);
    g_error_free(err);
    goto out;
  }
  GString *o = g_string_new(NULL);
  if (csv)
    trace_stats_write_csv(s, o);
  else
    trace_stats_write_text(s, o);
  fwrite(o->str, 1, o->len, stdout);
  g_string_free(o, TRUE);
  if (plot) {
    char *base = g_path_get_basename(argv[1]);
    if (!cli_viz_plot_stats(s, title ? title : base, plot, &err)) {
      fprintf(stderr, "mailsim stats: %s\n", err->message);
      g_error_free(err);
      g_free(base);
      goto out;
    }
    g_free(base);
  }
  status = fflush(stdout) == 0 ? 0 : 2;
out:
  trace_stats_free(s);
  trace_reader_free(r);
  g_free(plot);
  g_free(title);
  g_strfreev(args);
  return status;
}
