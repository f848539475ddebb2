/* trace_atoms.c — interned strings with their ASCII case folds (see
 * trace_atoms.h). The fold serves the checker's envelope matching, which
 * ignores case as the simulator's mailboxes do (RFC 5321 §2.4 makes local
 * parts case-sensitive but discourages relying on it).
 */
#include "trace_atoms.h"

#include <stddef.h>
#include <string.h>

void trace_atoms_init(trace_atoms *a) {
  a->by_str = g_hash_table_new(g_str_hash, g_str_equal);
  a->all = g_ptr_array_new_with_free_func(g_free);
}

void trace_atoms_clear(trace_atoms *a) {
  if (a->by_str)
    g_hash_table_unref(a->by_str);
  if (a->all)
    g_ptr_array_unref(a->all);
  a->by_str = NULL;
  a->all = NULL;
}

const trace_atom *trace_atoms_add(trace_atoms *a, const char *s, uint32_t fold) {
  if (a->all->len >= TRACE_ATOMS_MAX)
    g_error("trace_atoms: %u names", a->all->len); /* out of memory first */
  size_t n = strlen(s) + 1;
  trace_atom *at = g_malloc(sizeof *at + n);
  memcpy(at->s, s, n);
  at->id = at->fold = a->all->len;
  if (fold != TRACE_ATOMS_NONE)
    at->fold = fold;
  g_ptr_array_add(a->all, at);
  g_hash_table_add(a->by_str, at->s);
  return at;
}

const trace_atom *trace_atoms_get(trace_atoms *a, const char *s) {
  const trace_atom *at = trace_atoms_find(a, s);
  if (at)
    return at;
  uint32_t fold = TRACE_ATOMS_NONE;
  for (const char *p = s; *p; p++)
    if (g_ascii_isupper(*p)) {
      char *low = g_ascii_strdown(s, -1);
      fold = trace_atoms_get(a, low)->fold;
      g_free(low);
      break;
    }
  return trace_atoms_add(a, s, fold);
}

uint32_t trace_atoms_fold(const trace_atoms *a, const char *s) {
  const trace_atom *at = trace_atoms_find(a, s);
  if (at)
    return at->fold;
  for (const char *p = s; *p; p++)
    if (g_ascii_isupper(*p)) {
      char *low = g_ascii_strdown(s, -1);
      at = trace_atoms_find(a, low);
      g_free(low);
      return at ? at->fold : TRACE_ATOMS_NONE;
    }
  return TRACE_ATOMS_NONE;
}
