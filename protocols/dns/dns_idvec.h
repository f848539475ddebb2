/* dns_idvec.h — records in flight (lookups, attempts, actions) kept in the
 * order of a 64-bit id inside each record, found by binary search.
 *
 * Ids grow as records are added and removal keeps order, so the array
 * stays sorted without a hash table (no per-entry work beyond a memmove);
 * the block doubles as it fills and halves when a quarter full, so a
 * burst's high-water block is let go. A dns_idvec is a value embedded in
 * its owner: dns_idvec_init it, dns_idvec_clear it (the records are the
 * owner's). */
#ifndef MAILSIM_DNS_IDVEC_H
#define MAILSIM_DNS_IDVEC_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
  void **v;      /* the records, by id; N of them in a CAP block */
  guint n, cap;  /* read N and V, never write them */
  size_t id_off; /* offset of the uint64_t id inside each record */
} dns_idvec;

/* An empty vector of records whose id lies at ID_OFF (offsetof). */
void dns_idvec_init(dns_idvec *x, size_t id_off);
/* Frees the block (not the records) and leaves X empty. */
void dns_idvec_clear(dns_idvec *x);
/* Appends REC, whose id must be above every other's (else a bug: aborts). */
void dns_idvec_add(dns_idvec *x, void *rec);
/* Removes the record at AT (< n), keeping order. */
void dns_idvec_remove_at(dns_idvec *x, guint at);

/* The index of id ID among the N records at V (sorted by the uint64_t at
 * ID_OFF), or -1: the search itself, also for arrays held elsewhere (a
 * GPtrArray's pdata). Inline: it runs for every packet of a lookup. */
static inline gssize dns_idvec_search(void *const *v, guint n, size_t id_off, uint64_t id) {
  guint lo = 0, hi = n;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    uint64_t m;
    memcpy(&m, (const char *)v[mid] + id_off, sizeof m);
    if (m == id)
      return (gssize)mid;
    if (m < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

/* The index of the record of id ID, or -1. */
static inline gssize dns_idvec_find(const dns_idvec *x, uint64_t id) {
  return dns_idvec_search(x->v, x->n, x->id_off, id);
}

#endif
