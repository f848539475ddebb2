/* viz_main.c — a stand-in driver for the viewer's commands until the lead
 * lists them in cli/mailsim.c: `mailsim-viz render ...`, `mailsim-viz view ...`. */
#include <stdio.h>
#include <string.h>

#include "cmd_viz.h"

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "render") == 0)
    return cli_cmd_render(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "view") == 0)
    return cli_cmd_view(argc - 1, argv + 1);
  fprintf(stderr, "usage: mailsim-viz render|view TRACE [OPTIONS...]\n");
  return 2;
}
