/* mime_addr.c — RFC 5322 §3.4 address lists.
 *
 * A tokenizer (atoms, quoted strings, domain literals, specials; comments
 * and FWS dropped, RFC 5322 §3.2.2) feeds a small recursive-descent parser
 * for address-list / mailbox-list / group (§3.4), angle-addr with the
 * obs-route of §4.4, addr-spec (§3.4.1) with obs-local-part and
 * obs-domain (words and dots separated by CFWS), obs-phrase ("Joe Q.
 * Public"), and the empty elements obs-addr-list allows. Anything else is
 * skipped to the next ',' or ';' and counted, never fatal. */
#include "mime_addr.h"

#include "mime_ew.h"
#include "mime_int.h"

#include <string.h>

static const char *const kind_names[MIME_ADDR_COUNT] = {"mailbox", "group-start", "group-end"};

const char *mime_addr_kind_name(mime_addr_kind k) {
  return (unsigned)k < MIME_ADDR_COUNT ? kind_names[k] : "?";
}

typedef enum { T_ATOM, T_QSTR, T_DLIT, T_SPECIAL } tok_type;
typedef struct {
  tok_type type;
  char c; /* T_SPECIAL */
  char *text;
  gboolean ws; /* whitespace or comment before it */
} tok;

static void addr_free(gpointer p) {
  mime_addr *a = p;
  g_free(a->name);
  g_free(a->name_raw);
  g_free(a->route);
  g_free(a->local);
  g_free(a->domain);
  g_free(a);
}

#define MAX_TOKENS 20000

static GArray *tokenize(const char *s) {
  GArray *t = g_array_new(FALSE, TRUE, sizeof(tok));
  gsize len = strlen(s), pos = 0;
  GString *b = g_string_new(NULL);
  while (pos < len && t->len < MAX_TOKENS) {
    gboolean ws = mime__skip_cfws(s, len, &pos, NULL);
    if (pos >= len)
      break;
    tok k = {T_ATOM, 0, NULL, ws};
    g_string_truncate(b, 0);
    if (s[pos] == '"') {
      mime__read_qstring(s, len, &pos, b, NULL);
      k.type = T_QSTR;
    } else if (s[pos] == '[') {
      mime__read_dliteral(s, len, &pos, b);
      k.type = T_DLIT;
    } else if (mime__read_atom(s, len, &pos, b)) {
      k.type = T_ATOM;
    } else {
      k.type = T_SPECIAL;
      k.c = s[pos++];
    }
    k.text = g_strdup(b->str);
    g_array_append_val(t, k);
  }
  g_string_free(b, TRUE);
  return t;
}

static void tokens_free(GArray *t) {
  for (guint i = 0; i < t->len; i++)
    g_free(g_array_index(t, tok, i).text);
  g_array_free(t, TRUE);
}

static gboolean is_sp(const GArray *t, guint i, char c) {
  return i < t->len && g_array_index(t, tok, i).type == T_SPECIAL &&
         g_array_index(t, tok, i).c == c;
}

static gboolean is_word(const GArray *t, guint i) {
  if (i >= t->len)
    return FALSE;
  tok_type ty = g_array_index(t, tok, i).type;
  return ty == T_ATOM || ty == T_QSTR;
}

/* Phrase tokens [a,b) joined: one space where the source had whitespace
 * (obs-phrase allows '.'). NULL when empty. */
static char *join_phrase(const GArray *t, guint a, guint b) {
  if (a >= b)
    return NULL;
  GString *s = g_string_new(NULL);
  for (guint i = a; i < b; i++) {
    const tok *k = &g_array_index(t, tok, i);
    if (i > a && k->ws)
      g_string_append_c(s, ' ');
    if (k->type == T_SPECIAL)
      g_string_append_c(s, k->c);
    else
      g_string_append(s, k->text);
  }
  return g_string_free(s, FALSE);
}

/* Local part tokens [a,b): words and dots, CFWS dropped (obs-local-part). */
static char *join_local(const GArray *t, guint a, guint b) {
  GString *s = g_string_new(NULL);
  for (guint i = a; i < b; i++) {
    const tok *k = &g_array_index(t, tok, i);
    if (k->type == T_SPECIAL)
      g_string_append_c(s, k->c);
    else
      g_string_append(s, k->text);
  }
  GString *o = g_string_new(NULL);
  if (s->len)
    mime__append_word(o, s->str, FALSE);
  g_string_free(s, TRUE);
  return g_string_free(o, FALSE);
}

