/* cmd_serve.h — `mailsim serve` (live mode) and `mailsim replay`. */
#ifndef MAILSIM_CMD_SERVE_H
#define MAILSIM_CMD_SERVE_H

int cli_cmd_serve(int argc, char **argv);
int cli_cmd_replay(int argc, char **argv);

#endif
