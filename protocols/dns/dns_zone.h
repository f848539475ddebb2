/* dns_zone.h — in-memory authoritative zones and the authoritative answer
 * function (RFC 1034 §4.3.2, RFC 2308 §2–3, RFC 4592, RFC 6604, RFC 6891).
 *
 * A zone is built through the API (the scenario loader calls it): create it
 * with its origin, add the SOA and NS at the apex and any other records,
 * including NS for delegated children and their glue. The answer functions
 * are pure: a decoded query in, a response message out; no clock, no I/O.
 *
 * A DNS server host typically does, for each datagram or TCP frame:
 *     GByteArray *out = g_byte_array_new();
 *     if (dns_zone_respond_wire(zones, nzones, pkt, len, &cfg, is_tcp, out, NULL))
 *       send(out->data, out->len);    // over TCP: frame it with dns_tcp_frame
 * or works on messages with dns_zone_respond() when it wants to trace them.
 *
 * Zones are not thread-safe and not changed by answering, so several
 * server hosts may share one zone. */
#ifndef MAILSIM_DNS_ZONE_H
#define MAILSIM_DNS_ZONE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_err.h"
#include "dns_name.h"
#include "dns_wire.h"

typedef struct dns_zone dns_zone;

/* A new empty zone for ORIGIN (copied). */
dns_zone *dns_zone_new(const dns_name *origin);
void dns_zone_free(dns_zone *z); /* NULL is a no-op */
const dns_name *dns_zone_origin(const dns_zone *z);

/* Adds a copy of RR. Errors: DNS_ERR_OUT_OF_ZONE if the owner is not at or
 * below the origin; DNS_ERR_BAD_RR for a class other than IN, an OPT or ANY
 * record, an SOA not at the origin or a second SOA, or a CNAME sharing its
 * owner with other data or with another CNAME (RFC 1034 §3.6.2; RFC 2181
 * §10.1). An RR identical to one present is ignored (RFC 2181 §5), but its
 * TTL is kept for the RRset only if first. Empty non-terminals are created
 * for every name between the owner and the origin. */
dns_err dns_zone_add(dns_zone *z, const dns_rr *rr);
/* dns_rr_from_text then dns_zone_add. */
dns_err dns_zone_add_text(dns_zone *z, const char *text);

/* The SOA at the apex (borrowed), or NULL if none was added yet. A zone
 * without SOA answers every query with SERVFAIL. */
const dns_rr *dns_zone_soa(const dns_zone *z);

typedef struct {
  /* EDNS payload size this server advertises and accepts over UDP (RFC 6891
   * §6.2.5); 1232 is the common choice. 0 disables EDNS in responses. */
  uint16_t edns_size;
} dns_zone_cfg;

/* Answers query Q from whichever of the N ZONES is the closest enclosing
 * one, into R (which this function initialises; caller dns_msg_clears it).
 * Returns false if no response must be sent (Q is itself a response, QR=1).
 * Rules:
 *  - opcode other than QUERY: NOTIMP; qdcount != 1 or qtype OPT: FORMERR;
 *    AXFR/IXFR/MAILA/MAILB: NOTIMP; class not IN/ANY: REFUSED;
 *    EDNS version > 0: BADVERS (RFC 6891 §6.1.3);
 *  - a name in no zone: REFUSED; a zone without SOA: SERVFAIL;
 *  - data: AA, the RRset in the answer; CNAME chains are followed within the
 *    zone (up to 8 links), the rcode being that of the last name (RFC 6604);
 *  - below a zone cut: a referral, no AA, the child's NS in the authority
 *    section and their A/AAAA glue in the additional section;
 *  - NODATA (NOERROR, empty answer) and NXDOMAIN: AA and the SOA in the
 *    authority section with TTL min(SOA TTL, SOA MINIMUM) (RFC 2308 §3);
 *  - wildcards (RFC 4592 §3.3.1): "*.<closest encloser>" answers for names
 *    that do not exist, with the owner rewritten to the query name;
 *  - additional section: A/AAAA of MX, NS and SRV targets inside the zone.
 * The response copies id, opcode, RD and CD and the question; when Q had
 * EDNS the response has it too, with CFG's size and Q's DO bit. */
bool dns_zone_respond(dns_zone *const *zones, size_t n, const dns_zone_cfg *cfg, const dns_msg *q,
                      dns_msg *r);

/* The wire-level server step: decodes the query packet PKT of LEN octets,
 * answers it with dns_zone_respond (or FORMERR if it does not decode but
 * has a readable header that is not a response), and encodes the response
 * into OUT (appended). Over UDP (TCP false) the response is limited to
 * dns_msg_udp_limit() and truncated with TC if larger; over TCP to 65535.
 * Returns false, OUT unchanged, when nothing must be sent (shorter than a
 * header, or QR set). DECODE_ERR (may be NULL) receives the query's decode
 * result, for tracing. */
bool dns_zone_respond_wire(dns_zone *const *zones, size_t n, const dns_zone_cfg *cfg,
                           const uint8_t *pkt, size_t len, bool tcp, GByteArray *out,
                           dns_err *decode_err);

#endif
