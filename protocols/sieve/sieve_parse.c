/* sieve_parse.c — the Sieve grammar (RFC 5228 §8.2) read into a generic
 * tree (command = identifier arguments (";" / block); arguments =
 * *argument [test / test-list]), then checked and compiled command by
 * command into sieve_cmd / sieve_test (sieve_int.h).
 *
 * Checks, with the rule they follow:
 *  - require only at the start of the script (§3.2), naming supported
 *    capabilities only ("fileinto", "envelope", "comparator-i;octet",
 *    "comparator-i;ascii-casemap"); fileinto and envelope only after
 *    their require (§3.2, §2.10.5),
 *  - elsif / else only right after if / elsif (§3.1),
 *  - tagged arguments before positional ones, each at most once, the match
 *    type, comparator and address part among the known ones (§2.6.2, §2.7),
 *  - fileinto / redirect take one string (§4.1, §4.2); a redirect address
 *    must be a valid RFC 5322 addr-spec (§4.2),
 *  - header names must be valid field names (§5.7 / RFC 5322 §3.6.8),
 *  - envelope parts are "from" or "to" (§5.4),
 *  - size takes exactly one of :over / :under and a number (§5.9).
 * Every error reports the line of the offending token. Nesting is capped
 * (SIEVE_MAX_DEPTH) so that no input can exhaust the stack. */
#include "sieve_int.h"

#include <stdarg.h>
#include <string.h>

#include "mime_addr.h"

#define SIEVE_MAX_DEPTH 64

/* ---- generic tree ---- */

typedef enum { PA_STRINGS, PA_NUMBER, PA_TAG } parg_kind;

typedef struct {
  parg_kind kind;
  guint line;
  GPtrArray *strs;    /* PA_STRINGS */
  gboolean bracketed; /* written as [ ... ] */
  guint64 num;
  char *tag;
} parg;

typedef struct pnode pnode;
struct pnode {
  char *name;
  guint line;
  GPtrArray *args;    /* of parg* */
  GPtrArray *tests;   /* of pnode* */
  gboolean test_list; /* tests were written as ( ... ) */
  GPtrArray *block;   /* of pnode*, NULL when the command ended with ';' */
};

static void parg_free(gpointer p) {
  parg *a = p;
  if (a->strs)
    g_ptr_array_free(a->strs, TRUE);
  g_free(a->tag);
  g_free(a);
}

static void pnode_free(gpointer p) {
  pnode *n = p;
  if (!n)
    return;
  g_free(n->name);
  g_ptr_array_free(n->args, TRUE);
  g_ptr_array_free(n->tests, TRUE);
  if (n->block)
    g_ptr_array_free(n->block, TRUE);
  g_free(n);
}

static pnode *pnode_new(const char *name, guint line) {
  pnode *n = g_new0(pnode, 1);
  n->name = g_strdup(name);
  n->line = line;
  n->args = g_ptr_array_new_with_free_func(parg_free);
  n->tests = g_ptr_array_new_with_free_func(pnode_free);
  return n;
}

typedef struct {
  sieve_lexer lx;
  sieve_tok tok;
  char *err;
  guint depth;
} parser;

static void advance(parser *p) {
  sieve__lex_next(&p->lx, &p->tok);
  if (p->tok.kind == SIEVE_TOK_ERROR && !p->err)
    p->err = g_strdup_printf("line %u: %s", p->tok.line, p->tok.text->str);
}

G_GNUC_PRINTF(3, 4)
static void fail(parser *p, guint line, const char *fmt, ...) {
  if (p->err)
    return;
  va_list ap;
  va_start(ap, fmt);
  char *m = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  p->err = g_strdup_printf("line %u: %s", line, m);
  g_free(m);
}

static void unexpected(parser *p, const char *what) {
  if (p->tok.kind == SIEVE_TOK_IDENT || p->tok.kind == SIEVE_TOK_TAG)
    fail(p, p->tok.line, "expected %s, got %s \"%s\"", what, sieve__tok_name(p->tok.kind),
         p->tok.text->str);
  else
    fail(p, p->tok.line, "expected %s, got %s", what, sieve__tok_name(p->tok.kind));
}

