/* spf_macro.h — SPF macro strings (RFC 7208 §7): syntax check and
 * expansion. Pure functions: the values of every macro letter are given by
 * the caller in an spf_macro_ctx (the %{p} value, which needs DNS, is worked
 * out by spf_check before expanding). */
#ifndef MAILSIM_SPF_MACRO_H
#define MAILSIM_SPF_MACRO_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *sender;        /* s: <sender> "local@domain" */
  const char *local;         /* l: local-part of <sender> */
  const char *sender_domain; /* o: domain of <sender> */
  const char *domain;        /* d: the current <domain> */
  const char *ip_dotted;     /* i: "192.0.2.1" or 32 dot-separated nibbles */
  const char *ip_text;       /* c: "192.0.2.1" or "2001:db8::1" */
  const char *ip_version;    /* v: "in-addr" or "ip6" */
  const char *helo;          /* h */
  const char *receiver;      /* r */
  const char *ptr_name;      /* p: validated name or "unknown"; NULL = not known yet */
  int64_t now_unix;          /* t */
} spf_macro_ctx;

/* True if S (LEN octets) is a valid macro-string (RFC 7208 §7.1): visible
 * ASCII, "%%", "%_", "%-" and "%{" letter *DIGIT ["r"] *delimiter "}" with
 * a letter among s l o d i p h v (and c r t when EXP, for explain-strings;
 * EXP also allows spaces). *ENDS_WITH_MACRO (may be NULL) tells whether the
 * last token is a macro-expand. */
bool spf_macro_valid(const char *s, size_t len, bool exp, bool *ends_with_macro);

/* True if the (valid) macro-string S uses the letter LETTER (either case). */
bool spf_macro_uses(const char *s, char letter);

/* Expands the macro-string S with CTX (§7.3, §7.4: transformers, reversal,
 * delimiters, URL escaping for upper-case letters). Returns a new string
 * (g_free it) or NULL if S is not valid per spf_macro_valid(EXP) or
 * CTX->ptr_name is NULL while S uses %{p}. Length truncation of domain
 * names is the caller's job (spf_macro_truncate_domain). */
char *spf_macro_expand(const char *s, const spf_macro_ctx *ctx, bool exp);

/* §7.3: when a domain-spec expands to more than 253 octets, labels are
 * removed from the left until it fits. Done in place. */
void spf_macro_truncate_domain(GString *domain);

#endif
