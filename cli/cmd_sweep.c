/* cmd_sweep.c — `mailsim sweep SCENARIO --set PATH=V1,V2,... [--set ...]
 * [--seeds SPEC] [-j N] [--csv FILE]` (see cmd_sweep.h).
 *
 * The grid is every combination of the --set values (the first --set
 * varies slowest), each run with every seed. Each run is its own world,
 * built from the scenario edited in memory (scenarios/scn_override.h) and
 * run untraced; its end-record numbers come back as a scn_world_result.
 * Runs are spread over forked workers (run r goes to worker r mod J) that
 * send their results through pipes; the parent stores them by run index,
 * so the CSV and the table are the same for every -j. Nothing here reads
 * the clock.
 */
#include "cmd_sweep.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "scn_override.h"
#include "scn_world.h"
#include "sweep_ci.h"

#define SWEEP_MAX_RUNS 1000000

typedef struct {
  char *path;
  GPtrArray *values; /* char* */
} axis;

typedef struct {
  uint32_t run;
  scn_world_result r;
} wire;

/* "1-50", "1,5,9", "3-5,10" -> SEEDS (uint64). */
static bool parse_seeds(const char *spec, GArray *seeds) {
  gchar **parts = g_strsplit(spec, ",", -1);
  bool ok = parts[0] != NULL;
  for (gchar **p = parts; ok && *p; p++) {
    guint64 a, b;
    char *dash = strchr(*p, '-');
    if (dash) {
      *dash = '\0';
      ok = g_ascii_string_to_unsigned(*p, 10, 0, G_MAXUINT64, &a, NULL) &&
           g_ascii_string_to_unsigned(dash + 1, 10, 0, G_MAXUINT64, &b, NULL) && a <= b &&
           b - a < SWEEP_MAX_RUNS;
    } else {
      ok = g_ascii_string_to_unsigned(*p, 10, 0, G_MAXUINT64, &a, NULL);
      b = a;
    }
    for (guint64 s = a; ok; s++) {
      uint64_t v = s;
      g_array_append_val(seeds, v);
      if (seeds->len > SWEEP_MAX_RUNS)
        ok = false;
      if (s == b)
        break;
    }
  }
  g_strfreev(parts);
  return ok;
}

/* The value index of axis K at grid point P (the last axis varies fastest). */
static guint value_at(const GArray *axes, size_t p, guint k) {
  for (guint j = axes->len; j-- > k + 1;)
    p /= g_array_index(axes, axis, j).values->len;
  return (guint)(p % g_array_index(axes, axis, k).values->len);
}

static void run_one(const scn_config *cfg, uint64_t seed, scn_world_result *out) {
  scn_world *sw = scn_world_build(cfg, seed, NULL, SIM_DETAIL_MESSAGES);
  (void)scn_world_run(sw);
  scn_world_result_get(sw, out);
  scn_world_free(sw);
}

static bool write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t k = write(fd, c, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return false;
    c += k;
    n -= (size_t)k;
  }
  return true;
}

/* Runs every run (point = run / nseeds) on JOBS workers into RES; false
 * (message printed) if a worker died or a result is missing. */