static gboolean expect(parser *p, sieve_tok_kind k, const char *what) {
  if (p->err)
    return FALSE;
  if (p->tok.kind != k) {
    unexpected(p, what);
    return FALSE;
  }
  advance(p);
  return !p->err;
}

static pnode *parse_test(parser *p);

static GPtrArray *parse_string_list(parser *p, gboolean *bracketed) {
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  if (p->tok.kind == SIEVE_TOK_STRING) {
    *bracketed = FALSE;
    g_ptr_array_add(a, g_strdup(p->tok.text->str));
    advance(p);
    return a;
  }
  *bracketed = TRUE;
  advance(p); /* '[' */
  for (;;) {
    if (p->err)
      break;
    if (p->tok.kind != SIEVE_TOK_STRING) {
      unexpected(p, "a string in the list");
      break;
    }
    g_ptr_array_add(a, g_strdup(p->tok.text->str));
    advance(p);
    if (p->tok.kind == SIEVE_TOK_COMMA) {
      advance(p);
      continue;
    }
    expect(p, SIEVE_TOK_RBRACKET, "\",\" or \"]\"");
    break;
  }
  return a;
}

/* arguments = *argument [ test / test-list ] */
static void parse_arguments(parser *p, pnode *n) {
  while (!p->err) {
    sieve_tok_kind k = p->tok.kind;
    if (k == SIEVE_TOK_STRING || k == SIEVE_TOK_LBRACKET) {
      parg *a = g_new0(parg, 1);
      a->kind = PA_STRINGS;
      a->line = p->tok.line;
      a->strs = parse_string_list(p, &a->bracketed);
      g_ptr_array_add(n->args, a);
    } else if (k == SIEVE_TOK_NUMBER || k == SIEVE_TOK_TAG) {
      parg *a = g_new0(parg, 1);
      a->kind = k == SIEVE_TOK_NUMBER ? PA_NUMBER : PA_TAG;
      a->line = p->tok.line;
      a->num = p->tok.num;
      if (k == SIEVE_TOK_TAG)
        a->tag = g_strdup(p->tok.text->str);
      g_ptr_array_add(n->args, a);
      advance(p);
    } else {
      break;
    }
  }
  if (p->err)
    return;
  if (p->tok.kind == SIEVE_TOK_IDENT) {
    pnode *t = parse_test(p);
    if (t)
      g_ptr_array_add(n->tests, t);
  } else if (p->tok.kind == SIEVE_TOK_LPAREN) {
    n->test_list = TRUE;
    advance(p);
    while (!p->err) {
      if (p->tok.kind != SIEVE_TOK_IDENT) {
        unexpected(p, "a test");
        break;
      }
      pnode *t = parse_test(p);
      if (t)
        g_ptr_array_add(n->tests, t);
      if (p->err)
        break;
      if (p->tok.kind == SIEVE_TOK_COMMA) {
        advance(p);
        continue;
      }
      expect(p, SIEVE_TOK_RPAREN, "\",\" or \")\"");
      break;
    }
  }
}

static pnode *parse_test(parser *p) {
  if (++p->depth > SIEVE_MAX_DEPTH) {
    fail(p, p->tok.line, "nesting deeper than %d", SIEVE_MAX_DEPTH);
    p->depth--;
    return NULL;
  }
  pnode *n = pnode_new(p->tok.text->str, p->tok.line);
  advance(p);
  parse_arguments(p, n);
  p->depth--;
  return n;
}

static GPtrArray *parse_commands(parser *p, gboolean in_block);

static pnode *parse_command(parser *p) {
  pnode *n = pnode_new(p->tok.text->str, p->tok.line);
  advance(p);
  parse_arguments(p, n);
  if (p->err)
    return n;
  if (p->tok.kind == SIEVE_TOK_SEMICOLON) {
    advance(p);
  } else if (p->tok.kind == SIEVE_TOK_LBRACE) {
    if (++p->depth > SIEVE_MAX_DEPTH) {
      fail(p, p->tok.line, "nesting deeper than %d", SIEVE_MAX_DEPTH);
      p->depth--;
      return n;
    }
    advance(p);
    n->block = parse_commands(p, TRUE);
    p->depth--;
    expect(p, SIEVE_TOK_RBRACE, "\"}\"");
  } else {
    unexpected(p, "\";\" or \"{\"");
  }
  return n;
}

