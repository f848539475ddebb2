/* cmd_run.c — `mailsim run` and `mailsim check`. */
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "heap_pages.h"
#include "scn.h"
#include "scn_world.h"
#include "trace_guard.h"

static bool parse_seed(const char *s, uint64_t *out) {
  guint64 v;
  if (!g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &v, NULL))
    return false;
  *out = v;
  return true;
}

/* The progress bar: on a terminal only, and only once the run has taken a
 * second of wall time. The wall clock is read here and in the summary's
 * last line, never by the simulation (the trace cannot depend on it). */
typedef struct {
  gint64 started; /* monotonic, us */
  gint64 drawn;   /* when last drawn */
  bool shown;
  bool tty;        /* draw the bar */
  heap_pages heap; /* advised between slices */
} progress;

static void on_progress(void *user, sim_time now, sim_time end, uint64_t events) {
  progress *p = user;
  heap_pages_follow(&p->heap);
  if (!p->tty)
    return;
  gint64 wall = g_get_monotonic_time() - p->started;
  if (wall < G_USEC_PER_SEC)
    return;
  if (p->shown && wall - p->drawn < G_USEC_PER_SEC / 5) /* at most 5 redraws a second */
    return;
  int pm = end == SIM_TIME_NEVER || end <= 0 ? -1 : (int)(now / (end / 1000 + 1));
  p->shown = true;
  p->drawn = wall;
  char b[SIM_TIME_BUFSZ];
  if (pm < 0) {
    fprintf(stderr, "\r  %s simulated, %" G_GUINT64_FORMAT " events  ",
            sim_time_format_short(now, b), (guint64)events);
  } else {
    char bar[41];
    int fill = pm * 40 / 1000;
    for (int i = 0; i < 40; i++)
      bar[i] = i < fill ? '#' : ' ';
    bar[40] = '\0';
    fprintf(stderr, "\r  [%s] %3d%% %s simulated, %" G_GUINT64_FORMAT " events  ", bar, pm / 10,
            sim_time_format_short(now, b), (guint64)events);
  }
  fflush(stderr);
}

