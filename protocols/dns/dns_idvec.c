/* dns_idvec.c — records kept in id order, binary searched (see the header). */
#include "dns_idvec.h"

#include <string.h>

enum { IDVEC_MIN = 16 };

static inline uint64_t id_of(const void *rec, size_t off) {
  uint64_t id;
  memcpy(&id, (const char *)rec + off, sizeof id);
  return id;
}

void dns_idvec_init(dns_idvec *x, size_t id_off) {
  memset(x, 0, sizeof *x);
  x->id_off = id_off;
}

void dns_idvec_clear(dns_idvec *x) {
  g_free(x->v);
  x->v = NULL;
  x->n = x->cap = 0;
}

void dns_idvec_add(dns_idvec *x, void *rec) {
  g_assert(x->n == 0 || id_of(x->v[x->n - 1], x->id_off) < id_of(rec, x->id_off));
  if (x->n == x->cap) {
    x->cap = x->cap ? 2 * x->cap : IDVEC_MIN;
    x->v = g_renew(void *, x->v, x->cap);
  }
  x->v[x->n++] = rec;
}

void dns_idvec_remove_at(dns_idvec *x, guint at) {
  g_assert(at < x->n);
  memmove(x->v + at, x->v + at + 1, (x->n - at - 1) * sizeof *x->v);
  x->n--;
  if (x->cap > IDVEC_MIN && x->n <= x->cap / 4) {
    x->cap /= 2;
    x->v = g_renew(void *, x->v, x->cap);
  }
}
