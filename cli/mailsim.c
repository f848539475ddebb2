/* mailsim.c — the mailsim command: parses options and calls the layers. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: mailsim COMMAND [ARGS...]\n"
    "\n"
    "Commands:\n"
    "  help                 this text\n"
    "\n"
    "Run 'mailsim COMMAND --help' for the options of a command.\n";

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "-h") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  fprintf(stderr, "mailsim: unknown command '%s'\n%s", argv[1], usage);
  return 2;
}