static GPtrArray *parse_commands(parser *p, gboolean in_block) {
  GPtrArray *a = g_ptr_array_new_with_free_func(pnode_free);
  while (!p->err) {
    if (p->tok.kind == SIEVE_TOK_EOF || (in_block && p->tok.kind == SIEVE_TOK_RBRACE))
      break;
    if (p->tok.kind != SIEVE_TOK_IDENT) {
      unexpected(p, in_block ? "a command or \"}\"" : "a command");
      break;
    }
    g_ptr_array_add(a, parse_command(p));
  }
  return a;
}

/* ---- compiling ---- */

typedef struct {
  parser *p;
  gboolean cap_fileinto, cap_envelope;
  gboolean requires_allowed;
  guint ncmds;
} compiler;

void sieve__test_free(gpointer tp) {
  sieve_test *t = tp;
  if (!t)
    return;
  if (t->sub)
    g_ptr_array_free(t->sub, TRUE);
  if (t->names)
    g_ptr_array_free(t->names, TRUE);
  if (t->keys)
    g_ptr_array_free(t->keys, TRUE);
  g_free(t);
}

void sieve__cmd_free(gpointer cp) {
  sieve_cmd *c = cp;
  if (!c)
    return;
  g_free(c->arg);
  if (c->conds)
    g_ptr_array_free(c->conds, TRUE);
  if (c->blocks)
    g_ptr_array_free(c->blocks, TRUE);
  if (c->else_block)
    g_ptr_array_free(c->else_block, TRUE);
  g_free(c);
}

static void free_block(gpointer b) { g_ptr_array_free(b, TRUE); }

/* Tagged arguments of one test, collected. */
typedef struct {
  gboolean has_match, has_cmp, has_part, has_size;
  sieve_match match;
  sieve_cmp cmp;
  sieve_part part;
  gboolean over;
  GPtrArray *pos; /* positional parg* (borrowed) */
} targs;

/* Splits N's arguments; ALLOW_* say which tags the test takes. */
static gboolean collect(compiler *c, const pnode *n, gboolean allow_mc, gboolean allow_part,
                        gboolean allow_size, targs *ta) {
  parser *p = c->p;
  memset(ta, 0, sizeof *ta);
  ta->match = SIEVE_MATCH_IS;
  ta->cmp = SIEVE_CMP_ASCII_CASEMAP;
  ta->part = SIEVE_PART_ALL;
  ta->pos = g_ptr_array_new();
  for (guint i = 0; i < n->args->len; i++) {
    const parg *a = n->args->pdata[i];
    if (a->kind != PA_TAG) {
      g_ptr_array_add(ta->pos, (gpointer)a);
      continue;
    }
    if (ta->pos->len) {
      fail(p, a->line, "tag \":%s\" after the positional arguments of %s", a->tag, n->name);
      return FALSE;
    }
    const char *t = a->tag;
    gboolean *seen = NULL;
    if (allow_mc &&
        (g_str_equal(t, "is") || g_str_equal(t, "contains") || g_str_equal(t, "matches"))) {
      seen = &ta->has_match;
      ta->match = t[0] == 'i'   ? SIEVE_MATCH_IS
                  : t[0] == 'c' ? SIEVE_MATCH_CONTAINS
                                : SIEVE_MATCH_MATCHES;
    } else if (allow_mc && g_str_equal(t, "comparator")) {
      seen = &ta->has_cmp;
      const parg *v = i + 1 < n->args->len ? n->args->pdata[i + 1] : NULL;
      if (!v || v->kind != PA_STRINGS || v->strs->len != 1 || v->bracketed) {
        fail(p, a->line, ":comparator needs a comparator name (a string)");
        return FALSE;
      }
      const char *name = v->strs->pdata[0];
      if (g_ascii_strcasecmp(name, "i;ascii-casemap") == 0) {
        ta->cmp = SIEVE_CMP_ASCII_CASEMAP;
      } else if (g_ascii_strcasecmp(name, "i;octet") == 0) {
        ta->cmp = SIEVE_CMP_OCTET;
      } else {
        fail(p, v->line, "unsupported comparator \"%s\"", name);
        return FALSE;
      }
      i++;
    } else if (allow_part &&
               (g_str_equal(t, "all") || g_str_equal(t, "localpart") || g_str_equal(t, "domain"))) {
      seen = &ta->has_part;
      ta->part = t[0] == 'a' ? SIEVE_PART_ALL : t[0] == 'l' ? SIEVE_PART_LOCAL : SIEVE_PART_DOMAIN;
    } else if (allow_size && (g_str_equal(t, "over") || g_str_equal(t, "under"))) {
      seen = &ta->has_size;
      ta->over = t[0] == 'o';
    } else {
      fail(p, a->line, "unknown tag \":%s\" for %s", t, n->name);
      return FALSE;
    }
    if (*seen) {
      fail(p, a->line, "%s given twice for %s",
           allow_size ? ":over/:under" : "the same kind of tag", n->name);
      return FALSE;
    }
    *seen = TRUE;
  }
  return TRUE;
}