/* Domain at *I: atoms, dots and domain literals (obs-domain). */
static char *parse_domain(const GArray *t, guint *i) {
  GString *s = g_string_new(NULL);
  while (*i < t->len) {
    const tok *k = &g_array_index(t, tok, *i);
    if (k->type == T_ATOM || k->type == T_DLIT)
      g_string_append(s, k->text);
    else if (k->type == T_SPECIAL && k->c == '.')
      g_string_append_c(s, '.');
    else
      break;
    (*i)++;
  }
  if (!s->len) {
    g_string_free(s, TRUE);
    return NULL;
  }
  return g_string_free(s, FALSE);
}

static mime_addr *new_mailbox(char *name_raw) {
  mime_addr *a = g_new0(mime_addr, 1);
  a->kind = MIME_ADDR_MAILBOX;
  a->name_raw = name_raw;
  a->name = name_raw ? mime_ew_decode(name_raw) : NULL;
  return a;
}

/* After '<' at *I: [obs-route] addr-spec '>'. */
static void parse_angle(const GArray *t, guint *i, mime_addr *a, guint *bad) {
  if (is_sp(t, *i, '@')) { /* obs-route: 1*("@" domain [","]) ":" */
    GString *r = g_string_new(NULL);
    while (*i < t->len && !is_sp(t, *i, ':') && !is_sp(t, *i, '>')) {
      const tok *k = &g_array_index(t, tok, *i);
      if (k->type == T_SPECIAL)
        g_string_append_c(r, k->c);
      else
        g_string_append(r, k->text);
      (*i)++;
    }
    if (is_sp(t, *i, ':'))
      (*i)++;
    a->route = g_string_free(r, FALSE);
  }
  guint a0 = *i;
  while (is_word(t, *i) || is_sp(t, *i, '.'))
    (*i)++;
  a->local = join_local(t, a0, *i);
  if (is_sp(t, *i, '@')) {
    (*i)++;
    a->domain = parse_domain(t, i);
  }
  if (is_sp(t, *i, '>')) {
    (*i)++;
    return;
  }
  (*bad)++;
  while (*i < t->len && !is_sp(t, *i, '>') && !is_sp(t, *i, ','))
    (*i)++;
  if (is_sp(t, *i, '>'))
    (*i)++;
}

GPtrArray *mime_addr_parse(const char *value, guint *bad_out) {
  GPtrArray *out = g_ptr_array_new_with_free_func(addr_free);
  if (value && mime__plain_addr_spec(value)) { /* what the tokens below would give */
    const char *at = strchr(value, '@');
    mime_addr *a = new_mailbox(NULL);
    a->local = g_strndup(value, (gsize)(at - value));
    a->domain = g_strdup(at + 1);
    g_ptr_array_add(out, a);
    if (bad_out)
      *bad_out = 0;
    return out;
  }
  GArray *t = tokenize(value ? value : "");
  guint bad = 0, i = 0;
  gboolean in_group = FALSE;
  while (i < t->len) {
    if (is_sp(t, i, ',')) {
      i++;
      continue;
    }
    if (is_sp(t, i, ';')) {
      if (in_group) {
        mime_addr *g = g_new0(mime_addr, 1);
        g->kind = MIME_ADDR_GROUP_END;
        g_ptr_array_add(out, g);
        in_group = FALSE;
      } else {
        bad++;
      }
      i++;
      continue;
    }
    guint j = i;
    while (is_word(t, j) || is_sp(t, j, '.'))
      j++;
    if (is_sp(t, j, '<')) {
      mime_addr *a = new_mailbox(join_phrase(t, i, j));
      i = j + 1;
      parse_angle(t, &i, a, &bad);
      g_ptr_array_add(out, a);
    } else if (is_sp(t, j, ':') && !in_group) {
      mime_addr *g = g_new0(mime_addr, 1);
      g->kind = MIME_ADDR_GROUP_START;
      g->name_raw = join_phrase(t, i, j);
      g->name = g->name_raw ? mime_ew_decode(g->name_raw) : NULL;
      g_ptr_array_add(out, g);
      in_group = TRUE;
      i = j + 1;
      continue;
    } else if (is_sp(t, j, '@') && j > i) {
      mime_addr *a = new_mailbox(NULL);
      a->local = join_local(t, i, j);
      i = j + 1;
      a->domain = parse_domain(t, &i);
      g_ptr_array_add(out, a);
    } else if (j > i) {
      mime_addr *a = new_mailbox(NULL); /* a bare local part */
      a->local = join_local(t, i, j);
      g_ptr_array_add(out, a);
      i = j;
    }
    if (i < t->len && !is_sp(t, i, ',') && !is_sp(t, i, ';')) {
      bad++;
      while (i < t->len && !is_sp(t, i, ',') && !is_sp(t, i, ';'))
        i++;
    }
  }
  if (in_group) {
    mime_addr *g = g_new0(mime_addr, 1);
    g->kind = MIME_ADDR_GROUP_END;
    g_ptr_array_add(out, g);
  }
  tokens_free(t);
  if (bad_out)
    *bad_out = bad;
  return out;
}

