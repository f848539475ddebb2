/* mailsim.c — the mailsim command: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_check.h"
#include "cmd_export.h"
#include "cmd_serve.h"
#include "cmd_pcap.h"
#include "cmd_spf.h"
#include "cmd_stats.h"
#include "cmd_sweep.h"
#include "cmd_viz.h"

static const struct {
  const char *name;
  cli_cmd_fn fn;
  const char *help;
} commands[] = {
    {"run", cli_cmd_run, "run SCENARIO [--seed N] [--trace FILE] [--detail LEVEL]"},
    {"check", cli_cmd_check, "check SCENARIO...      validate only"},
    {"render", cli_cmd_render, "render TRACE --out PNG [--at TIME] [--view NAME]  pictures, no display"},
    {"view", cli_cmd_view, "view TRACE|SCENARIO [--max-frames N]  the interactive viewer (a scenario is run first)"},
    {"show", cli_cmd_show, "show SCENARIO|TRACE [--out DIR]  run, then the window if there is a display, else pictures"},
    {"explain", cli_cmd_explain, "explain TRACE [--message ID]  a message's journey, step by step"},
    {"stats", cli_cmd_stats, "stats TRACE [--csv] [--plot PNG]  delays, hops, retries, queues, greylisting, bounces, DNS cache"},
    {"export", cli_cmd_export, "export TRACE --mermaid [--message ID | --connection ID] | --eml DIR | --mbox FILE [--mailbox ADDR] [--all]  a Mermaid diagram, or the stored messages (.eml files, mbox)"},
    {"sweep", cli_cmd_sweep, "sweep SCENARIO --set PATH=V1,V2 [--seeds 1-50] [-j N] [--csv FILE]  parameter grid x seeds"},
    {"pcap", cli_cmd_pcap, "pcap TRACE OUT.pcap [--keylog FILE]  packets for Wireshark/tshark"},
    {"diff", cli_cmd_diff, "diff A B               first divergence of two traces, and per message in mail terms"},
    {"serve", cli_cmd_serve, "serve SCENARIO [--listen ADDR:PORT=HOST:PORT]... [--speed X] [--ca-out FILE]  live mode: real clients"},
    {"replay", cli_cmd_replay, "replay JOURNAL [--trace FILE]  a live session again, from its journal"},
    {"check-trace", cli_cmd_check_trace, "check-trace TRACE      re-check the mail invariants of a trace"},
    {"chaos", cli_cmd_chaos, "chaos SCENARIO --seeds 1-500 [-j N]  random faults per seed, invariants checked"},
    {"spf", cli_cmd_spf, "spf --zone FILE --ip IP --helo NAME --from ADDR   one SPF check"},
};

static void usage(FILE *f) {
  fputs("usage: mailsim COMMAND [ARGS...]\n\nCommands:\n", f);
  for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
    fprintf(f, "  mailsim %s\n", commands[i].help);
  fputs("\nRun 'mailsim COMMAND --help' for the options of a command.\n", f);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "mailsim: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
