/* cmd_spf.h — `mailsim spf`: one SPF check (RFC 7208) against a zone file.
 *
 *   mailsim spf --zone ZONEFILE --ip IP --helo NAME --from ADDR
 *               [--receiver NAME] [--identity mailfrom|helo] [--verbose]
 *
 * ZONEFILE holds master-file lines "name TTL IN TYPE rdata" (absolute names;
 * blank lines and lines starting with ';' or '#' ignored), served by the
 * project's authoritative answer function. Prints the result, the
 * explanation (fail), and the Received-SPF header field. Exit status: 0
 * pass, 1 any other SPF result, 2 bad usage or an unreadable zone. */
#ifndef MAILSIM_CMD_SPF_H
#define MAILSIM_CMD_SPF_H

int cli_cmd_spf(int argc, char **argv);

#endif
