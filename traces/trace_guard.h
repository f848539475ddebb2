/* trace_guard.h — the trace's tail when a run ends abnormally.
 *
 * A run whose trace goes through the writer thread holds up to ~1 MiB of
 * finished records in memory. If the process dies (a bug's g_error or
 * g_assert, a crash, Ctrl-C, SIGTERM, exit() from deep inside), the guard
 * writes them to the file first (trace_writer_emergency_flush), so the
 * trace ends at the last complete record, as QA replays need; then the
 * process ends as it would have (the same signal, the same exit status).
 *
 * The guard is process-wide (signal dispositions are): one writer at a
 * time. It is for commands (cli/), not for library code.
 */
#ifndef MAILSIM_TRACE_GUARD_H
#define MAILSIM_TRACE_GUARD_H

#include <stdbool.h>

#include "trace.h"

/* Guards TW until trace_guard_remove: on SIGABRT, SIGTRAP (g_error),
 * SIGSEGV, SIGBUS, SIGFPE, SIGILL and at exit(); with STOP_SIGNALS also on
 * SIGINT, SIGTERM and SIGHUP (leave it false where the command handles
 * those itself, e.g. live mode). The previous handlers are restored by
 * trace_guard_remove. Guarding a second writer is a bug. */
void trace_guard_install(trace_writer *tw, bool stop_signals);
/* Ends the guard of TW (call before closing it). NULL: no-op. */
void trace_guard_remove(trace_writer *tw);
/* Test hook: if the environment has MAILSIM_TEST_FAIL_AT=N[:SIG][:tap]
 * (SIG one of ABRT, TRAP, SEGV, INT, TERM; default ABRT), arms
 * trace_writer_test_fail_at on TW. Returns whether it did. */
bool trace_guard_test_hook_from_env(trace_writer *tw);

#endif
