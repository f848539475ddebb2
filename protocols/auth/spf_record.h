/* spf_record.h — SPF records (RFC 7208 §4.5 selection, §4.6 and §12 syntax):
 * recognising "v=spf1" records among TXT strings and parsing one into its
 * terms. Any syntax error anywhere makes the whole record invalid
 * (§4.6: "permerror"), whether or not the term would be evaluated. */
#ifndef MAILSIM_SPF_RECORD_H
#define MAILSIM_SPF_RECORD_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  SPF_TERM_ALL = 0,
  SPF_TERM_INCLUDE,
  SPF_TERM_A,
  SPF_TERM_MX,
  SPF_TERM_PTR,
  SPF_TERM_IP4,
  SPF_TERM_IP6,
  SPF_TERM_EXISTS,
  SPF_TERM_REDIRECT, /* modifiers from here */
  SPF_TERM_EXP,
  SPF_TERM_UNKNOWN_MOD,
  SPF_TERM_KIND_COUNT
} spf_term_kind;

/* "all", "include", ..., "redirect", "exp", "unknown-modifier". */
const char *spf_term_kind_name(spf_term_kind k);

typedef struct {
  spf_term_kind kind;
  char qualifier;    /* '+', '-', '~', '?' (mechanisms; '+' when omitted) */
  char *text;        /* the term as written (for mechanism= in Received-SPF) */
  char *domain_spec; /* include/a/mx/ptr/exists/redirect/exp; NULL if absent */
  int cidr4, cidr6;  /* a/mx/ip4/ip6 prefix lengths; -1 when absent */
  uint8_t addr[16];  /* ip4 (first 4 octets) / ip6 network */
} spf_term;

typedef struct {
  GArray *terms;    /* of spf_term, in record order (mechanisms and modifiers) */
  int redirect_idx; /* index of the redirect modifier or -1 */
  int exp_idx;      /* index of the exp modifier or -1 */
} spf_record;

/* True if TEXT (LEN octets) is an SPF record: "v=spf1" in any case followed
 * by a space or the end (§4.5). */
bool spf_record_is_spf(const char *text, size_t len);

/* Parses TEXT (LEN octets; an SPF record per spf_record_is_spf). Returns a
 * new record (spf_record_free it), or NULL with *PROBLEM (may be NULL) set
 * to a static description of the first syntax error. */
spf_record *spf_record_parse(const char *text, size_t len, const char **problem);
void spf_record_free(spf_record *r); /* NULL is a no-op */

/* True if S (LEN octets) is a domain-spec (§7.1): a valid macro-string
 * ending in "." toplabel ["."] or in a macro-expand. */
bool spf_domain_spec_valid(const char *s, size_t len);

#endif
