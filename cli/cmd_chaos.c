/* cmd_chaos.c — `mailsim chaos SCENARIO --seeds 1-500 [-j N]`: one run per
 * seed, each with a fault schedule drawn from the scenario's fault space
 * (scenarios/scn_chaos.h), every fault healed, the invariants checked
 * (traces/CHECK.md). Prints a table by seed and, for each failing seed, the
 * violations and a command that replays it exactly.
 *
 * Runs are spread over worker processes (fork): each run is its own world
 * in its own process, nothing is shared, and every worker writes its
 * results to its own temporary file, read back after all have finished;
 * the table is printed in seed order, so -j changes nothing in the output.
 * A worker that dies mid-run (a crash of the simulator) leaves its seed
 * marked as crashed, with the same reproducer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_check.h"
#include "scn.h"
#include "scn_chaos.h"
#include "scn_world.h"

typedef struct {
  uint64_t seed;
  bool started, done;
  uint64_t nfaults, messages;
  char *kinds;
  GString *faults;
  GPtrArray *viol; /* char* */
} seed_result;

static void result_clear(seed_result *r) {
  g_free(r->kinds);
  if (r->faults)
    g_string_free(r->faults, TRUE);
  if (r->viol)
    g_ptr_array_unref(r->viol);
}

/* "1-500", "137", "1-10,20,30-40" -> seeds in the order given. */
static bool parse_seeds(const char *s, GArray *out) {
  char **parts = g_strsplit(s, ",", -1);
  bool ok = parts[0] != NULL;
  for (char **p = parts; ok && *p; p++) {
    char *dash = strchr(*p, '-');
    guint64 a, b;
    if (dash) {
      *dash = '\0';
      ok = g_ascii_string_to_unsigned(*p, 10, 0, G_MAXUINT64, &a, NULL) &&
           g_ascii_string_to_unsigned(dash + 1, 10, 0, G_MAXUINT64, &b, NULL) && a <= b &&
           b - a < 10000000;
    } else {
      ok = g_ascii_string_to_unsigned(*p, 10, 0, G_MAXUINT64, &a, NULL);
      b = a;
    }
    for (guint64 v = a; ok; v++) {
      uint64_t seed = v;
      g_array_append_val(out, seed);
      if (v == b)
        break;
    }
  }
  g_strfreev(parts);
  return ok && out->len > 0;
}

static void put_line(FILE *f, char tag, const char *text) {
  fputc(tag, f);
  fputc(' ', f);
  for (const char *p = text; *p; p++)
    fputc(*p == '\n' ? ' ' : *p, f);
  fputc('\n', f);
}

/* One seed: draw, run, check; results written to OUT as tagged lines. */
static void run_seed(const char *path, const char *text, size_t len, uint64_t seed,
                     const char *trace_path, sim_detail detail, FILE *out) {
  fprintf(out, "S %" G_GUINT64_FORMAT "\n", (guint64)seed);
  fflush(out); /* if the run dies, the seed is known */
  GError *err = NULL;
  scn_config *c = scn_parse(path, text, len, &err);
  g_assert(c); /* parsed once already */
  GString *kinds = g_string_new(NULL), *faults = g_string_new(NULL);
  size_t n = scn_chaos_draw(c, seed, kinds, faults);
  fprintf(out, "F %zu %s\n", n, kinds->str);
  char **lines = g_strsplit(faults->str, "\n", -1);
  for (char **l = lines; *l; l++)
    if (**l)
      put_line(out, 'D', *l);
  g_strfreev(lines);
  trace_writer *tw = NULL;
  if (trace_path) {
    tw = trace_writer_new_file(trace_path, &err);
    if (!tw) {
      put_line(out, 'X', err->message);
      g_error_free(err);
    }
  }
  scn_world *sw = scn_world_build(c, seed, tw, detail);
  scn_world_run(sw);
  fprintf(out, "M %" G_GUINT64_FORMAT "\n", (guint64)scn_world_submitted(sw));
  const trace_check *tc = scn_world_check(sw);
  for (size_t i = 0; i < trace_check_count(tc); i++)
    put_line(out, 'V', trace_check_at(tc, i)->text);
  fputs("E\n", out);
  fflush(out);
  scn_world_free(sw);
  if (tw && !trace_writer_close(tw, &err)) {
    fprintf(stderr, "mailsim chaos: %s: %s\n", trace_path, err->message);
    g_error_free(err);
  }
  trace_writer_free(tw);
  scn_config_free(c);
  g_string_free(kinds, TRUE);
  g_string_free(faults, TRUE);
}

