/* sieve_lex.c — the Sieve lexer (RFC 5228 §2.2–§2.4, §8.1 grammar):
 * identifiers and tags (case-insensitive, §2.5 / §8.1), numbers with the
 * K / M / G quantifiers (§2.4.1, powers of 1024), quoted strings with the
 * \" and \\ escapes where any other backslash is dropped (§2.4.2),
 * multi-line "text:" strings ending at a line holding a lone "." with
 * dot-stuffing undone (§2.4.2), "#" and bracketed comments (§2.3).
 * Lines end with CRLF or a bare LF (scripts written in JSON use LF).
 * Errors become an ERROR token carrying the line where the construct
 * started; the lexer never reads past the end of its input. */
#include "sieve_int.h"

#include <string.h>

const char *sieve__tok_name(sieve_tok_kind k) {
  static const char *const n[SIEVE_TOK_COUNT] = {
      "end of script", "identifier", "tag",   "number", "string", "\"[\"", "\"]\"",
      "\"(\"",         "\")\"",      "\"{\"", "\"}\"",  "\",\"",  "\";\"", "error"};
  return (unsigned)k < SIEVE_TOK_COUNT ? n[k] : "?";
}

void sieve__lex_init(sieve_lexer *lx, const char *text, gsize len) {
  lx->p = text;
  lx->end = text + len;
  lx->line = 1;
}

static void error(sieve_tok *t, guint line, const char *msg) {
  t->kind = SIEVE_TOK_ERROR;
  t->line = line;
  g_string_assign(t->text, msg);
}

static gboolean ident_start(char c) { return g_ascii_isalpha(c) || c == '_'; }

static gboolean ident_char(char c) { return g_ascii_isalnum(c) || c == '_'; }

/* Skips whitespace and comments; FALSE (and an error in T) for an
 * unterminated bracketed comment. */
static gboolean skip_space(sieve_lexer *lx, sieve_tok *t) {
  while (lx->p < lx->end) {
    char c = *lx->p;
    if (c == '\n') {
      lx->line++;
      lx->p++;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      lx->p++;
    } else if (c == '#') {
      while (lx->p < lx->end && *lx->p != '\n')
        lx->p++;
    } else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
      guint start = lx->line;
      lx->p += 2;
      for (;;) {
        if (lx->p + 1 >= lx->end) {
          lx->p = lx->end;
          error(t, start, "unterminated comment");
          return FALSE;
        }
        if (lx->p[0] == '*' && lx->p[1] == '/') {
          lx->p += 2;
          break;
        }
        if (*lx->p == '\n')
          lx->line++;
        lx->p++;
      }
    } else {
      break;
    }
  }
  return TRUE;
}

static void lex_quoted(sieve_lexer *lx, sieve_tok *t) {
  guint start = lx->line;
  lx->p++; /* opening quote */
  g_string_truncate(t->text, 0);
  while (lx->p < lx->end) {
    char c = *lx->p++;
    if (c == '"') {
      t->kind = SIEVE_TOK_STRING;
      t->line = start;
      return;
    }
    if (c == '\\') {
      if (lx->p >= lx->end)
        break;
      c = *lx->p++; /* "\x" is x for every x (§2.4.2) */
    }
    if (c == '\0') {
      error(t, lx->line, "NUL character in a string");
      return;
    }
    if (c == '\n')
      lx->line++;
    g_string_append_c(t->text, c);
  }
  error(t, start, "unterminated string");
}

static void lex_multiline(sieve_lexer *lx, sieve_tok *t) {
  guint start = lx->line;
  while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
    lx->p++;
  if (lx->p < lx->end && *lx->p == '#') {
    while (lx->p < lx->end && *lx->p != '\n')
      lx->p++;
  } else if (lx->p < lx->end && *lx->p == '\r') {
    lx->p++;
  }
  if (lx->p >= lx->end || *lx->p != '\n') {
    error(t, start, "expected the end of the line after \"text:\"");
    return;
  }
  lx->p++;
  lx->line++;
  g_string_truncate(t->text, 0);
  while (lx->p < lx->end) {
    const char *nl = memchr(lx->p, '\n', (gsize)(lx->end - lx->p));
    if (!nl)
      break;
    const char *le = nl > lx->p && nl[-1] == '\r' ? nl - 1 : nl; /* end of the line's text */
    const char *line = lx->p;
    lx->p = nl + 1;
    lx->line++;
    if (le - line == 1 && line[0] == '.') {
      t->kind = SIEVE_TOK_STRING;
      t->line = start;
      return;
    }
    if (line < le && line[0] == '.')
      line++; /* dot-stuffing */
    if (memchr(line, '\0', (gsize)(nl + 1 - line))) {
      error(t, lx->line - 1, "NUL character in a string");
      return;
    }
    g_string_append_len(t->text, line, nl + 1 - line);
  }
  lx->p = lx->end;
  error(t, start, "unterminated multi-line string (a line with a single \".\" ends it)");
}