int cli_cmd_run(int argc, char **argv) {
  char *seed_s = NULL, *trace_path = NULL, *detail_s = NULL;
  gboolean quiet = FALSE, keep = FALSE;
  GOptionEntry entries[] = {
      {"seed", 0, 0, G_OPTION_ARG_STRING, &seed_s, "Root seed (default: the scenario's)", "N"},
      {"trace", 0, 0, G_OPTION_ARG_FILENAME, &trace_path,
       "Write the trace here ('-' = stdout; default: out/NAME.jsonl)", "FILE"},
      {"detail", 0, 0, G_OPTION_ARG_STRING, &detail_s,
       "Trace detail: messages, protocol (default) or packets", "LEVEL"},
      {"keep-messages", 0, 0, G_OPTION_ARG_NONE, &keep,
       "Also trace the bytes the mailbox hosts store (msg.store, msg.kept) for "
       "'mailsim export --eml/--mbox'",
       NULL},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print no summary", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status = 2;
  scn_config *cfg = NULL;
  trace_writer *tw = NULL;
  scn_world *sw = NULL;
  char *default_trace = NULL;
  if (!cli_parse("run", "SCENARIO",
                 "Runs a scenario and writes its trace; prints a summary.\n"
                 "--keep-messages: the mailbox hosts also write every message they store\n"
                 "(msg.store, with the stored bytes, at each delivery) and, at the end, the\n"
                 "messages still stored (msg.kept), so 'mailsim export --eml DIR' and '--mbox\n"
                 "FILE' can write them (traces/FORMAT.md). Off by default: the trace grows by\n"
                 "the size of the mail delivered.\n"
                 "Interrupted (Ctrl-C, SIGTERM, SIGHUP) or dying from a bug, the run still\n"
                 "writes its trace up to the last complete record (no end record) and then\n"
                 "ends by that signal.\n"
                 "Exit status: 0 every stream/message arrived, 1 some did not, 2 bad input.",
                 entries, &argc, &argv))
    goto out;
  if (argc != 2) {
    fprintf(stderr, "mailsim run: expected one SCENARIO file\nTry 'mailsim run --help'.\n");
    goto out;
  }
  sim_detail detail = SIM_DETAIL_PROTOCOL;
  if (detail_s && !sim_detail_parse(detail_s, &detail)) {
    fprintf(stderr, "mailsim run: --detail %s: expected messages, protocol or packets\n", detail_s);
    goto out;
  }
  progress prog = {0, 0, false, isatty(2) == 1, {0, false}};
  GStatBuf st;
  heap_pages_start(&prog.heap, g_stat(argv[1], &st) == 0 && st.st_size > 0 ? (size_t)st.st_size : 0);
  GError *err = NULL;
  cfg = scn_load(argv[1], &err);
  if (!cfg) {
    fprintf(stderr, "mailsim run: %s\n", err->message);
    g_error_free(err);
    goto out;
  }
  cfg->keep_messages = keep;
  cfg->release_messages = true; /* one world, the config's last use */
  uint64_t seed = cfg->seed;
  if (seed_s && !parse_seed(seed_s, &seed)) {
    fprintf(stderr, "mailsim run: --seed %s: expected an integer from 0 to 2^64-1\n", seed_s);
    goto out;
  }
  if (!trace_path) {
    g_mkdir_with_parents("out", 0755);
    default_trace = g_strdup_printf("out/%s.jsonl", cfg->name);
  }
  const char *path = trace_path ? trace_path : default_trace;
  tw = trace_writer_new_file(path, &err);
  if (!tw) {
    fprintf(stderr, "mailsim run: %s\n", err->message);
    g_error_free(err);
    goto out;
  }
  sw = scn_world_build(cfg, seed, tw, detail);
  /* The second core taps (checks) and writes the records; same bytes. */
  trace_writer_start_thread(tw);
  /* A run that dies (a bug, a signal, exit) still writes its trace up to
   * the last complete record. */
  trace_guard_install(tw, true);
  trace_guard_test_hook_from_env(tw);
  prog.started = g_get_monotonic_time();
  scn_world_set_progress(sw, on_progress, &prog);
  bool ok = scn_world_run(sw);
  gint64 wall_us = g_get_monotonic_time() - prog.started;
  if (prog.shown)
    fputs("\r\033[K", stderr); /* clear the bar's line */
  uint64_t records = trace_writer_records(tw);
  trace_guard_remove(tw);
  if (!trace_writer_close(tw, &err)) {
    fprintf(stderr, "mailsim run: %s: %s\n", path, err->message);
    g_error_free(err);
    goto out;
  }
  if (!quiet) {
    GString *sum = g_string_new(NULL);
    scn_world_summary(sw, sum);
    g_string_append_printf(sum, "trace     %s (%" G_GUINT64_FORMAT " records, %s detail)\n",
                           path, (guint64)records, sim_detail_name(detail));
    /* Wall figures: the summary only, never the trace. */
    double secs = (double)wall_us / 1e6;
    uint64_t events = sim_sched_executed(sim_world_sched(scn_world_sim(sw)));
    g_string_append_printf(sum, "wall      %.3f s, %.0f events/s", secs,
                           secs > 0 ? (double)events / secs : 0.0);
    uint64_t msgs = scn_world_submitted(sw);
    if (msgs)
      g_string_append_printf(sum, ", %.0f messages/s", secs > 0 ? (double)msgs / secs : 0.0);
    g_string_append_c(sum, '\n');
    /* The summary goes to stderr when the trace is on stdout. */
    fputs(sum->str, g_strcmp0(path, "-") == 0 ? stderr : stdout);
    g_string_free(sum, TRUE);
  }
  status = ok ? 0 : 1;
out:
  scn_world_free(sw);
  trace_writer_free(tw);
  scn_config_free(cfg);
  g_free(seed_s);
  g_free(trace_path);
  g_free(detail_s);
  g_free(default_trace);
  return status;
}

int cli_cmd_check(int argc, char **argv) {
  GOptionEntry entries[] = {{NULL, 0, 0, 0, NULL, NULL, NULL}};
  if (!cli_parse("check", "SCENARIO...",
                 "Validates scenario files without running them.\n"
                 "Exit status: 0 all valid, 2 otherwise (each error on stderr).",
                 entries, &argc, &argv))
    return 2;
  if (argc < 2) {
    fprintf(stderr, "mailsim check: expected at least one SCENARIO file\n");
    return 2;
  }
  int status = 0;
  for (int i = 1; i < argc; i++) {
    GError *err = NULL;
    scn_config *cfg = scn_load(argv[i], &err);
    if (!cfg) {
      fprintf(stderr, "mailsim check: %s\n", err->message);
      g_error_free(err);
      status = 2;
      continue;
    }
    printf("%s: ok (%u hosts, %u links, %u traffic, %u faults)\n", argv[i], cfg->hosts->len,
           cfg->links->len, cfg->traffic->len, cfg->faults->len);
    scn_config_free(cfg);
  }
  return status;
}
