/* cmd_pcap.h — `mailsim pcap`: packets for Wireshark/tshark.
 *
 *   mailsim pcap TRACE OUT.pcap [--keylog FILE]
 *
 * Reads TRACE with the trace library only and writes OUT.pcap, a classic
 * libpcap file of every packet of the run as its sender put it on the
 * wire (traces/trace_pcap.h): exact from a trace at packet detail
 * (`mailsim run --detail packets`), rebuilt from the connections and
 * protocol lines of a trace at protocol detail (no TLS data, no message
 * bodies). --keylog writes the TLS secrets of a packet-detail run as an
 * SSLKEYLOGFILE, so Wireshark decrypts the TLS sessions
 * (`tshark -o tls.keylog_file:FILE`). Exit status: 0 done, 2 bad usage, an
 * unreadable or bad trace (message naming file:line), or an output that
 * could not be written (no partial OUT is left behind). */
#ifndef MAILSIM_CMD_PCAP_H
#define MAILSIM_CMD_PCAP_H

int cli_cmd_pcap(int argc, char **argv);

#endif
