/* trace_atoms.h — interned strings named by small integer ids.
 *
 * The trace checker names node names and recipient addresses by ids (4
 * octets where a unit would hold a pointer, and compared as integers).
 * Each string is kept once, in an atom; an atom's fold is the id of its
 * ASCII lower-case form (its own id if it has no upper case), so two
 * strings equal under g_ascii_strcasecmp have the same fold. Ids count
 * from 0 in the order atoms are made and stay below TRACE_ATOMS_MAX (the
 * owner may use the top bit of a 32-bit id and the value
 * TRACE_ATOMS_MAX itself).
 *
 * Caller storage (_init/_clear); the GHashTable is for lookup only.
 */
#ifndef MAILSIM_TRACE_ATOMS_H
#define MAILSIM_TRACE_ATOMS_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_ATOMS_MAX ((UINT32_C(1) << 31) - 1)
/* "no fold": trace_atoms_add's FOLD for an atom that is its own fold, and
 * trace_atoms_fold's answer when no atom matches. */
#define TRACE_ATOMS_NONE UINT32_MAX

typedef struct {
  uint32_t id, fold;
  char s[];
} trace_atom;

typedef struct {
  GHashTable *by_str; /* set of trace_atom.s */
  GPtrArray *all;     /* trace_atom*, by id (owned) */
} trace_atoms;

void trace_atoms_init(trace_atoms *a);
void trace_atoms_clear(trace_atoms *a);

/* S's atom (exactly S), or NULL; borrowed, valid until _clear. */
static inline const trace_atom *trace_atoms_find(const trace_atoms *a, const char *s) {
  const char *k = g_hash_table_lookup(a->by_str, s);
  return k ? (const trace_atom *)(const void *)(k - offsetof(trace_atom, s)) : NULL;
}
/* A new atom for S, which must not have one; its fold FOLD, or its own id
 * with TRACE_ATOMS_NONE (S has no upper case, or case does not matter).
 * Aborts at TRACE_ATOMS_MAX atoms (out of memory first). */
const trace_atom *trace_atoms_add(trace_atoms *a, const char *s, uint32_t fold);
/* S's atom, made (with its lower-case form's, for the fold) if new. */
const trace_atom *trace_atoms_get(trace_atoms *a, const char *s);
/* The fold of S (of S itself or of its lower-case form) if an atom has
 * it, else TRACE_ATOMS_NONE (S matches nothing). Makes nothing. */
uint32_t trace_atoms_fold(const trace_atoms *a, const char *s);

/* The atom of ID (< the atoms made); borrowed. */
static inline const trace_atom *trace_atoms_at(const trace_atoms *a, uint32_t id) {
  return a->all->pdata[id];
}

static inline const char *trace_atoms_str(const trace_atoms *a, uint32_t id) {
  return trace_atoms_at(a, id)->s;
}

#endif
