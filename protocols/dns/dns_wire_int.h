/* dns_wire_int.h — internals shared by the files of the dns_wire module. */
#ifndef MAILSIM_DNS_WIRE_INT_H
#define MAILSIM_DNS_WIRE_INT_H

#include "dns_wire.h"

/* Decodes the RDATA of RR (type already set) at BUF[OFF, OFF+RDLEN) of the
 * LEN-octet message BUF; names may point anywhere before them in BUF. */
dns_err dns__rdata_decode(const uint8_t *buf, size_t len, size_t off, uint16_t rdlen, dns_rr *rr);

#endif
