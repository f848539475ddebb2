/* sieve_int.h — internals shared by the Sieve lexer, parser and
 * interpreter (prefix sieve__). */
#ifndef MAILSIM_SIEVE_INT_H
#define MAILSIM_SIEVE_INT_H

#include "sieve.h"

#include <stdint.h>

/* ---- lexer (sieve_lex.c) ---- */

typedef enum {
  SIEVE_TOK_EOF,
  SIEVE_TOK_IDENT,  /* text: lower-cased identifier */
  SIEVE_TOK_TAG,    /* text: lower-cased identifier without ':' */
  SIEVE_TOK_NUMBER, /* num */
  SIEVE_TOK_STRING, /* text: decoded content (quoted or multi-line) */
  SIEVE_TOK_LBRACKET,
  SIEVE_TOK_RBRACKET,
  SIEVE_TOK_LPAREN,
  SIEVE_TOK_RPAREN,
  SIEVE_TOK_LBRACE,
  SIEVE_TOK_RBRACE,
  SIEVE_TOK_COMMA,
  SIEVE_TOK_SEMICOLON,
  SIEVE_TOK_ERROR, /* text: the message */
  SIEVE_TOK_COUNT
} sieve_tok_kind;
const char *sieve__tok_name(sieve_tok_kind k);

typedef struct {
  sieve_tok_kind kind;
  guint line;
  GString *text;
  guint64 num;
} sieve_tok;

typedef struct {
  const char *p, *end;
  guint line;
} sieve_lexer;

void sieve__lex_init(sieve_lexer *lx, const char *text, gsize len);
/* Reads the next token into T (T->text must be a GString). */
void sieve__lex_next(sieve_lexer *lx, sieve_tok *t);

/* ---- the compiled script (sieve_parse.c builds, sieve_run.c runs) ---- */

typedef enum { SIEVE_PART_ALL, SIEVE_PART_LOCAL, SIEVE_PART_DOMAIN } sieve_part;

typedef enum {
  SIEVE_T_TRUE,
  SIEVE_T_FALSE,
  SIEVE_T_NOT,
  SIEVE_T_ALLOF,
  SIEVE_T_ANYOF,
  SIEVE_T_HEADER,
  SIEVE_T_ADDRESS,
  SIEVE_T_ENVELOPE,
  SIEVE_T_EXISTS,
  SIEVE_T_SIZE,
} sieve_test_kind;

typedef struct sieve_test sieve_test;
struct sieve_test {
  sieve_test_kind kind;
  guint line;
  GPtrArray *sub; /* of sieve_test*: NOT (one), ALLOF, ANYOF */
  sieve_match match;
  sieve_cmp cmp;
  sieve_part part;
  GPtrArray *names; /* header names / envelope parts (lower case) */
  GPtrArray *keys;
  gboolean over; /* SIZE: :over (else :under) */
  guint64 limit;
};

typedef enum {
  SIEVE_C_IF,
  SIEVE_C_KEEP,
  SIEVE_C_DISCARD,
  SIEVE_C_FILEINTO,
  SIEVE_C_REDIRECT,
  SIEVE_C_STOP
} sieve_cmd_kind;

typedef struct sieve_cmd sieve_cmd;
struct sieve_cmd {
  sieve_cmd_kind kind;
  guint line;
  char *arg; /* FILEINTO folder, REDIRECT address */
  /* IF: the conditions of if and each elsif, their blocks (GPtrArray of
   * sieve_cmd*), and the else block (or NULL). */
  GPtrArray *conds;  /* of sieve_test* */
  GPtrArray *blocks; /* of GPtrArray* */
  GPtrArray *else_block;
};

struct sieve_script {
  GPtrArray *cmds; /* of sieve_cmd* */
  guint ncmds;
};

void sieve__test_free(gpointer t);
void sieve__cmd_free(gpointer c);

#endif