static bool run_all(GPtrArray *cfgs, const GArray *seeds, size_t nruns, unsigned jobs,
                    scn_world_result *res) {
  size_t ns = seeds->len;
  if (jobs <= 1 || nruns == 1) {
    for (size_t r = 0; r < nruns; r++)
      run_one(cfgs->pdata[r / ns], g_array_index(seeds, uint64_t, r % ns), &res[r]);
    return true;
  }
  if (jobs > nruns)
    jobs = (unsigned)nruns;
  fflush(NULL);
  int *fds = g_new(int, jobs);
  pid_t *pids = g_new(pid_t, jobs);
  bool *got = g_new0(bool, nruns);
  for (unsigned w = 0; w < jobs; w++) {
    int p[2];
    if (pipe(p) != 0)
      g_error("mailsim sweep: pipe: %s", g_strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
      g_error("mailsim sweep: fork: %s", g_strerror(errno));
    if (pid == 0) {
      close(p[0]);
      for (unsigned v = 0; v < w; v++)
        close(fds[v]);
      for (size_t r = w; r < nruns; r += jobs) {
        wire x;
        memset(&x, 0, sizeof x);
        x.run = (uint32_t)r;
        run_one(cfgs->pdata[r / ns], g_array_index(seeds, uint64_t, r % ns), &x.r);
        if (!write_all(p[1], &x, sizeof x))
          _exit(3);
      }
      _exit(0);
    }
    close(p[1]);
    fds[w] = p[0];
    pids[w] = pid;
  }
  /* Read whole records from every pipe until all are closed. */
  struct pollfd *pf = g_new0(struct pollfd, jobs);
  GByteArray **buf = g_new0(GByteArray *, jobs);
  unsigned open = jobs;
  for (unsigned w = 0; w < jobs; w++) {
    pf[w].fd = fds[w];
    pf[w].events = POLLIN;
    buf[w] = g_byte_array_new();
  }
  while (open) {
    if (poll(pf, jobs, -1) < 0) {
      if (errno == EINTR)
        continue;
      g_error("mailsim sweep: poll: %s", g_strerror(errno));
    }
    for (unsigned w = 0; w < jobs; w++) {
      if (pf[w].fd < 0 || !(pf[w].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      uint8_t tmp[4096];
      ssize_t k = read(pf[w].fd, tmp, sizeof tmp);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0) {
        close(pf[w].fd);
        pf[w].fd = -1;
        open--;
        continue;
      }
      g_byte_array_append(buf[w], tmp, (guint)k);
      while (buf[w]->len >= sizeof(wire)) {
        wire x;
        memcpy(&x, buf[w]->data, sizeof x);
        g_byte_array_remove_range(buf[w], 0, sizeof x);
        if (x.run < nruns) {
          res[x.run] = x.r;
          got[x.run] = true;
        }
      }
    }
  }
  bool ok = true;
  for (unsigned w = 0; w < jobs; w++) {
    int st = 0;
    while (waitpid(pids[w], &st, 0) < 0 && errno == EINTR)
      ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      fprintf(stderr, "mailsim sweep: worker %u failed (%s %d)\n", w,
              WIFSIGNALED(st) ? "signal" : "exit status",
              WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
      ok = false;
    }
    g_byte_array_unref(buf[w]);
  }
  for (size_t r = 0; ok && r < nruns; r++)
    if (!got[r]) {
      fprintf(stderr, "mailsim sweep: no result for run %zu\n", r + 1);
      ok = false;
    }
  g_free(buf);
  g_free(pf);
  g_free(got);
  g_free(pids);
  g_free(fds);
  return ok;
}

/* ---- output ---- */

static void csv_field(GString *o, const char *s) {
  if (strpbrk(s, ",\"\r\n")) {
    g_string_append_c(o, '"');
    for (; *s; s++) {
      if (*s == '"')
        g_string_append_c(o, '"');
      g_string_append_c(o, *s);
    }
    g_string_append_c(o, '"');
  } else {
    g_string_append(o, s);
  }
}

/* DNS lookups answered from a cache, parts per million (0 with none). */
static int64_t dns_hit_ppm(const scn_world_result *r) {
  return r->dns_lookups ? (int64_t)(r->dns_from_cache * 1000000 / r->dns_lookups) : 0;
}

static const char *const csv_cols =
    "seed,ok,events,end_ns,composed,submitted,submitted_rcpts,delivered,bounced,failed,queued,"
    "deferred,retries,client_retries,dsns,fetched,violations,delay_samples,delay_p50_ns,"
    "delay_p95_ns,delay_max_ns,dns_lookups,dns_from_cache,dns_hit_pct";

static void csv_row(GString *o, const GArray *axes, size_t point, uint64_t seed,
                    const scn_world_result *r) {
  g_string_append_printf(o, "%zu", point + 1);
  for (guint k = 0; k < axes->len; k++) {
    const axis *a = &g_array_index(axes, axis, k);
    g_string_append_c(o, ',');
    csv_field(o, a->values->pdata[value_at(axes, point, k)]);
  }
  g_string_append_printf(
      o,
      ",%" G_GUINT64_FORMAT ",%s,%" G_GUINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GUINT64_FORMAT
      ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
      ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
      ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
      ",%" G_GUINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
      ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",",
      (guint64)seed, r->ok ? "true" : "false", (guint64)r->events, (gint64)r->end,
      (guint64)r->composed, (guint64)r->submitted, (guint64)r->submitted_rcpts,
      (guint64)r->delivered, (guint64)r->bounced, (guint64)r->failed, (guint64)r->queued,
      (guint64)r->deferred, (guint64)r->retries, (guint64)r->client_retries, (guint64)r->dsns,
      (guint64)r->fetched, (guint64)r->violations, (guint64)r->delay_samples, (gint64)r->delay_p50,
      (gint64)r->delay_p95, (gint64)r->delay_max, (guint64)r->dns_lookups,
      (guint64)r->dns_from_cache);
  if (r->dns_lookups)
    sweep_ci_append_fixed(o, dns_hit_ppm(r) * 1000, 4, 2);
  else
    g_string_append_c(o, '-');
  g_string_append(o, "\r\n");
}

/* The summary's metrics: a value per run, shown as value / 10^shift.
 * HAS (may be NULL) says whether a run has the value at all: delays only
 * exist in runs with a delivery, the hit rate only with DNS lookups. */
typedef struct {
  const char *name;
  int shift, decimals;
  int64_t (*get)(const scn_world_result *r);
  bool (*has)(const scn_world_result *r);
} metric;

static int64_t m_ok(const scn_world_result *r) { return r->ok; }
static int64_t m_delivered(const scn_world_result *r) { return (int64_t)r->delivered; }
static int64_t m_bounced(const scn_world_result *r) { return (int64_t)r->bounced; }
static int64_t m_failed(const scn_world_result *r) { return (int64_t)r->failed; }
static int64_t m_queued(const scn_world_result *r) { return (int64_t)r->queued; }
static int64_t m_retries(const scn_world_result *r) { return (int64_t)r->retries; }
static int64_t ms(sim_time t) { return (t + 500000) / 1000000; }
static int64_t m_p50(const scn_world_result *r) { return ms(r->delay_p50); }
static int64_t m_p95(const scn_world_result *r) { return ms(r->delay_p95); }
static int64_t m_max(const scn_world_result *r) { return ms(r->delay_max); }
static int64_t m_dns(const scn_world_result *r) { return dns_hit_ppm(r); }
static int64_t m_events(const scn_world_result *r) { return (int64_t)r->events; }
static bool h_delay(const scn_world_result *r) { return r->delay_samples > 0; }
static bool h_dns(const scn_world_result *r) { return r->dns_lookups > 0; }

static const metric metrics[] = {
    {"ok (share)", 0, 3, m_ok, NULL},        {"delivered", 0, 2, m_delivered, NULL},
    {"bounced", 0, 2, m_bounced, NULL},      {"failed", 0, 2, m_failed, NULL},
    {"queued", 0, 2, m_queued, NULL},        {"retries", 0, 2, m_retries, NULL},
    {"delay p50 (s)", 3, 3, m_p50, h_delay}, {"delay p95 (s)", 3, 3, m_p95, h_delay},
    {"delay max (s)", 3, 3, m_max, h_delay}, {"dns cache hits (%)", 4, 2, m_dns, h_dns},
    {"events", 0, 1, m_events, NULL},
};

static void summary(GString *o, const char *scenario, const GArray *axes, size_t npoints,
                    const GArray *seeds, const scn_world_result *res) {
  size_t ns = seeds->len;
  g_string_append_printf(o, "sweep %s: %zu point%s x %zu seed%s = %zu runs\n", scenario, npoints,
                         npoints == 1 ? "" : "s", ns, ns == 1 ? "" : "s", npoints * ns);
  int64_t *v = g_new(int64_t, ns);
  for (size_t p = 0; p < npoints; p++) {
    g_string_append_printf(o, "\npoint %zu:", p + 1);
    for (guint k = 0; k < axes->len; k++) {
      const axis *a = &g_array_index(axes, axis, k);
      g_string_append_printf(o, " %s=%s", a->path, (char *)a->values->pdata[value_at(axes, p, k)]);
    }
    if (!axes->len)
      g_string_append(o, " the scenario as written");
    g_string_append_printf(o, "\n  %-20s %5s %14s %12s %14s %14s\n", "metric", "runs", "mean",
                           "±95% CI", "min", "max");
    for (size_t m = 0; m < G_N_ELEMENTS(metrics); m++) {
      size_t n = 0;
      for (size_t s = 0; s < ns; s++) {
        const scn_world_result *r = &res[p * ns + s];
        if (!metrics[m].has || metrics[m].has(r))
          v[n++] = metrics[m].get(r);
      }
      if (n == 0) {
        g_string_append_printf(o, "  %-20s %5d %14s %12s %14s %14s\n", metrics[m].name, 0, "-", "-",
                               "-", "-");
        continue;
      }
      sweep_ci ci;
      sweep_ci_compute(v, n, &ci);
      GString *c[4];
      for (int i = 0; i < 4; i++)
        c[i] = g_string_new(NULL);
      int sh = metrics[m].shift, d = metrics[m].decimals;
      sweep_ci_append_fixed(c[0], ci.mean_milli, sh, d);
      if (ci.half_milli < 0)
        g_string_append(c[1], "-");
      else
        sweep_ci_append_fixed(c[1], ci.half_milli, sh, d);
      sweep_ci_append_fixed(c[2], ci.min * 1000, sh, d);
      sweep_ci_append_fixed(c[3], ci.max * 1000, sh, d);
      g_string_append_printf(o, "  %-20s %5zu %14s %12s %14s %14s\n", metrics[m].name, n, c[0]->str,
                             c[1]->str, c[2]->str, c[3]->str);
      for (int i = 0; i < 4; i++)
        g_string_free(c[i], TRUE);
    }
  }
  g_free(v);
}

/* ---- the command ---- */

static bool load_base(const char *file, char **text, gsize *len) {
  GError *e = NULL;
  if (!g_file_get_contents(file, text, len, &e)) {
    fprintf(stderr, "mailsim sweep: %s: cannot read scenario: %s\n", file, e->message);
    g_error_free(e);
    return false;
  }
  return true;
}

int cli_cmd_sweep(int argc, char **argv) {
  char **sets = NULL, *seeds_s = NULL, *csv_path = NULL;
  int jobs = 0;
  GOptionEntry entries[] = {
      {"set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets,
       "A scenario key and its values, e.g. hosts[mx.example.org].mta.greylist_delay=1m,5m,15m "
       "(repeatable: the grid is every combination)",
       "PATH=V1,V2,..."},
      {"seeds", 0, 0, G_OPTION_ARG_STRING, &seeds_s,
       "Seeds to run each point with: 1-50, 1,5,9 or 3-5,10 (default: the scenario's seed)",
       "SPEC"},
      {"jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
       "Worker processes (default: the number of online CPUs)", "N"},
      {"csv", 0, 0, G_OPTION_ARG_FILENAME, &csv_path, "Write one row per run here ('-' = stdout)",
       "FILE"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status = 2;
  char *text = NULL;
  gsize len = 0;
  GArray *axes = g_array_new(FALSE, FALSE, sizeof(axis));
  GArray *seeds = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  GPtrArray *cfgs = g_ptr_array_new_with_free_func((GDestroyNotify)scn_config_free);
  scn_world_result *res = NULL;
  if (!cli_parse(
          "sweep", "SCENARIO",
          "Runs a scenario over a grid of parameter values and seeds; writes one CSV row per\n"
          "run and prints, per grid point, the mean, 95 % confidence interval (Student t),\n"
          "min and max of the key metrics, over the runs that have the metric (delays:\n"
          "runs with a delivery; DNS hit rate: runs with a lookup).\n\n"
          "PATH names a scenario key (scenarios/FORMAT.md): keys joined by '.', array\n"
          "elements in brackets by name, id, address, origin, link 'A-B' or index:\n"
          "  hosts[mx.example.org].mta.greylist_delay=1m,5m,15m\n"
          "  hosts[smtp.example.com].mta.retry=postfix,exim\n"
          "  links[isp-b-internet].loss=0,1%,5%      duration=30m\n"
          "A value is JSON when it parses as JSON (60, true, \"x\"), else a string (5m).\n"
          "Values are split at commas outside brackets and quotes. A value the scenario\n"
          "loader refuses is reported with its --set and the loader's message.\n\n"
          "Each run is its own world, untraced; runs go to -j worker processes and the\n"
          "output does not depend on -j: the same arguments give the same CSV, byte for\n"
          "byte. CSV columns: point, one per --set path, seed, ok, events, end_ns, then\n"
          "the end record's mail counts (composed ... violations), delay_samples,\n"
          "delay_p50_ns, delay_p95_ns, delay_max_ns, dns_lookups, dns_from_cache and\n"
          "dns_hit_pct (lookups by hosts and resolvers answered from their caches).\n"
          "Exit status: 0 done, 2 bad usage, a bad scenario or value, or a failed worker.",
          entries, &argc, &argv))
    goto out;
  if (argc != 2) {
    fprintf(stderr, "mailsim sweep: expected one SCENARIO file\nTry 'mailsim sweep --help'.\n");
    goto out;
  }
  const char *file = argv[1];
  if (!load_base(file, &text, &len))
    goto out;
  GError *err = NULL;
  scn_config *base = scn_parse(file, text, len, &err);
  if (!base) {
    fprintf(stderr, "mailsim sweep: %s\n", err->message);
    g_error_free(err);
    goto out;
  }
  uint64_t base_seed = base->seed;
  scn_config_free(base);
  for (char **s = sets; s && *s; s++) {
    axis a;
    if (!scn_override_split(*s, &a.path, &a.values, &err)) {
      fprintf(stderr, "mailsim sweep: --set %s\n", err->message);
      g_error_free(err);
      goto out;
    }
    g_array_append_val(axes, a);
    /* Each value alone, so an error names its --set. */
    for (guint i = 0; i < a.values->len; i++) {
      const char *p = a.path, *v = a.values->pdata[i];
      scn_config *c = scn_override_load(file, text, len, &p, &v, 1, &err);
      if (!c) {
        fprintf(stderr, "mailsim sweep: --set %s=%s: %s\n", p, v, err->message);
        g_error_free(err);
        goto out;
      }
      scn_config_free(c);
    }
  }
  if (seeds_s) {
    if (!parse_seeds(seeds_s, seeds)) {
      fprintf(stderr,
              "mailsim sweep: --seeds %s: expected N, A-B or a comma list of those "
              "(at most %d seeds)\n",
              seeds_s, SWEEP_MAX_RUNS);
      goto out;
    }
  } else {
    g_array_append_val(seeds, base_seed);
  }
  size_t npoints = 1;
  for (guint k = 0; k < axes->len; k++) {
    npoints *= g_array_index(axes, axis, k).values->len;
    if (npoints * seeds->len > SWEEP_MAX_RUNS) {
      fprintf(stderr, "mailsim sweep: more than %d runs\n", SWEEP_MAX_RUNS);
      goto out;
    }
  }
  if (jobs < 0) {
    fprintf(stderr, "mailsim sweep: -j %d: expected a positive number\n", jobs);
    goto out;
  }
  unsigned njobs = jobs ? (unsigned)jobs : g_get_num_processors();
  const char **paths = g_new(const char *, axes->len + 1);
  const char **vals = g_new(const char *, axes->len + 1);
  for (size_t p = 0; p < npoints; p++) {
    for (guint k = 0; k < axes->len; k++) {
      const axis *a = &g_array_index(axes, axis, k);
      paths[k] = a->path;
      vals[k] = a->values->pdata[value_at(axes, p, k)];
    }
    scn_config *c = scn_override_load(file, text, len, paths, vals, axes->len, &err);
    if (!c) {
      GString *which = g_string_new(NULL);
      for (guint k = 0; k < axes->len; k++)
        g_string_append_printf(which, " --set %s=%s", paths[k], vals[k]);
      fprintf(stderr, "mailsim sweep:%s: %s\n", which->str, err->message);
      g_string_free(which, TRUE);
      g_error_free(err);
      g_free(paths);
      g_free(vals);
      goto out;
    }
    g_ptr_array_add(cfgs, c);
  }
  g_free(paths);
  g_free(vals);
  size_t nruns = npoints * seeds->len;
  res = g_new0(scn_world_result, nruns);
  if (!run_all(cfgs, seeds, nruns, njobs, res))
    goto out;
  if (csv_path) {
    GString *o = g_string_new("point");
    for (guint k = 0; k < axes->len; k++) {
      g_string_append_c(o, ',');
      csv_field(o, g_array_index(axes, axis, k).path);
    }
    g_string_append_printf(o, ",%s\r\n", csv_cols);
    for (size_t r = 0; r < nruns; r++)
      csv_row(o, axes, r / seeds->len, g_array_index(seeds, uint64_t, r % seeds->len), &res[r]);
    bool ok;
    if (strcmp(csv_path, "-") == 0) {
      ok = fwrite(o->str, 1, o->len, stdout) == o->len;
    } else {
      ok = g_file_set_contents(csv_path, o->str, (gssize)o->len, &err);
      if (!ok) {
        fprintf(stderr, "mailsim sweep: %s\n", err->message);
        g_error_free(err);
      }
    }
    g_string_free(o, TRUE);
    if (!ok)
      goto out;
  }
  GString *sum = g_string_new(NULL);
  summary(sum, ((scn_config *)cfgs->pdata[0])->name, axes, npoints, seeds, res);
  /* The table goes to stderr when the CSV is on stdout. */
  fputs(sum->str, csv_path && strcmp(csv_path, "-") == 0 ? stderr : stdout);
  g_string_free(sum, TRUE);
  status = fflush(stdout) == 0 ? 0 : 2;
out:
  for (guint k = 0; k < axes->len; k++) {
    g_free(g_array_index(axes, axis, k).path);
    g_ptr_array_unref(g_array_index(axes, axis, k).values);
  }
  g_array_unref(axes);
  g_array_unref(seeds);
  g_ptr_array_unref(cfgs);
  g_free(res);
  g_free(text);
  g_strfreev(sets);
  g_free(seeds_s);
  g_free(csv_path);
  return status;
}