static gboolean want_positional(compiler *c, const pnode *n, const targs *ta, guint count,
                                const char *what) {
  if (ta->pos->len != count) {
    fail(c->p, n->line, "%s takes %s", n->name, what);
    return FALSE;
  }
  return TRUE;
}

static GPtrArray *take_strings(const parg *a, gboolean lower) {
  GPtrArray *r = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < a->strs->len; i++)
    g_ptr_array_add(r,
                    lower ? g_ascii_strdown(a->strs->pdata[i], -1) : g_strdup(a->strs->pdata[i]));
  return r;
}

static gboolean valid_field_name(const char *s) {
  if (!*s)
    return FALSE;
  for (const guchar *q = (const guchar *)s; *q; q++)
    if (*q < 33 || *q > 126 || *q == ':')
      return FALSE;
  return TRUE;
}

/* RFC 5228 §5.1: the address test is restricted to fields that hold
 * addresses; it MUST accept From, To, Cc, Bcc, Sender, Resent-From and
 * Resent-To, and SHOULD accept the other address-list fields (RFC 5322
 * §3.6.2, §3.6.3, §3.6.6 and the common list / MUA ones). */
static gboolean address_field(const char *lc) {
  static const char *const ok[] = {"from",
                                   "to",
                                   "cc",
                                   "bcc",
                                   "sender",
                                   "resent-from",
                                   "resent-to",
                                   "reply-to",
                                   "resent-sender",
                                   "resent-cc",
                                   "resent-bcc",
                                   "resent-reply-to",
                                   "mail-followup-to",
                                   "mail-reply-to",
                                   "errors-to",
                                   "delivered-to",
                                   "apparently-to",
                                   "return-receipt-to",
                                   "disposition-notification-to"};
  for (guint i = 0; i < G_N_ELEMENTS(ok); i++)
    if (g_str_equal(lc, ok[i]))
      return TRUE;
  return FALSE;
}

static sieve_test *compile_test(compiler *c, const pnode *n);

