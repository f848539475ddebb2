/* dns_resp.h — what a response means to a resolver (RFC 1034 §5.3.3,
 * RFC 2308 §2, RFC 5452 §9 for matching).
 *
 * A recursive resolver engine sends a query Q to a server for zone ZONE
 * (the delegation it is following, "." at the root) and gets a response R;
 * dns_resp_classify() tells it what to do next:
 *   MISMATCH  not a response to Q (id, QR or question differ): ignore it,
 *             keep waiting (RFC 5452 §9.1);
 *   TRUNCATED TC set: ask the same server again over TCP (RFC 7766 §5);
 *   ERROR     SERVFAIL, REFUSED, FORMERR, NOTIMP, ...: try another server;
 *   ANSWER    the answer section holds the RRset of info.final_name (after
 *             info.cnames CNAME links from the question name);
 *   CNAME     the chain leaves this response at info.final_name: restart
 *             the resolution for that name (count links against a limit);
 *   NXDOMAIN  info.final_name does not exist; cache for info.neg_ttl;
 *   NODATA    it exists without that type; cache for info.neg_ttl;
 *   REFERRAL  go on to the child zone info.referral (its NS are in the
 *             authority section, glue maybe in the additional section);
 *   LAME      a referral that does not lead downwards from ZONE, or an empty
 *             non-authoritative response: treat the server as broken.
 * Nothing here allocates or keeps pointers into Q or R. */
#ifndef MAILSIM_DNS_RESP_H
#define MAILSIM_DNS_RESP_H

#include <stdint.h>

#include "dns_name.h"
#include "dns_wire.h"

typedef enum {
  DNS_RESP_MISMATCH,
  DNS_RESP_TRUNCATED,
  DNS_RESP_ERROR,
  DNS_RESP_ANSWER,
  DNS_RESP_CNAME,
  DNS_RESP_NXDOMAIN,
  DNS_RESP_NODATA,
  DNS_RESP_REFERRAL,
  DNS_RESP_LAME,
  DNS_RESP_COUNT
} dns_resp_kind;

/* "answer", "referral", ... ; "unknown" out of range. */
const char *dns_resp_kind_name(dns_resp_kind k);

typedef struct {
  dns_name final_name; /* the question name after following CNAMEs in R */
  int cnames;          /* CNAME links followed inside R */
  uint32_t neg_ttl;    /* NXDOMAIN/NODATA: min(SOA TTL, SOA MINIMUM), 0 without SOA */
  dns_name referral;   /* REFERRAL: the child zone */
} dns_resp_info;

/* Classifies response R to query Q (one question) sent to a server for
 * ZONE. INFO may be NULL. CNAME chains inside R are followed up to 16 links
 * (a longer or looping chain is ERROR). */
dns_resp_kind dns_resp_classify(const dns_msg *q, const dns_msg *r, const dns_name *zone,
                                dns_resp_info *info);

/* The same for a query kept as only what matches its response: id ID,
 * opcode QUERY, one question NAME/TYPE/IN (what dns_resp_make_query
 * builds): a resolver need not keep the decoded query while it waits. */
dns_resp_kind dns_resp_classify_query(uint16_t id, const dns_name *name, uint16_t type,
                                      const dns_msg *r, const dns_name *zone, dns_resp_info *info);

/* Fills M (dns_msg_init is done here) as a query: ID (the caller draws it
 * from its random stream), one question NAME/TYPE/IN, RD as given, and EDNS
 * with EDNS_SIZE when that is non-zero. */
void dns_resp_make_query(dns_msg *m, uint16_t id, const dns_name *name, uint16_t type, bool rd,
                         uint16_t edns_size);

#endif
