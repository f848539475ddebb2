/* dns_wire.h — DNS messages: the plain-data model, the RFC 1035 wire codec
 * with name compression and truncation, EDNS(0), and presentation text.
 *
 * Standards: RFC 1035 §3.2–3.4 and §4 (format, compression §4.1.4, UDP size
 * §4.2.1), RFC 2181 §9 (TC), RFC 3596 (AAAA), RFC 2782 (SRV), RFC 6891
 * (EDNS0), RFC 3597 (unknown types), RFC 9267 (decoder hardening).
 *
 * Usage, for a server host:
 *     dns_msg q;  dns_err e = dns_msg_decode(&q, buf, len);   // always clear q
 *     ... build a response dns_msg r (see dns_zone.h) ...
 *     dns_msg_encode(&r, out, dns_msg_udp_limit(&q, 1232), DNS_ENC_TRUNCATE, &res);
 * and for a resolver: build a query with dns_msg_init + dns_msg_add_question,
 * dns_msg_set_edns, encode it, decode the reply and read its sections.
 *
 * A dns_msg is plain data owned by its holder: dns_msg_init() it (or
 * dns_msg_new()), fill it, and dns_msg_clear() (or dns_msg_free()) it. The
 * EDNS OPT pseudo-record never appears in the sections: decoding moves it to
 * msg->edns and folds its extended RCODE into msg->rcode; encoding writes it
 * back as the last additional record. */
#ifndef MAILSIM_DNS_WIRE_H
#define MAILSIM_DNS_WIRE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_err.h"
#include "dns_name.h"

enum {
  DNS_HEADER_LEN = 12,
  DNS_UDP_MIN = 512, /* RFC 1035 §4.2.1: the UDP payload without EDNS */
};

/* Record types this codec understands; any other value is kept opaque. */
enum {
  DNS_T_A = 1,
  DNS_T_NS = 2,
  DNS_T_CNAME = 5,
  DNS_T_SOA = 6,
  DNS_T_PTR = 12,
  DNS_T_MX = 15,
  DNS_T_TXT = 16,
  DNS_T_AAAA = 28,
  DNS_T_SRV = 33,
  DNS_T_OPT = 41,
  DNS_T_ANY = 255,
};
enum { DNS_C_IN = 1, DNS_C_CH = 3, DNS_C_ANY = 255 };

typedef enum {
  DNS_OP_QUERY = 0,
  DNS_OP_IQUERY = 1,
  DNS_OP_STATUS = 2,
  DNS_OP_NOTIFY = 4,
  DNS_OP_UPDATE = 5,
} dns_opcode;

/* RCODE values; 0..15 fit the header, larger ones need EDNS (RFC 6891 §6.1.3). */
typedef enum {
  DNS_RCODE_NOERROR = 0,
  DNS_RCODE_FORMERR = 1,
  DNS_RCODE_SERVFAIL = 2,
  DNS_RCODE_NXDOMAIN = 3,
  DNS_RCODE_NOTIMP = 4,
  DNS_RCODE_REFUSED = 5,
  DNS_RCODE_YXDOMAIN = 6,
  DNS_RCODE_YXRRSET = 7,
  DNS_RCODE_NXRRSET = 8,
  DNS_RCODE_NOTAUTH = 9,
  DNS_RCODE_NOTZONE = 10,
  DNS_RCODE_BADVERS = 16,
} dns_rcode;

typedef enum {
  DNS_SEC_ANSWER = 0,
  DNS_SEC_AUTHORITY,
  DNS_SEC_ADDITIONAL,
  DNS_SEC_COUNT
} dns_section;

/* Mnemonic of a type ("MX"), or NULL if not one this codec knows. */
const char *dns_type_name(uint16_t type);
/* Mnemonic or "TYPE<n>" (RFC 3597 §5) into BUF of at least 16 octets. */
const char *dns_type_to_text(uint16_t type, char buf[16]);
/* Parses "MX", "mx" or "TYPE15"; false if unknown. */
bool dns_type_from_text(const char *text, uint16_t *type);
/* "IN", "CH", "ANY" or "CLASS<n>" into BUF of at least 16 octets. */
const char *dns_class_to_text(uint16_t rclass, char buf[16]);
/* "NOERROR", "NXDOMAIN", ... or "RCODE<n>" into BUF of at least 16 octets. */
const char *dns_rcode_to_text(unsigned rcode, char buf[16]);
/* "QUERY", "NOTIFY", ... or "OPCODE<n>"; never NULL. */
const char *dns_opcode_name(unsigned opcode);
/* "answer", "authority", "additional". */
const char *dns_section_name(dns_section s);

typedef struct {
  dns_name name;
  uint16_t type;
  uint16_t rclass;
} dns_question;

/* One resource record. Which member of rd is valid depends on type:
 *   A: a   AAAA: aaaa   NS/CNAME/PTR: name   MX: mx   SOA: soa   SRV: srv
 *   TXT: raw holds the RDATA (a sequence of <len><octets> strings), read it
 *        with dns_rr_txt_*; any other type: raw holds the opaque RDATA.
 * raw is owned by the record (g_malloc); dns_rr_clear frees it. */