static sieve_test *compile_test_inner(compiler *c, const pnode *n, targs *ta) {
  parser *p = c->p;
  const char *name = n->name;
  sieve_test *t = g_new0(sieve_test, 1);
  t->line = n->line;
  gboolean is_logic =
      g_str_equal(name, "not") || g_str_equal(name, "allof") || g_str_equal(name, "anyof");
  if (!is_logic && n->tests->len) {
    fail(p, n->line, "%s does not take tests", name);
    return t;
  }
  if (g_str_equal(name, "true") || g_str_equal(name, "false")) {
    t->kind = name[0] == 't' ? SIEVE_T_TRUE : SIEVE_T_FALSE;
    if (collect(c, n, FALSE, FALSE, FALSE, ta))
      want_positional(c, n, ta, 0, "no arguments");
  } else if (is_logic) {
    t->kind = name[0] == 'n' ? SIEVE_T_NOT : name[1] == 'l' ? SIEVE_T_ALLOF : SIEVE_T_ANYOF;
    if (!collect(c, n, FALSE, FALSE, FALSE, ta) || !want_positional(c, n, ta, 0, "only tests"))
      return t;
    if (t->kind == SIEVE_T_NOT && (n->test_list || n->tests->len != 1)) {
      fail(p, n->line, "not takes one test");
      return t;
    }
    if (t->kind != SIEVE_T_NOT && (!n->test_list || n->tests->len == 0)) {
      fail(p, n->line, "%s takes a list of tests in parentheses", name);
      return t;
    }
    t->sub = g_ptr_array_new_with_free_func(sieve__test_free);
    for (guint i = 0; i < n->tests->len && !p->err; i++)
      g_ptr_array_add(t->sub, compile_test(c, n->tests->pdata[i]));
  } else if (g_str_equal(name, "header") || g_str_equal(name, "address") ||
             g_str_equal(name, "envelope")) {
    t->kind = name[0] == 'h' ? SIEVE_T_HEADER : name[0] == 'a' ? SIEVE_T_ADDRESS : SIEVE_T_ENVELOPE;
    if (t->kind == SIEVE_T_ENVELOPE && !c->cap_envelope) {
      fail(p, n->line, "envelope used without require \"envelope\"");
      return t;
    }
    if (!collect(c, n, TRUE, t->kind != SIEVE_T_HEADER, FALSE, ta))
      return t;
    const char *what = t->kind == SIEVE_T_ENVELOPE ? "a list of envelope parts and a list of keys"
                                                   : "a list of header names and a list of keys";
    if (!want_positional(c, n, ta, 2, what))
      return t;
    const parg *a0 = ta->pos->pdata[0], *a1 = ta->pos->pdata[1];
    if (a0->kind != PA_STRINGS || a1->kind != PA_STRINGS) {
      fail(p, n->line, "%s takes %s", name, what);
      return t;
    }
    t->match = ta->match;
    t->cmp = ta->cmp;
    t->part = ta->part;
    t->names = take_strings(a0, TRUE);
    t->keys = take_strings(a1, FALSE);
    for (guint i = 0; i < t->names->len; i++) {
      const char *h = t->names->pdata[i];
      if (t->kind == SIEVE_T_ENVELOPE ? !(g_str_equal(h, "from") || g_str_equal(h, "to"))
                                      : !valid_field_name(h)) {
        fail(p, a0->line,
             t->kind == SIEVE_T_ENVELOPE ? "unsupported envelope part \"%s\""
                                         : "invalid header name \"%s\"",
             (const char *)a0->strs->pdata[i]);
        return t;
      }
      if (t->kind == SIEVE_T_ADDRESS && !address_field(h)) {
        fail(p, a0->line, "header \"%s\" holds no addresses: not allowed in the address test",
             (const char *)a0->strs->pdata[i]);
        return t;
      }
    }
  } else if (g_str_equal(name, "exists")) {
    t->kind = SIEVE_T_EXISTS;
    if (!collect(c, n, FALSE, FALSE, FALSE, ta) ||
        !want_positional(c, n, ta, 1, "a list of header names"))
      return t;
    const parg *a0 = ta->pos->pdata[0];
    if (a0->kind != PA_STRINGS) {
      fail(p, n->line, "exists takes a list of header names");
      return t;
    }
    t->names = take_strings(a0, TRUE);
    for (guint i = 0; i < t->names->len; i++)
      if (!valid_field_name(t->names->pdata[i])) {
        fail(p, a0->line, "invalid header name \"%s\"", (const char *)a0->strs->pdata[i]);
        return t;
      }
  } else if (g_str_equal(name, "size")) {
    t->kind = SIEVE_T_SIZE;
    if (!collect(c, n, FALSE, FALSE, TRUE, ta))
      return t;
    const parg *a0 = ta->pos->len == 1 ? ta->pos->pdata[0] : NULL;
    if (!ta->has_size || !a0 || a0->kind != PA_NUMBER) {
      fail(p, n->line, "size takes :over or :under and a number");
      return t;
    }
    t->over = ta->over;
    t->limit = a0->num;
  } else {
    fail(p, n->line, "unknown test \"%s\"", name);
  }
  return t;
}