static void lex_number(sieve_lexer *lx, sieve_tok *t) {
  guint64 v = 0;
  gboolean overflow = FALSE;
  while (lx->p < lx->end && g_ascii_isdigit(*lx->p)) {
    guint d = (guint)(*lx->p++ - '0');
    if (v > (G_MAXUINT64 - d) / 10)
      overflow = TRUE;
    else
      v = v * 10 + d;
  }
  if (lx->p < lx->end) {
    int shift = 0;
    switch (g_ascii_toupper(*lx->p)) {
    case 'K':
      shift = 10;
      break;
    case 'M':
      shift = 20;
      break;
    case 'G':
      shift = 30;
      break;
    default:
      break;
    }
    if (shift) {
      lx->p++;
      if (v > (G_MAXUINT64 >> shift))
        overflow = TRUE;
      else
        v <<= shift;
    }
  }
  if (overflow) {
    error(t, lx->line, "number too large");
    return;
  }
  t->kind = SIEVE_TOK_NUMBER;
  t->line = lx->line;
  t->num = v;
}

void sieve__lex_next(sieve_lexer *lx, sieve_tok *t) {
  t->num = 0;
  g_string_truncate(t->text, 0);
  if (!skip_space(lx, t))
    return;
  t->line = lx->line;
  if (lx->p >= lx->end) {
    t->kind = SIEVE_TOK_EOF;
    return;
  }
  char c = *lx->p;
  static const struct {
    char c;
    sieve_tok_kind k;
  } punct[] = {{'[', SIEVE_TOK_LBRACKET}, {']', SIEVE_TOK_RBRACKET}, {'(', SIEVE_TOK_LPAREN},
               {')', SIEVE_TOK_RPAREN},   {'{', SIEVE_TOK_LBRACE},   {'}', SIEVE_TOK_RBRACE},
               {',', SIEVE_TOK_COMMA},    {';', SIEVE_TOK_SEMICOLON}};
  for (guint i = 0; i < G_N_ELEMENTS(punct); i++) {
    if (c == punct[i].c) {
      lx->p++;
      t->kind = punct[i].k;
      return;
    }
  }
  if (c == '"') {
    lex_quoted(lx, t);
    return;
  }
  if (g_ascii_isdigit(c)) {
    lex_number(lx, t);
    return;
  }
  gboolean tag = c == ':';
  if (tag) {
    lx->p++;
    if (lx->p >= lx->end || !ident_start(*lx->p)) {
      error(t, lx->line, "expected a tag name after \":\"");
      return;
    }
  }
  if (ident_start(*lx->p)) {
    const char *s = lx->p;
    while (lx->p < lx->end && ident_char(*lx->p))
      lx->p++;
    for (const char *q = s; q < lx->p; q++)
      g_string_append_c(t->text, g_ascii_tolower(*q));
    if (!tag && g_str_equal(t->text->str, "text") && lx->p < lx->end && *lx->p == ':') {
      lx->p++;
      lex_multiline(lx, t);
      return;
    }
    t->kind = tag ? SIEVE_TOK_TAG : SIEVE_TOK_IDENT;
    return;
  }
  char msg[64];
  if ((guchar)c >= 0x21 && (guchar)c < 0x7f)
    g_snprintf(msg, sizeof msg, "unexpected character \"%c\"", c);
  else
    g_snprintf(msg, sizeof msg, "unexpected byte 0x%02X", (guchar)c);
  lx->p++;
  error(t, lx->line, msg);
}