/* Reads a worker's file back into the results (indexed by seed position). */
static void read_results(FILE *f, seed_result *res, const GArray *seeds) {
  rewind(f);
  char line[8192];
  seed_result *cur = NULL;
  guint next = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    const char *arg = line[0] && line[1] ? line + 2 : "";
    switch (line[0]) {
    case 'S': {
      guint64 s = g_ascii_strtoull(arg, NULL, 10);
      cur = NULL;
      for (guint i = next; i < seeds->len && !cur; i++)
        if (g_array_index(seeds, uint64_t, i) == s) {
          cur = &res[i];
          next = i + 1;
        }
      if (cur)
        cur->started = true;
      break;
    }
    case 'F':
      if (cur) {
        char *end = NULL;
        cur->nfaults = g_ascii_strtoull(arg, &end, 10);
        cur->kinds = g_strdup(end && *end == ' ' ? end + 1 : "-");
      }
      break;
    case 'D':
      if (cur)
        g_string_append_printf(cur->faults, "%s\n", arg);
      break;
    case 'M':
      if (cur)
        cur->messages = g_ascii_strtoull(arg, NULL, 10);
      break;
    case 'V':
    case 'X':
      if (cur)
        g_ptr_array_add(cur->viol, g_strdup(arg));
      break;
    case 'E':
      if (cur)
        cur->done = true;
      break;
    default:
      break;
    }
  }
}

/* Runs the seeds at positions K, K+J, K+2J... writing to OUT. */
static void worker(const char *path, const char *text, size_t len, const GArray *seeds, guint k,
                   guint j, const char *trace_path, sim_detail detail, FILE *out) {
  for (guint i = k; i < seeds->len; i += j)
    run_seed(path, text, len, g_array_index(seeds, uint64_t, i), trace_path, detail, out);
}

static void print_table(const char *path, const GArray *seeds, seed_result *res, bool verbose) {
  /* The kinds last: their list has no fixed width. */
  printf("%8s  %6s  %8s  %10s  %s\n", "seed", "faults", "messages", "violations", "kinds");
  size_t failing = 0;
  for (guint i = 0; i < seeds->len; i++) {
    seed_result *r = &res[i];
    char viol[32];
    if (r->done)
      g_snprintf(viol, sizeof viol, "%u", r->viol->len);
    else
      g_snprintf(viol, sizeof viol, "CRASHED");
    printf("%8" G_GUINT64_FORMAT "  %6" G_GUINT64_FORMAT "  %8" G_GUINT64_FORMAT "  %10s  %s\n",
           (guint64)r->seed, (guint64)r->nfaults, (guint64)r->messages, viol,
           r->kinds ? r->kinds : "?");
    if (verbose) {
      char **l = g_strsplit(r->faults->str, "\n", -1);
      for (char **p = l; *p; p++)
        if (**p)
          printf("%8s  %s\n", "", *p);
      g_strfreev(l);
    }
    failing += !r->done || r->viol->len;
  }
  printf("%u seed%s, %zu failing\n", seeds->len, seeds->len == 1 ? "" : "s", failing);
  for (guint i = 0; i < seeds->len; i++) {
    seed_result *r = &res[i];
    if (r->done && !r->viol->len)
      continue;
    printf("\nseed %" G_GUINT64_FORMAT ": %s\n", (guint64)r->seed,
           r->done ? "violations" : "the run crashed (the simulator died)");
    for (guint k = 0; k < r->viol->len; k++)
      printf("  %s\n", (const char *)r->viol->pdata[k]);
    printf("  reproduce: mailsim chaos %s --seeds %" G_GUINT64_FORMAT
           " -v --trace chaos-%" G_GUINT64_FORMAT ".jsonl\n",
           path, (guint64)r->seed, (guint64)r->seed);
  }
}

