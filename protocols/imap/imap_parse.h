/* imap_parse.h — IMAP4rev1 command grammar (RFC 3501 §9; LITERAL+ RFC
 * 7888; UIDPLUS RFC 4315, MOVE RFC 6851, IDLE RFC 2177, NAMESPACE RFC
 * 2342, ID RFC 2971, ENABLE RFC 5161, UNSELECT RFC 3691 command forms).
 *
 * imap_cmd_parse() turns one command framed by imap_framer (its lines
 * without the final CRLF, literals in place as "{n}\r\n<n bytes>") into an
 * imap_cmd. It never aborts on peer input: a syntax error comes back as
 * NULL with a text and the tag when one could be read.
 */
#ifndef MAILSIM_IMAP_PARSE_H
#define MAILSIM_IMAP_PARSE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- parsed commands ---- */

typedef enum {
  IMAP_VERB_CAPABILITY,
  IMAP_VERB_NOOP,
  IMAP_VERB_LOGOUT,
  IMAP_VERB_STARTTLS,
  IMAP_VERB_AUTHENTICATE,
  IMAP_VERB_LOGIN,
  IMAP_VERB_SELECT,
  IMAP_VERB_EXAMINE,
  IMAP_VERB_CREATE,
  IMAP_VERB_DELETE,
  IMAP_VERB_RENAME,
  IMAP_VERB_SUBSCRIBE,
  IMAP_VERB_UNSUBSCRIBE,
  IMAP_VERB_LIST,
  IMAP_VERB_LSUB,
  IMAP_VERB_STATUS,
  IMAP_VERB_APPEND,
  IMAP_VERB_CHECK,
  IMAP_VERB_CLOSE,
  IMAP_VERB_UNSELECT,
  IMAP_VERB_EXPUNGE,
  IMAP_VERB_SEARCH,
  IMAP_VERB_FETCH,
  IMAP_VERB_STORE,
  IMAP_VERB_COPY,
  IMAP_VERB_MOVE,
  IMAP_VERB_IDLE,
  IMAP_VERB_NAMESPACE,
  IMAP_VERB_ID,
  IMAP_VERB_ENABLE,
  IMAP_VERB_COUNT
} imap_verb;
const char *imap_verb_name(imap_verb v);

/* One range of a sequence set; IMAP_STAR stands for "*" (RFC 3501 §9
 * seq-number). LO <= HI is not guaranteed ("4:2" is legal). */
#define IMAP_STAR UINT32_MAX
typedef struct {
  uint32_t lo, hi;
} imap_range;

typedef enum {
  IMAP_SK_ALL,
  IMAP_SK_ANSWERED,
  IMAP_SK_BCC,
  IMAP_SK_BEFORE,
  IMAP_SK_BODY,
  IMAP_SK_CC,
  IMAP_SK_DELETED,
  IMAP_SK_DRAFT,
  IMAP_SK_FLAGGED,
  IMAP_SK_FROM,
  IMAP_SK_HEADER,
  IMAP_SK_KEYWORD,
  IMAP_SK_LARGER,
  IMAP_SK_NEW,
  IMAP_SK_NOT,
  IMAP_SK_OLD,
  IMAP_SK_ON,
  IMAP_SK_OR,
  IMAP_SK_RECENT,
  IMAP_SK_SEEN,
  IMAP_SK_SENTBEFORE,
  IMAP_SK_SENTON,
  IMAP_SK_SENTSINCE,
  IMAP_SK_SINCE,
  IMAP_SK_SMALLER,
  IMAP_SK_SUBJECT,
  IMAP_SK_TEXT,
  IMAP_SK_TO,
  IMAP_SK_UID,
  IMAP_SK_UNANSWERED,
  IMAP_SK_UNDELETED,
  IMAP_SK_UNDRAFT,
  IMAP_SK_UNFLAGGED,
  IMAP_SK_UNKEYWORD,
  IMAP_SK_UNSEEN,
  IMAP_SK_SEQSET, /* a bare sequence set */
  IMAP_SK_AND,    /* a parenthesised list, or the top level */
  IMAP_SK_COUNT
} imap_search_kind;
const char *imap_search_kind_name(imap_search_kind k);

typedef struct imap_search_key {
  imap_search_kind kind;
  char *str;       /* string argument; HEADER: field name */
  char *str2;      /* HEADER: value */
  uint64_t num;    /* LARGER, SMALLER */
  int64_t day;     /* dates: days since 1970-01-01 */
  GArray *set;     /* UID, SEQSET: imap_range */
  GPtrArray *kids; /* NOT (1), OR (2), AND (n): imap_search_key* */
} imap_search_key;