static sieve_test *compile_test(compiler *c, const pnode *n) {
  targs ta = {0};
  sieve_test *t = compile_test_inner(c, n, &ta);
  if (ta.pos)
    g_ptr_array_free(ta.pos, TRUE);
  return t;
}

/* The single string argument of fileinto / redirect. */
static const char *one_string(compiler *c, const pnode *n) {
  if (n->tests->len) {
    fail(c->p, n->line, "%s does not take tests", n->name);
    return NULL;
  }
  if (n->args->len != 1) {
    fail(c->p, n->line, "%s takes one string", n->name);
    return NULL;
  }
  const parg *a = n->args->pdata[0];
  if (a->kind != PA_STRINGS || a->bracketed || a->strs->len != 1) {
    fail(c->p, a->line, "%s takes one string", n->name);
    return NULL;
  }
  return a->strs->pdata[0];
}

static char *redirect_address(const char *s) {
  guint bad = 0;
  GPtrArray *l = mime_addr_parse(s, &bad);
  char *spec = NULL;
  if (bad == 0 && l->len == 1) {
    const mime_addr *a = l->pdata[0];
    if (a->kind == MIME_ADDR_MAILBOX && a->local && a->local[0] && a->domain && a->domain[0])
      spec = mime_addr_spec(a);
  }
  g_ptr_array_unref(l);
  return spec;
}

static GPtrArray *compile_block(compiler *c, GPtrArray *nodes, gboolean top);

static sieve_cmd *compile_simple(compiler *c, const pnode *n) {
  parser *p = c->p;
  const char *name = n->name;
  sieve_cmd *cmd = g_new0(sieve_cmd, 1);
  cmd->line = n->line;
  if (g_str_equal(name, "keep") || g_str_equal(name, "discard") || g_str_equal(name, "stop")) {
    cmd->kind = name[0] == 'k' ? SIEVE_C_KEEP : name[0] == 'd' ? SIEVE_C_DISCARD : SIEVE_C_STOP;
    if (n->args->len || n->tests->len)
      fail(p, n->line, "%s takes no arguments", name);
  } else if (g_str_equal(name, "fileinto")) {
    cmd->kind = SIEVE_C_FILEINTO;
    if (!c->cap_fileinto) {
      fail(p, n->line, "fileinto used without require \"fileinto\"");
      return cmd;
    }
    const char *s = one_string(c, n);
    if (s && !*s)
      fail(p, n->line, "fileinto needs a folder name");
    cmd->arg = g_strdup(s);
  } else if (g_str_equal(name, "redirect")) {
    cmd->kind = SIEVE_C_REDIRECT;
    const char *s = one_string(c, n);
    if (s) {
      cmd->arg = redirect_address(s);
      if (!cmd->arg)
        fail(p, n->line, "redirect to an invalid address \"%s\"", s);
    }
  } else {
    fail(p, n->line, "unknown command \"%s\"", name);
  }
  if (!p->err && n->block)
    fail(p, n->line, "%s does not take a block", name);
  return cmd;
}

static void do_require(compiler *c, const pnode *n) {
  parser *p = c->p;
  if (!c->requires_allowed) {
    fail(p, n->line, "require must come before other commands");
    return;
  }
  const parg *a = n->args->len == 1 ? n->args->pdata[0] : NULL;
  if (!a || a->kind != PA_STRINGS || n->tests->len || n->block) {
    fail(p, n->line, "require takes a list of capability names");
    return;
  }
  for (guint i = 0; i < a->strs->len; i++) {
    const char *cap = a->strs->pdata[i];
    if (g_str_equal(cap, "fileinto"))
      c->cap_fileinto = TRUE;
    else if (g_str_equal(cap, "envelope"))
      c->cap_envelope = TRUE;
    else if (!g_str_equal(cap, "comparator-i;octet") &&
             !g_str_equal(cap, "comparator-i;ascii-casemap")) {
      fail(p, a->line, "unsupported extension \"%s\"", cap);
      return;
    }
  }
}

