/* cmd_sweep.h — `mailsim sweep`: a scenario over a grid of parameter
 * values and seeds.
 *
 *   mailsim sweep SCENARIO [--set PATH=V1,V2,...]... [--seeds 1-50] [-j N]
 *                 [--csv FILE]
 *
 * PATH addresses a scenario key (scenarios/scn_override.h:
 * hosts[mx.example.org].mta.greylist_delay). Every combination of the
 * values runs with every seed, each run its own untraced world, on N
 * forked workers (default: online CPUs); one CSV row per run, in grid
 * order whatever N, and a summary per grid point with mean, 95 % Student-t
 * interval, min and max printed in fixed decimals (cli/sweep_ci.h).
 * Exit status: 0 done, 2 bad usage, bad scenario or value (the message
 * names the --set), or a worker that failed. */
#ifndef MAILSIM_CMD_SWEEP_H
#define MAILSIM_CMD_SWEEP_H

int cli_cmd_sweep(int argc, char **argv);

#endif