typedef enum {
  IMAP_SEC_ALL, /* BODY[] or BODY[1.2] */
  IMAP_SEC_HEADER,
  IMAP_SEC_HEADER_FIELDS,
  IMAP_SEC_HEADER_FIELDS_NOT,
  IMAP_SEC_TEXT,
  IMAP_SEC_MIME,
  IMAP_SEC_COUNT
} imap_section_kind;

typedef enum {
  IMAP_FA_ENVELOPE,
  IMAP_FA_FLAGS,
  IMAP_FA_INTERNALDATE,
  IMAP_FA_RFC822,
  IMAP_FA_RFC822_HEADER,
  IMAP_FA_RFC822_SIZE,
  IMAP_FA_RFC822_TEXT,
  IMAP_FA_BODY, /* BODY without section: non-extensible structure */
  IMAP_FA_BODYSTRUCTURE,
  IMAP_FA_UID,
  IMAP_FA_SECTION, /* BODY[...] / BODY.PEEK[...] */
  IMAP_FA_COUNT
} imap_fetch_kind;

typedef struct {
  imap_fetch_kind kind;
  bool peek;
  imap_section_kind sec;
  GArray *part;      /* uint32_t part numbers; NULL when there are none */
  GPtrArray *fields; /* HEADER.FIELDS[.NOT]: upper-cased names */
  bool partial;
  uint32_t origin, count;
  char *spec; /* the section text as echoed in the response, e.g. "1.HEADER" */
} imap_fetch_att;

typedef struct {
  char tag[65]; /* RFC 3501 §9 tag; at most 64 octets here */
  imap_verb verb;
  bool uid;          /* UID FETCH/STORE/COPY/MOVE/SEARCH/EXPUNGE */
  char *arg1, *arg2; /* mailbox / new name / user, password / reference,
                        pattern / mechanism, initial response (arg2 NULL
                        if absent) */
  GArray *set;       /* imap_range: FETCH/STORE/COPY/MOVE/UID EXPUNGE */
  GPtrArray *list;   /* STATUS items, ENABLE names, STORE/APPEND flags,
                        ID field/value pairs (NULL value = NIL) */
  bool has_list;     /* APPEND: a flag list was given; ID: not NIL */
  char store_mode;   /* '+', '-', '=' */
  bool silent;
  GArray *fetch; /* imap_fetch_att */
  imap_search_key *search;
  char *charset;
  GBytes *message; /* APPEND */
  bool has_date;
  int64_t date_unix; /* APPEND date-time, seconds since 1970 UTC */
  /* Private: empty arrays kept by imap_cmd_recycle for the next parse. */
  GArray *keep_set, *keep_fetch;
  GPtrArray *keep_list;
} imap_cmd;

/* Parses one framed command. Returns NULL on a syntax error with *ERR set
 * to a static text and *TAG_OUT to the tag if one was read (g_free it);
 * the server answers "tag BAD err" (or "* BAD" without a tag). */
imap_cmd *imap_cmd_parse(const uint8_t *data, size_t len, char **tag_out, const char **err);
void imap_cmd_free(imap_cmd *c);
/* As imap_cmd_parse, in the struct and arrays of *SPARE when it is not
 * NULL (a command given to imap_cmd_recycle); *SPARE is NULL afterwards
 * (on a syntax error the storage goes back to it). The result is the same
 * command imap_cmd_parse returns, field for field. */
imap_cmd *imap_cmd_parse_spare(imap_cmd **spare, const uint8_t *data, size_t len, char **tag_out,
                               const char **err);
/* Lets go of what C holds, as imap_cmd_free does, but keeps its struct and
 * (emptied, unless they grew large) set, fetch and list arrays in *SPARE
 * for imap_cmd_parse_spare; frees C if *SPARE holds one already. C may be
 * NULL. imap_cmd_free(*SPARE) lets the spare go. */
void imap_cmd_recycle(imap_cmd **spare, imap_cmd *c);

/* Exposed for the server and tests. */
void imap_search_key_free(imap_search_key *k);
/* Parses "d-Mon-yyyy" into days since 1970; false if invalid. */
bool imap_parse_date(const char *s, int64_t *day);
/* Whether a sequence set of RANGES contains N, with "*" = MAX. */
bool imap_set_contains(const GArray *ranges, uint32_t n, uint32_t max);

#endif
