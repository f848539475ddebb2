/* mime_addr.h — RFC 5322 §3.4 address lists: mailboxes with display
 * names, quoted local parts, comments, groups, and the obsolete forms of
 * §4.4 (routes, empty list elements, CFWS around dots). */
#ifndef MAILSIM_MIME_ADDR_H
#define MAILSIM_MIME_ADDR_H

#include <glib.h>

/* A list is a flat sequence: a group is GROUP_START, its mailboxes, and
 * GROUP_END (RFC 5322 §3.4 group). */
typedef enum {
  MIME_ADDR_MAILBOX,
  MIME_ADDR_GROUP_START,
  MIME_ADDR_GROUP_END,
  MIME_ADDR_COUNT
} mime_addr_kind;
const char *mime_addr_kind_name(mime_addr_kind k);

typedef struct {
  mime_addr_kind kind;
  /* Display name (mailbox) or group name: unquoted, comments dropped,
   * RFC 2047 words decoded, UTF-8. NULL when absent. */
  char *name;
  /* The same before RFC 2047 decoding (what IMAP ENVELOPE reports). */
  char *name_raw;
  /* obs-route "@a.test,@b.test" (RFC 5322 §4.4), or NULL. */
  char *route;
  /* Local part in canonical form: a dot-atom, or a quoted-string (quotes
   * kept) when it is not one. "" for the null path "<>". NULL for groups. */
  char *local;
  /* Domain (dot-atom or domain literal, CFWS removed); NULL if none. */
  char *domain;
} mime_addr;

/* Parses an unfolded address-list VALUE. Never fails: junk is skipped to
 * the next ',' or ';' and counted in *BAD (may be NULL). Returns a new
 * array of mime_addr* that frees its elements (g_ptr_array_unref). */
GPtrArray *mime_addr_parse(const char *value, guint *bad);

/* "local@domain" (or "local" when there is no domain); new string. */
char *mime_addr_spec(const mime_addr *a);

/* Writes LIST as a header field value: names that need it are quoted or
 * RFC 2047 encoded, items separated by ", ", groups as "name: a, b;",
 * folded with CRLF SP so that no line passes 78 octets when the value
 * starts at column FIRST_COL (e.g. strlen("To: ")). New string. */
char *mime_addr_format(const GPtrArray *list, gsize first_col);

/* Number of MAILBOX entries in LIST. */
guint mime_addr_count_mailboxes(const GPtrArray *list);

#endif
