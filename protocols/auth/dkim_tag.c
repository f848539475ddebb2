/* dkim_tag.c — tag=value lists, RFC 6376 §3.2 (also the grammar of DMARC
 * records, RFC 7489 §6.3). */
#include "dkim_tag.h"

#include <string.h>

static bool is_fws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void dkim_tag_list_clear(dkim_tag_list *list) {
  if (!list->tags)
    return;
  for (guint i = 0; i < list->tags->len; i++) {
    dkim_tag *t = &g_array_index(list->tags, dkim_tag, i);
    g_free(t->name);
    g_free(t->value);
  }
  g_array_free(list->tags, TRUE);
  list->tags = NULL;
}

bool dkim_tag_list_parse(dkim_tag_list *list, const char *text, size_t len, bool case_fold) {
  list->tags = g_array_new(FALSE, TRUE, sizeof(dkim_tag));
  list->fold = case_fold;
  size_t i = 0;
  while (i < len) {
    size_t end = i;
    while (end < len && text[end] != ';')
      end++;
    /* one tag-spec in [i, end) */
    size_t a = i, b = end;
    while (a < b && is_fws(text[a]))
      a++;
    while (b > a && is_fws(text[b - 1]))
      b--;
    if (a == b) {
      /* empty spec: allowed only as the trailing ";" */
      if (end < len && end + 1 < len) {
        size_t k = end + 1;
        while (k < len && is_fws(text[k]))
          k++;
        if (k < len)
          goto bad;
      }
      i = end + 1;
      continue;
    }
    const char *eq = memchr(text + a, '=', b - a);
    if (!eq)
      goto bad;
    size_t ne = (size_t)(eq - text);
    size_t nb = ne;
    while (nb > a && is_fws(text[nb - 1]))
      nb--;
    if (nb == a || !g_ascii_isalpha(text[a]))
      goto bad;
    for (size_t k = a; k < nb; k++)
      if (!g_ascii_isalnum(text[k]) && text[k] != '_')
        goto bad;
    size_t va = ne + 1;
    while (va < b && is_fws(text[va]))
      va++;
    for (size_t k = va; k < b; k++) {
      unsigned char c = (unsigned char)text[k];
      if (!(is_fws((char)c) || (c >= 0x21 && c <= 0x7e)))
        goto bad;
    }
    dkim_tag t = {g_strndup(text + a, nb - a), g_strndup(text + va, b - va)};
    for (guint k = 0; k < list->tags->len; k++) {
      const char *n = g_array_index(list->tags, dkim_tag, k).name;
      if (case_fold ? g_ascii_strcasecmp(n, t.name) == 0 : strcmp(n, t.name) == 0) {
        g_free(t.name);
        g_free(t.value);
        goto bad;
      }
    }
    g_array_append_val(list->tags, t);
    i = end + 1;
  }
  return true;
bad:
  dkim_tag_list_clear(list);
  list->tags = g_array_new(FALSE, TRUE, sizeof(dkim_tag));
  return false;
}

const char *dkim_tag_get(const dkim_tag_list *list, const char *name) {
  if (!list->tags)
    return NULL;
  for (guint i = 0; i < list->tags->len; i++) {
    const dkim_tag *t = &g_array_index(list->tags, dkim_tag, i);
    if (list->fold ? g_ascii_strcasecmp(t->name, name) == 0 : strcmp(t->name, name) == 0)
      return t->value;
  }
  return NULL;
}

const char *dkim_tag_first(const dkim_tag_list *list) {
  if (!list->tags || list->tags->len == 0)
    return NULL;
  return g_array_index(list->tags, dkim_tag, 0).name;
}

char *dkim_tag_strip_fws(const char *s) {
  GString *o = g_string_new(NULL);
  for (; *s; s++)
    if (!is_fws(*s))
      g_string_append_c(o, *s);
  return g_string_free(o, FALSE);
}
