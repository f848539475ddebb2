/* kernel_hold.c — the classic "hold" benchmark of the event queue (sim_sched).
 *
 * The model is the one of the peer benchmarks (../shared/peers/hold_c.c and
 * hold_ns3.cc): P events are pending; N times, the earliest is popped by
 * sim_sched_run(), its handler is called through the function pointer
 * stored in the scheduler, and the handler schedules one new event at
 * now + delay. Delays are exponential with mean 1 ms, in integer ns. After N
 * events the handler calls sim_sched_stop() instead of scheduling (as the
 * ns-3 peer calls Simulator::Stop()).
 *
 * Like the ns-3 peer, the handler schedules from inside the callback: that is
 * how a simulation uses the kernel, and it takes sim_sched's fused pop/push
 * path (the new event drops into the root hole left by the popped one).
 *
 * Only the run loop is timed, with CLOCK_MONOTONIC (a benchmark may read the
 * wall clock; the simulator never does); events_per_s is N / loop_s, as for
 * the peers. cpu_s is the loop's CPU time (CLOCK_PROCESS_CPUTIME_ID), steadier
 * than the wall clock when other jobs share the cores. The output is one line
 * in the peers' format, with N= and events_per_s= for
 * ../shared/peers/run-all.sh:
 *   mailsim-sched P=1000 N=10000000 dist=e loop_s=... events_per_s=... cpu_s=... simtime=...
 * simtime is the time of the last event (s, exact ns): the same for any
 * correct queue, so it doubles as a checksum across scheduler variants.
 *
 * Usage: kernel_hold P N [e|u]
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_sched.h"

/* The peers' RNG, reproduced from ../shared/peers/rng.h (that file cannot be
 * included: a checkout must build alone). splitmix64; uniform in (0,1] as
 * ((x >> 11) + 1) * 2^-53; exponential(mean) = -mean * log(u); 'u' is
 * uniform in [0, 2*mean). Same seed (42) and draw order as the peers: P
 * initial delays, then one per event. The peers' hold_ns3 truncates the
 * delay to ns; here it is rounded to the nearest ns, like sim_rng_exp_time. */
static inline uint64_t splitmix64_next(uint64_t *s) {
  uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static inline double unit_open0(uint64_t *s) {
  return ((double)(splitmix64_next(s) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

#define MEAN_NS 1e6 /* 1 ms */

typedef struct {
  sim_sched *s;
  uint64_t rng;
  char dist;
  uint64_t count, n;
} bench;

static inline sim_time delay_ns(bench *b) {
  double u = unit_open0(&b->rng);
  double d = b->dist == 'u' ? 2.0 * MEAN_NS * (u - 0x1p-53) : -MEAN_NS * log(u);
  return (sim_time)(d + 0.5);
}

static void handler(void *a, void *unused) {
  (void)unused;
  bench *b = a;
  if (++b->count >= b->n) {
    sim_sched_stop(b->s);
    return;
  }
  sim_sched_after(b->s, delay_ns(b), handler, b, NULL);
}

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int usage(const char *argv0) {
  fprintf(stderr, "usage: %s P N [e|u]\n  P pending events (>= 1), N events to run (>= 1)\n",
          argv0);
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4)
    return usage(argv[0]);
  char *end;
  uint64_t p = strtoull(argv[1], &end, 10);
  if (*end || p == 0 || p > (UINT64_C(1) << 26))
    return usage(argv[0]);
  uint64_t n = strtoull(argv[2], &end, 10);
  if (*end || n == 0)
    return usage(argv[0]);
  char dist = argc > 3 ? argv[3][0] : 'e';
  if (dist != 'e' && dist != 'u')
    return usage(argv[0]);

  bench b = {sim_sched_new(), 42, dist, 0, n};
  for (uint64_t i = 0; i < p; i++)
    sim_sched_at(b.s, delay_ns(&b), handler, &b, NULL);

  double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
  sim_run_result r = sim_sched_run(b.s, SIM_TIME_NEVER);
  double dt = clock_s(CLOCK_MONOTONIC) - t0, dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;

  if (r != SIM_RUN_STOPPED || b.count != n) {
    fprintf(stderr, "kernel_hold: run ended early (%" PRIu64 " of %" PRIu64 " events)\n", b.count,
            n);
    return 1;
  }
  sim_time t = sim_sched_now(b.s);
  printf("mailsim-sched P=%" PRIu64 " N=%" PRIu64 " dist=%c loop_s=%.3f events_per_s=%.0f "
         "cpu_s=%.3f simtime=%" PRId64 ".%09" PRId64 "\n",
         p, b.count, dist, dt, (double)b.count / dt, dc, t / SIM_S, t % SIM_S);
  sim_sched_free(b.s);
  return 0;
}
