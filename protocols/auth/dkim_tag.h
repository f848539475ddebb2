/* dkim_tag.h — DKIM tag=value lists (RFC 6376 §3.2), used by signatures
 * (§3.5), key records (§3.6.1) and, with the same grammar, DMARC records
 * (RFC 7489 §6.3). */
#ifndef MAILSIM_DKIM_TAG_H
#define MAILSIM_DKIM_TAG_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
  char *name;  /* tag name as written */
  char *value; /* value with surrounding FWS removed (inner FWS kept) */
} dkim_tag;

typedef struct {
  GArray *tags; /* of dkim_tag, in order */
  bool fold;    /* names compared ignoring case */
} dkim_tag_list;

/* Parses TEXT (LEN octets): tag-spec *( ";" tag-spec ) [ ";" ], each
 * tag-spec [FWS] name [FWS] "=" [FWS] value [FWS]; names ALPHA
 * *(ALPHA/DIGIT/"_"); values of VCHAR and FWS except ";". Returns false
 * (LIST left empty) on a syntax error or a duplicate name (§3.2: "Tags with
 * duplicate names MUST NOT occur"). CASE_FOLD compares names ignoring case
 * (DMARC), else exactly (DKIM names are case-sensitive). Always
 * dkim_tag_list_clear LIST. */
bool dkim_tag_list_parse(dkim_tag_list *list, const char *text, size_t len, bool case_fold);
void dkim_tag_list_clear(dkim_tag_list *list);
/* Value of tag NAME, or NULL (borrowed). */
const char *dkim_tag_get(const dkim_tag_list *list, const char *name);
/* The name of the first tag, or NULL. */
const char *dkim_tag_first(const dkim_tag_list *list);

/* Copy of S with all FWS (SP, HTAB, CR, LF) removed: for base64 values. */
char *dkim_tag_strip_fws(const char *s);

#endif
