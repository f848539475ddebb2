/* cmd_pcap.c — `mailsim pcap TRACE OUT.pcap [--keylog FILE]` (see
 * cmd_pcap.h). */
#include "cmd_pcap.h"

#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "trace_pcap.h"

int cli_cmd_pcap(int argc, char **argv) {
  char *keylog_path = NULL;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
      {"keylog", 'k', 0, G_OPTION_ARG_FILENAME, &keylog_path,
       "Also write the run's TLS secrets to FILE (SSLKEYLOGFILE format) so Wireshark "
       "decrypts the TLS sessions",
       "FILE"},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print no summary", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status = 2;
  trace_reader *r = NULL;
  GByteArray *out = g_byte_array_new();
  GString *keylog = g_string_new(NULL);
  if (!cli_parse("pcap", "TRACE OUT.pcap",
                 "Writes the packets of a run as a pcap file for Wireshark or tshark: Ethernet,\n"
                 "IPv4/IPv6, TCP/UDP/ICMP with correct checksums, stamped with simulated time\n"
                 "(nanosecond pcap), one frame per packet as its sender put it on the wire.\n"
                 "\n"
                 "From a trace at packet detail (exact):\n"
                 "  mailsim run SCENARIO --detail packets --trace TRACE\n"
                 "every packet with the simulation's own sequence and acknowledgement numbers,\n"
                 "retransmissions, FIN/RST, and the real bytes: TLS sessions are the run's TLS,\n"
                 "and --keylog writes their secrets so Wireshark decrypts them:\n"
                 "  tshark -r OUT.pcap -o tls.keylog_file:FILE\n"
                 "\n"
                 "From a trace at protocol detail (the default; rebuilt): handshakes, the\n"
                 "recorded protocol lines (each + CRLF) in the writes they were sent in,\n"
                 "byte-accurate sequence numbers over them, an ACK per write, FIN/RST, DNS\n"
                 "packets; segment timing partly estimated. Not shown: what the trace does\n"
                 "not record (message bodies after DATA, IMAP literals, POP3 multi-line\n"
                 "bodies), the data after STARTTLS (TLS needs packet detail), retransmissions.\n"
                 "\n"
                 "Exit status: 0 done, 2 bad usage, an unreadable or bad trace (or one at\n"
                 "messages detail), or an output that could not be written.",
                 entries, &argc, &argv))
    goto out;
  if (argc != 3) {
    fprintf(stderr, "mailsim pcap: expected a TRACE and an OUT.pcap file\n"
                    "Try 'mailsim pcap --help'.\n");
    goto out;
  }
  GError *err = NULL;
  trace_pcap_stats st;
  r = trace_reader_open(argv[1], &err);
  if (!r || !trace_pcap_write(r, argv[1], out, keylog_path ? keylog : NULL, &st, &err)) {
    fprintf(stderr, "mailsim pcap: %s\n", err->message);
    g_error_free(err);
    goto out;
  }
  if (!g_file_set_contents(argv[2], (const char *)out->data, (gssize)out->len, &err) ||
      (keylog_path && !g_file_set_contents(keylog_path, keylog->str, (gssize)keylog->len, &err))) {
    fprintf(stderr, "mailsim pcap: %s\n", err->message);
    g_error_free(err);
    goto out;
  }
  if (!quiet) {
    printf("%s: %" PRIu64 " frames (%" PRIu64 " TCP, %" PRIu64 " UDP, %" PRIu64 " ICMP)\n", argv[2],
           st.frames, st.tcp, st.udp, st.icmp);
    if (keylog_path)
      printf("%s: %" PRIu64 " TLS key log lines%s\n", keylog_path, st.keylog_lines,
             st.rebuilt ? " (a trace at protocol detail records no TLS secrets)" : "");
    if (st.rebuilt)
      printf("rebuilt from a trace at protocol detail: segment timing partly modelled, message "
             "bodies not recorded; for the real packets run with --detail packets\n");
    if (st.tls_sessions_hidden)
      printf("%" PRIu64 " TLS sessions shown up to STARTTLS only (%" PRIu64
             " recorded lines went inside TLS)\n",
             st.tls_sessions_hidden, st.tls_lines_hidden);
    if (st.dns_without_wire)
      printf("%" PRIu64 " DNS records without \"wire\" (an older trace): not shown\n",
             st.dns_without_wire);
  }
  status = fflush(stdout) == 0 ? 0 : 2;
out:
  g_byte_array_unref(out);
  g_string_free(keylog, TRUE);
  trace_reader_free(r);
  g_free(keylog_path);
  return status;
}
