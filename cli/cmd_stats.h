/* cmd_stats.h — `mailsim stats`: research statistics of a trace.
 *
 *   mailsim stats TRACE [--csv] [--plot FILE.png] [--title TEXT]
 *
 * Reads TRACE with the trace library only (never the simulator) and
 * prints a text summary (default) or CSV rows (--csv; columns in
 * traces/STATS.md): delivery delay distribution, per-hop delays, retries
 * per message, queue length per MTA, delay added by greylisting, bounce
 * rate, DNS cache hit rate (definitions in traces/trace_stats.h).
 * --plot also draws the delay CDF, the queue lengths over time and the
 * retries histogram into a PNG (viz/viz_plot.h), the same bytes on every
 * run. Exit status: 0 done, 2 bad usage, an unreadable or bad trace
 * (message naming file:line), or a PNG that could not be written. */
#ifndef MAILSIM_CMD_STATS_H
#define MAILSIM_CMD_STATS_H

int cli_cmd_stats(int argc, char **argv);

#endif