typedef struct {
  dns_name owner;
  uint16_t type;
  uint16_t rclass;
  uint32_t ttl;
  union {
    uint8_t a[4];
    uint8_t aaaa[16];
    dns_name name;
    struct {
      uint16_t pref;
      dns_name exchange;
    } mx;
    struct {
      dns_name mname, rname;
      uint32_t serial, refresh, retry, expire, minimum;
    } soa;
    struct {
      uint16_t priority, weight, port;
      dns_name target;
    } srv;
  } rd;
  uint8_t *raw;
  uint16_t rawlen;
} dns_rr;

/* Fills RR with OWNER, TYPE, class IN and TTL, an empty RDATA. */
void dns_rr_init(dns_rr *rr, const dns_name *owner, uint16_t type, uint32_t ttl);
/* Frees what RR owns (raw) and leaves it empty; NULL is a no-op. */
void dns_rr_clear(dns_rr *rr);
/* Deep copy of SRC into DST (DST uninitialised). */
void dns_rr_copy(dns_rr *dst, const dns_rr *src);
/* Sets the opaque RDATA (copied): for TXT and unknown types. */
void dns_rr_set_raw(dns_rr *rr, const uint8_t *data, size_t len);
/* Appends one character-string to a TXT record (at most 255 octets; the
 * whole RDATA at most 65535). Returns DNS_ERR_SYNTAX if either is exceeded. */
dns_err dns_rr_txt_add(dns_rr *rr, const uint8_t *s, size_t len);
/* Number of strings in a TXT record and the I-th one (borrowed pointer into
 * raw). The strings of a decoded record are already validated. */
size_t dns_rr_txt_count(const dns_rr *rr);
const uint8_t *dns_rr_txt_get(const dns_rr *rr, size_t i, size_t *len);
/* True if A and B are the same record (owner case-folded, TTL ignored) —
 * the RRset-member identity of RFC 2181 §5. */
bool dns_rr_same_data(const dns_rr *a, const dns_rr *b);

/* Appends "owner TTL CLASS TYPE RDATA" (RFC 1035 §5.1 presentation; unknown
 * types as "\# len hex", RFC 3597 §5) to OUT, no newline. */
void dns_rr_append_text(const dns_rr *rr, GString *out);
/* Appends only the RDATA presentation. */
void dns_rr_append_rdata_text(const dns_rr *rr, GString *out);

/* Parses one record from presentation text "owner TTL [CLASS] TYPE RDATA"
 * (fields separated by blanks; TXT strings quoted or bare; "\# len hex" for
 * any type). Names must be absolute or are taken as absolute. For the zone
 * builder and tests. Returns DNS_OK and fills RR (dns_rr_clear it), else
 * DNS_ERR_SYNTAX (RR left empty). */
dns_err dns_rr_from_text(dns_rr *rr, const char *text);

/* EDNS(0) state of a message (RFC 6891 §6.1). Options are kept opaque:
 * options holds the OPT RDATA as received ({code, len, data}*). */
typedef struct {
  bool present;
  uint16_t udp_size; /* requestor's payload size (the OPT CLASS) */
  uint8_t version;
  bool do_bit;         /* DNSSEC OK, RFC 3225 */
  uint16_t z;          /* the other 15 flag bits, kept as received (DO excluded) */
  GByteArray *options; /* NULL when there are none */
} dns_edns;

typedef struct {
  uint16_t id;
  bool qr, aa, tc, rd, ra, z, ad, cd;
  uint8_t opcode;
  uint16_t rcode;             /* 12 bits: header RCODE | extended RCODE << 4 */
  /* Read the questions through dns_msg_qdcount/dns_msg_question_at and
   * the sections through dns_msg_count/dns_msg_rr. The first question is
   * held in place (most messages have one: no block per message); the
   * others, if any, in more_questions. Section arrays are NULL while
   * empty (made at their first entry). */
  guint qdcount;
  dns_question q0;
  GArray *more_questions;     /* of dns_question: questions 2..qdcount; NULL while none */
  GArray *sec[DNS_SEC_COUNT]; /* of dns_rr, cleared with dns_rr_clear */
  dns_edns edns;
} dns_msg;

void dns_msg_init(dns_msg *m);
void dns_msg_clear(dns_msg *m); /* frees the contents; M may be reused after init */
dns_msg *dns_msg_new(void);
void dns_msg_free(dns_msg *m); /* NULL is a no-op */

void dns_msg_add_question(dns_msg *m, const dns_name *name, uint16_t type, uint16_t rclass);
/* Appends a deep copy of RR to section S and returns the stored record
 * (valid until the section changes). RR of type OPT is a bug: use edns. */