static GPtrArray *compile_block(compiler *c, GPtrArray *nodes, gboolean top) {
  parser *p = c->p;
  GPtrArray *out = g_ptr_array_new_with_free_func(sieve__cmd_free);
  sieve_cmd *open_if = NULL; /* an if that may still take elsif / else */
  for (guint i = 0; i < nodes->len && !p->err; i++) {
    const pnode *n = nodes->pdata[i];
    const char *name = n->name;
    if (g_str_equal(name, "require")) {
      if (!top)
        fail(p, n->line, "require must come before other commands");
      else
        do_require(c, n);
      open_if = NULL;
      continue;
    }
    c->requires_allowed = FALSE;
    c->ncmds++;
    gboolean is_if = g_str_equal(name, "if"), is_elsif = g_str_equal(name, "elsif"),
             is_else = g_str_equal(name, "else");
    if (!is_if && !is_elsif && !is_else) {
      g_ptr_array_add(out, compile_simple(c, n));
      open_if = NULL;
      continue;
    }
    if ((is_elsif || is_else) && !open_if) {
      fail(p, n->line, "%s without a preceding if", name);
      break;
    }
    if (n->args->len) {
      fail(p, n->line, "%s takes no arguments besides its test", name);
      break;
    }
    if (is_else ? n->tests->len != 0 : (n->tests->len != 1 || n->test_list)) {
      fail(p, n->line, is_else ? "else takes no test" : "%s takes one test", name);
      break;
    }
    if (!n->block) {
      fail(p, n->line, "%s needs a block in braces", name);
      break;
    }
    sieve_cmd *target = open_if;
    if (is_if) {
      target = g_new0(sieve_cmd, 1);
      target->kind = SIEVE_C_IF;
      target->line = n->line;
      target->conds = g_ptr_array_new_with_free_func(sieve__test_free);
      target->blocks = g_ptr_array_new_with_free_func(free_block);
      g_ptr_array_add(out, target);
    }
    GPtrArray *body = compile_block(c, n->block, FALSE);
    if (is_else) {
      target->else_block = body;
      open_if = NULL;
    } else {
      g_ptr_array_add(target->conds, compile_test(c, n->tests->pdata[0]));
      g_ptr_array_add(target->blocks, body);
      open_if = target;
    }
  }
  return out;
}

sieve_script *sieve_parse(const char *text, gsize len, char **err) {
  if (err)
    *err = NULL;
  parser p = {0};
  p.tok.text = g_string_new(NULL);
  sieve__lex_init(&p.lx, text ? text : "", text ? len : 0);
  advance(&p);
  GPtrArray *tree = parse_commands(&p, FALSE);
  if (!p.err && p.tok.kind != SIEVE_TOK_EOF)
    unexpected(&p, "a command");
  sieve_script *s = NULL;
  if (!p.err) {
    compiler c = {.p = &p, .requires_allowed = TRUE};
    GPtrArray *cmds = compile_block(&c, tree, TRUE);
    if (!p.err) {
      s = g_new0(sieve_script, 1);
      s->cmds = cmds;
      s->ncmds = c.ncmds;
    } else {
      g_ptr_array_free(cmds, TRUE);
    }
  }
  g_ptr_array_free(tree, TRUE);
  g_string_free(p.tok.text, TRUE);
  if (err)
    *err = p.err;
  else
    g_free(p.err);
  return s;
}

void sieve_script_free(sieve_script *s) {
  if (!s)
    return;
  g_ptr_array_free(s->cmds, TRUE);
  g_free(s);
}

guint sieve_script_command_count(const sieve_script *s) { return s->ncmds; }
