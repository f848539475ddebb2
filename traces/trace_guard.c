/* trace_guard.c — signal handlers and an exit hook that write the trace's
 * tail before the process ends.
 *
 * The one piece of process-wide state in the trace library: signal
 * dispositions belong to the process, so the guarded writer must be
 * reachable from a handler. A handler takes the writer (atomically, so a
 * second failing thread does not flush it twice), flushes it, restores the
 * default disposition and raises the signal again: the process ends the
 * way it would have without the guard (core dump, exit status 128+N). */
#include "trace_guard.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const int crash_sigs[] = {SIGABRT, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
static const int stop_sigs[] = {SIGINT, SIGTERM, SIGHUP};
#define NCRASH (sizeof crash_sigs / sizeof crash_sigs[0])
#define NSTOP (sizeof stop_sigs / sizeof stop_sigs[0])

static _Atomic(trace_writer *) guarded;
static struct sigaction old_crash[NCRASH], old_stop[NSTOP];
static bool stop_installed;
static bool atexit_done;

static void on_signal(int sig) {
  trace_writer *tw = atomic_exchange(&guarded, NULL);
  if (tw)
    trace_writer_emergency_flush(tw);
  /* SA_RESETHAND made the disposition the default: once this handler
   * returns, the signal raised here ends the process (a fault re-runs its
   * instruction, with the same end). */
  signal(sig, SIG_DFL);
  raise(sig);
}

static void on_exit_hook(void) {
  trace_writer *tw = atomic_exchange(&guarded, NULL);
  if (tw)
    trace_writer_emergency_flush(tw);
}

/* A signal the process was started ignoring (nohup, a background job of
 * a script) stays ignored: the guard changes how the process ends, never
 * whether it does. */
static void set(const int *sigs, size_t n, struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < n; i++) {
    sigaction(sigs[i], NULL, &old[i]);
    if (old[i].sa_handler != SIG_IGN)
      sigaction(sigs[i], &sa, NULL);
  }
}

static void restore(const int *sigs, size_t n, const struct sigaction *old) {
  for (size_t i = 0; i < n; i++)
    sigaction(sigs[i], &old[i], NULL);
}

void trace_guard_install(trace_writer *tw, bool stop_signals) {
  g_assert(tw);
  trace_writer *none = NULL;
  bool ok = atomic_compare_exchange_strong(&guarded, &none, tw);
  g_assert(ok); /* one guarded writer at a time */
  set(crash_sigs, NCRASH, old_crash);
  stop_installed = stop_signals;
  if (stop_signals)
    set(stop_sigs, NSTOP, old_stop);
  if (!atexit_done)
    atexit_done = atexit(on_exit_hook) == 0;
}

void trace_guard_remove(trace_writer *tw) {
  if (!tw)
    return;
  trace_writer *want = tw;
  if (!atomic_compare_exchange_strong(&guarded, &want, NULL))
    return; /* not guarded (or a handler has it) */
  restore(crash_sigs, NCRASH, old_crash);
  if (stop_installed)
    restore(stop_sigs, NSTOP, old_stop);
  stop_installed = false;
}

bool trace_guard_test_hook_from_env(trace_writer *tw) {
  const char *v = g_getenv("MAILSIM_TEST_FAIL_AT");
  if (!v || !*v)
    return false;
  char **parts = g_strsplit(v, ":", 3);
  guint64 n = 0;
  int sig = SIGABRT;
  bool in_tap = false, ok = g_ascii_string_to_unsigned(parts[0], 10, 1, G_MAXUINT64, &n, NULL);
  static const struct {
    const char *name;
    int sig;
  } names[] = {{"ABRT", SIGABRT}, {"TRAP", SIGTRAP}, {"SEGV", SIGSEGV},
               {"INT", SIGINT},   {"TERM", SIGTERM}};
  for (int i = 1; ok && parts[i]; i++) {
    bool known = false;
    if (g_str_equal(parts[i], "tap"))
      known = in_tap = true;
    for (size_t k = 0; k < G_N_ELEMENTS(names) && !known; k++)
      if (g_str_equal(parts[i], names[k].name))
        known = true, sig = names[k].sig;
    ok = known;
  }
  g_strfreev(parts);
  if (ok)
    trace_writer_test_fail_at(tw, n, sig, in_tap);
  return ok;
}