int cli_cmd_chaos(int argc, char **argv) {
  char *seeds_s = NULL, *trace_path = NULL, *detail_s = NULL;
  gint jobs = 0;
  gboolean verbose = FALSE;
  GOptionEntry entries[] = {
      {"seeds", 0, 0, G_OPTION_ARG_STRING, &seeds_s,
       "Seeds to run: 1-500, 137, or a list 1-10,20 (default 1-100)", "LIST"},
      {"jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
       "Worker processes (default: the number of online CPUs)", "N"},
      {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "List each seed's faults", NULL},
      {"trace", 0, 0, G_OPTION_ARG_FILENAME, &trace_path,
       "With one seed: write its trace here (to inspect, check-trace, diff)", "FILE"},
      {"detail", 0, 0, G_OPTION_ARG_STRING, &detail_s,
       "Detail of --trace: messages (default: the event ids the table's violations name), "
       "protocol or packets",
       "LEVEL"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status = 2;
  char *text = NULL;
  gsize len = 0;
  scn_config *cfg = NULL;
  GArray *seeds = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  seed_result *res = NULL;
  /* "-j4" as make and ninja take it (GOption wants "-j 4"). */
  GPtrArray *own = g_ptr_array_new_with_free_func(g_free);
  for (int i = 1; i < argc; i++)
    if (g_str_has_prefix(argv[i], "-j") && argv[i][2] >= '0' && argv[i][2] <= '9') {
      argv[i] = g_strdup_printf("--jobs=%s", argv[i] + 2);
      g_ptr_array_add(own, argv[i]);
    }
  GString *kind_list = g_string_new("  ");
  size_t col = 2;
  for (const char *const *k = scn_chaos_kind_names(); *k; k++) {
    bool first = k == scn_chaos_kind_names(), wrap = !first && col + strlen(*k) + 2 > 76;
    g_string_append(kind_list, first ? "" : wrap ? ",\n  " : ", ");
    col = (wrap ? 2 : col + (first ? 0 : 2)) + strlen(*k);
    g_string_append(kind_list, *k);
  }
  char *about = g_strdup_printf(
      "Swarm testing with faults: for each seed, decides from the seed which fault\n"
      "kinds are on and how many of each, draws the faults (targets, windows and\n"
      "each kind's fields: latency 50 ms-2 s, loss 1-30 %%, 4xx injected replies,\n"
      "DNS failures of the mail domains and MX hosts, ...) from the scenario's fault\n"
      "space (its \"chaos\" key, scenarios/FORMAT.md; by default every link and\n"
      "every host of the roles a kind needs, within the first half of the run and\n"
      "at most 15 min past the last message sent; 5xx replies and wrong MX hosts\n"
      "only with \"permanent\": true), heals every fault by the end of that window,\n"
      "runs long enough for the queues to drain, and checks the invariants\n"
      "(traces/CHECK.md). Fault kinds:\n%s\n"
      "Prints a table by seed (faults drawn, messages submitted, violations) and,\n"
      "for each failing seed, its violations and a command that replays it\n"
      "exactly. The same seeds always print the same table, whatever -j.\n"
      "Exit status: 0 no violation, 1 violations or a crashed run, 2 bad input.",
      kind_list->str);
  g_string_free(kind_list, TRUE);
  bool parsed = cli_parse("chaos", "SCENARIO", about, entries, &argc, &argv);
  g_free(about);
  if (!parsed)
    goto out;
  if (argc != 2) {
    fprintf(stderr, "mailsim chaos: expected one SCENARIO file\nTry 'mailsim chaos --help'.\n");
    goto out;
  }
  if (!parse_seeds(seeds_s ? seeds_s : "1-100", seeds)) {
    fprintf(stderr, "mailsim chaos: --seeds %s: expected N, A-B or a comma list of them\n",
            seeds_s);
    goto out;
  }
  sim_detail detail = SIM_DETAIL_MESSAGES;
  if (detail_s && !sim_detail_parse(detail_s, &detail)) {
    fprintf(stderr, "mailsim chaos: --detail %s: expected messages, protocol or packets\n",
            detail_s);
    goto out;
  }
  if (trace_path && seeds->len != 1) {
    fprintf(stderr, "mailsim chaos: --trace needs exactly one seed\n");
    goto out;
  }
  GError *err = NULL;
  if (!g_file_get_contents(argv[1], &text, &len, &err)) {
    fprintf(stderr, "mailsim chaos: %s: cannot read scenario: %s\n", argv[1], err->message);
    g_error_free(err);
    goto out;
  }
  cfg = scn_parse(argv[1], text, len, &err);
  if (!cfg) {
    fprintf(stderr, "mailsim chaos: %s\n", err->message);
    g_error_free(err);
    goto out;
  }
  if (jobs <= 0)
    jobs = (gint)g_get_num_processors();
  guint nw = MIN((guint)jobs, seeds->len);
  res = g_new0(seed_result, seeds->len);
  for (guint i = 0; i < seeds->len; i++) {
    res[i].seed = g_array_index(seeds, uint64_t, i);
    res[i].faults = g_string_new(NULL);
    res[i].viol = g_ptr_array_new_with_free_func(g_free);
  }
  fflush(stdout);
  fflush(stderr);
  FILE **files = g_new0(FILE *, nw);
  pid_t *pids = g_new0(pid_t, nw);
  for (guint k = 0; k < nw; k++) {
    files[k] = tmpfile();
    if (!files[k]) {
      perror("mailsim chaos: tmpfile");
      nw = k;
      break;
    }
    if (nw == 1) { /* one worker: in this process */
      worker(argv[1], text, len, seeds, 0, 1, trace_path, detail, files[k]);
      continue;
    }
    pids[k] = fork();
    if (pids[k] < 0) {
      perror("mailsim chaos: fork");
      fclose(files[k]);
      files[k] = NULL;
      nw = k;
      break;
    }
    if (pids[k] == 0) {
      worker(argv[1], text, len, seeds, k, nw, trace_path, detail, files[k]);
      fflush(files[k]);
      _exit(0);
    }
  }
  for (guint k = 0; k < nw; k++) {
    if (pids[k] > 0) {
      int ws;
      while (waitpid(pids[k], &ws, 0) < 0 && errno == EINTR)
        ;
    }
    if (files[k]) {
      read_results(files[k], res, seeds);
      fclose(files[k]);
    }
  }
  g_free(files);
  g_free(pids);
  print_table(argv[1], seeds, res, verbose);
  status = 0;
  for (guint i = 0; i < seeds->len; i++)
    if (!res[i].done || res[i].viol->len)
      status = 1;
out:
  g_ptr_array_unref(own);
  for (guint i = 0; res && i < seeds->len; i++)
    result_clear(&res[i]);
  g_free(res);
  g_array_unref(seeds);
  scn_config_free(cfg);
  g_free(text);
  g_free(seeds_s);
  g_free(trace_path);
  g_free(detail_s);
  return status;
}
