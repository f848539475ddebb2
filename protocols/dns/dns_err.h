/* dns_err.h — error codes shared by the DNS wire, name, zone and framing
 * modules (protocols/dns).
 *
 * Every decoder and parser in protocols/dns reports bad input from outside
 * with one of these codes; none of them aborts on bad input. The decode
 * errors map one to one onto the bug classes of RFC 9267 so tests and trace
 * records can name the exact defect of a packet. */
#ifndef MAILSIM_DNS_ERR_H
#define MAILSIM_DNS_ERR_H

typedef enum {
  DNS_OK = 0,
  /* Wire decoding (RFC 1035 §4, RFC 9267). */
  DNS_ERR_SHORT,             /* the packet ends inside a field or a section */
  DNS_ERR_LABEL_TOO_LONG,    /* a label over 63 octets (RFC 1035 §2.3.4) */
  DNS_ERR_NAME_TOO_LONG,     /* a name over 255 octets (RFC 1035 §2.3.4) */
  DNS_ERR_LABEL_TYPE,        /* reserved label type 0x40 or 0x80 (RFC 6891 §5) */
  DNS_ERR_PTR_LOOP,          /* a compression pointer into the name being read */
  DNS_ERR_PTR_FORWARD,       /* a pointer to a later offset (RFC 9267 §2) */
  DNS_ERR_PTR_OUT_OF_BOUNDS, /* a pointer beyond the end of the packet */
  DNS_ERR_RDLENGTH,          /* RDLENGTH disagrees with the parsed RDATA */
  DNS_ERR_COUNT,             /* a section count larger than the packet can hold */
  DNS_ERR_TRAILING,          /* bytes left after the last section */
  DNS_ERR_OPT,               /* OPT misplaced, repeated or with a non-root owner */
  /* Encoding. */
  DNS_ERR_NOSPACE, /* the message does not fit and truncation was not allowed */
  /* Presentation format and API input. */
  DNS_ERR_SYNTAX,      /* text that is not a valid name or value */
  DNS_ERR_OUT_OF_ZONE, /* a record whose owner is not inside the zone */
  DNS_ERR_BAD_RR,      /* a record the zone cannot hold (e.g. CNAME beside other data) */
  DNS_ERR_COUNT_
} dns_err;

/* Stable lower-case name ("ptr_loop"), for traces and test messages. Never
 * NULL; out-of-range values give "unknown". */
const char *dns_err_name(dns_err e);

#endif
