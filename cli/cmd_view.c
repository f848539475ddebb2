/* cmd_view.c — `mailsim view TRACE`: the interactive window (viz_window). */
#include <stdio.h>

#include "cmd_viz.h"

int cli_cmd_view(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "mailsim view: not built yet\n");
  return 1;
}