char *mime_addr_spec(const mime_addr *a) {
  if (!a->local)
    return g_strdup("");
  if (!a->domain)
    return g_strdup(a->local);
  /* Concatenated, not printf: every composed and displayed address. */
  size_t l = strlen(a->local), d = strlen(a->domain);
  char *s = g_malloc(l + d + 2);
  memcpy(s, a->local, l);
  s[l] = '@';
  memcpy(s + l + 1, a->domain, d + 1);
  return s;
}

guint mime_addr_count_mailboxes(const GPtrArray *list) {
  guint n = 0;
  for (guint i = 0; i < list->len; i++)
    if (((const mime_addr *)g_ptr_array_index((GPtrArray *)list, i))->kind == MIME_ADDR_MAILBOX)
      n++;
  return n;
}

/* Column after the last CRLF in S, given START for the first line. */
static gsize last_col(const GString *s, gsize start) {
  const char *nl = g_strrstr(s->str, "\n");
  return nl ? s->len - (gsize)(nl + 1 - s->str) : start + s->len;
}

/* Appends ITEM to OUT, folding (CRLF before a space) where a line would
 * pass 78 octets. Only spaces that are not inside a quoted pair are used:
 * in a quoted string the CRLF of a fold is invisible (RFC 5322 §3.2.4), so
 * the value does not change. */
static void append_folded(GString *out, const char *item, gsize first_col) {
  gboolean esc = FALSE, quoted = FALSE;
  for (const char *p = item; *p; p++) {
    if (*p == ' ' && !esc && p != item) {
      /* Length of the next word. */
      gsize w = 1;
      gboolean e2 = FALSE, q2 = quoted;
      for (const char *r = p + 1; *r && *r != '\r'; r++, w++) {
        if (*r == ' ' && !e2)
          break;
        e2 = !e2 && q2 && *r == '\\';
        if (*r == '"' && !e2)
          q2 = !q2;
      }
      if (last_col(out, first_col) + w > 78 && last_col(out, first_col) > 1)
        g_string_append(out, "\r\n");
    }
    g_string_append_c(out, *p);
    gboolean was_esc = esc;
    esc = !esc && quoted && *p == '\\';
    if (*p == '"' && !was_esc)
      quoted = !quoted;
  }
}

char *mime_addr_format(const GPtrArray *list, gsize first_col) {
  if (list->len == 1) {
    /* One mailbox without a name: its addr-spec, unfolded when it has no
     * space (append_folded folds only at spaces). The usual field. */
    const mime_addr *a = g_ptr_array_index((GPtrArray *)list, 0);
    if (a->kind == MIME_ADDR_MAILBOX && !(a->name && *a->name)) {
      char *spec = mime_addr_spec(a);
      if (!strchr(spec, ' '))
        return spec;
      g_free(spec);
    }
  }
  GString *out = g_string_new(NULL);
  gboolean need_comma = FALSE;
  for (guint i = 0; i < list->len; i++) {
    const mime_addr *a = g_ptr_array_index((GPtrArray *)list, i);
    if (a->kind == MIME_ADDR_GROUP_END) {
      g_string_append_c(out, ';');
      need_comma = TRUE;
      continue;
    }
    char *ph = (a->name && *a->name) ? mime_ew_encode(a->name, MIME_EW_PHRASE) : NULL;
    char *spec = a->kind == MIME_ADDR_MAILBOX ? mime_addr_spec(a) : NULL;
    GString *item = g_string_new(NULL);
    if (ph)
      g_string_append(item, ph);
    else if (spec)
      g_string_append(item, spec);
    if (a->kind == MIME_ADDR_GROUP_START)
      g_string_append_c(item, ':');
    if (need_comma)
      g_string_append_c(out, ',');
    const char *first_nl = strchr(item->str, '\n');
    gsize first_len = first_nl ? (gsize)(first_nl - item->str) : item->len;
    if (out->len && last_col(out, first_col) + 1 + first_len > 78)
      g_string_append(out, "\r\n ");
    else if (out->len)
      g_string_append_c(out, ' ');
    append_folded(out, item->str, first_col);
    if (ph && spec) {
      /* RFC 5322 §3.4: CFWS may precede the angle-addr, so fold there. */
      if (last_col(out, first_col) + 3 + strlen(spec) > 78)
        g_string_append_printf(out, "\r\n <%s>", spec);
      else
        g_string_append_printf(out, " <%s>", spec);
    }
    g_string_free(item, TRUE);
    g_free(ph);
    g_free(spec);
    need_comma = a->kind == MIME_ADDR_MAILBOX;
  }
  return g_string_free(out, FALSE);
}