dns_rr *dns_msg_add_rr(dns_msg *m, dns_section s, const dns_rr *rr);
/* Appends RR to section S taking ownership of its raw data (RR is left empty). */
dns_rr *dns_msg_take_rr(dns_msg *m, dns_section s, dns_rr *rr);
/* Number of questions (0 for an empty message). */
guint dns_msg_qdcount(const dns_msg *m);
/* Number of records in section S, and the I-th (borrowed). */
guint dns_msg_count(const dns_msg *m, dns_section s);
dns_rr *dns_msg_rr(const dns_msg *m, dns_section s, guint i);
/* The first question, or NULL. */
const dns_question *dns_msg_question(const dns_msg *m);
/* Question I (< dns_msg_qdcount), borrowed and writable (valid until a
 * question is added). */
dns_question *dns_msg_question_at(dns_msg *m, guint i);
/* Turns on EDNS with UDP_SIZE, version 0, DO bit as given, no options. */
void dns_msg_set_edns(dns_msg *m, uint16_t udp_size, bool do_bit);

/* The largest response a server may send over UDP to query Q (RFC 6891
 * §6.2.5, RFC 1035 §4.2.1): 512 without EDNS, else min(max(Q's udp_size,
 * 512), SERVER_MAX). */
size_t dns_msg_udp_limit(const dns_msg *q, size_t server_max);

/* Decodes LEN octets at BUF into M, which this function initialises (the
 * caller must dns_msg_clear M afterwards, success or not). Checks every count
 * against what the packet can hold before allocating, every RDLENGTH against
 * the parsed RDATA, names per dns_name_decode, at most one OPT (in the
 * additional section with the root owner), and no trailing bytes. On error M
 * is left empty except its header fields (when 12 octets were readable), so a
 * server can still answer FORMERR with the right id. */
dns_err dns_msg_decode(dns_msg *m, const uint8_t *buf, size_t len);

/* Reads just the header: id, flags, and the four counts. False if LEN < 12. */
typedef struct {
  uint16_t id, flags, qdcount, ancount, nscount, arcount;
} dns_header;
bool dns_header_peek(const uint8_t *buf, size_t len, dns_header *h);

enum {
  DNS_ENC_TRUNCATE = 1u << 0,    /* fit within the limit: drop records, maybe set TC */
  DNS_ENC_NO_COMPRESS = 1u << 1, /* write every name in full (tests, comparisons) */
};

typedef struct {
  size_t len;       /* octets written */
  bool tc;          /* TC was set by truncation */
  unsigned dropped; /* records left out (any section) */
} dns_enc_result;

/* Encodes M into BUF, which holds at least LIMIT octets (LIMIT <= 65535;
 * an RCODE above 15 without EDNS is a bug and aborts). Names in the
 * question and in the RDATA of NS, CNAME, PTR, MX and SOA are compressed
 * against earlier suffixes with identical octets, so case survives a round
 * trip exactly (RFC 1035 §4.1.4, RFC 4343 §4); SRV targets and unknown
 * types never are (RFC 2782, RFC 3597 §4). If the message is larger than
 * LIMIT: without DNS_ENC_TRUNCATE returns DNS_ERR_NOSPACE; with it,
 * additional records that do not fit are dropped silently, and if an answer
 * or authority RRset does not fit, that RRset and everything after it is
 * dropped and TC set (RFC 2181 §9). The OPT record is kept when EDNS is on
 * (RFC 6891 §7). DNS_ERR_NOSPACE if even the header, question and OPT do
 * not fit. RES receives the length written and what was dropped. */
dns_err dns_msg_encode(const dns_msg *m, uint8_t *buf, size_t limit, unsigned flags,
                       dns_enc_result *res);

/* A section as up to two runs of records, read in order (a response's
 * answer: the CNAME chain, then the final RRsets). */
typedef struct {
  const dns_rr *rrs[2];
  guint n[2]; /* records in each run; a run of 0 may have rrs NULL */
} dns_rr_runs;

/* dns_msg_encode of the message with M's header and EDNS, the QDCOUNT
 * questions at QS and the records of SECS (M's own question and section
 * arrays are not read): the same octets, without building the message. */
dns_err dns_msg_encode_parts(const dns_msg *m, const dns_question *qs, guint qdcount,
                             const dns_rr_runs secs[DNS_SEC_COUNT], uint8_t *buf, size_t limit,
                             unsigned flags, dns_enc_result *res);

/* Encodes the query dns_resp_make_query(ID, NAME, TYPE, RD, EDNS_SIZE)
 * would build (one IN question, an OPT with EDNS_SIZE unless 0, DO off)
 * into BUF of LIMIT octets, the same octets dns_msg_encode writes for it,
 * without building the message. Returns the length, or 0 if LIMIT is too
 * small. */
size_t dns_msg_encode_query(uint16_t id, const dns_name *name, uint16_t type, bool rd,
                            uint16_t edns_size, uint8_t *buf, size_t limit);

/* Appends a dig-like multi-line description of M to OUT: header line,
 * flags, EDNS line, then each section with one record per line. */
void dns_msg_append_text(const dns_msg *m, GString *out);

#endif
