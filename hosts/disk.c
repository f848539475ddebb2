/* disk.c — named blobs with a capacity.
 *
 * One allocation per blob: the entry holds its key and a copy of the
 * data (a queued message has two blobs, its record and its body, so a
 * separate key string and GBytes per blob cost ~100 octets a message).
 * disk_get's GBytes is made on first use and kept in a side table (few
 * blobs are ever read that way: the entry's head is only its length).
 * The entries are a set keyed by their key: an open-addressing table of
 * entry pointers (linear probing, at most 3/4 full, deletion by shifting
 * back; ~13 octets a blob, where a GHashTable set was ~20 and a tree
 * node ~48); the order the header promises is made when listing, by
 * sorting (a listing is rare: a restart, a fault, the stats of a host
 * that is down). A blob written
 * again at its size (the MTA's message counter, every message) is
 * written over in place.
 */
#include "disk.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
  uint32_t len; /* of the data, which follows the key's NUL */
  char key[];
} entry;

struct disk {
  entry **slots;     /* cap slots, NULL empty (lookup only: listings are sorted) */
  guint cap, n;      /* cap 0 or a power of two; n entries */
  GHashTable *views; /* entry* -> disk_get's GBytes view of its data, or NULL */
  uint64_t capacity, used;
  bool forced_full;
};

static const uint8_t *entry_data(const entry *e) {
  return (const uint8_t *)e->key + strlen(e->key) + 1;
}

/* The slot of KEY: its entry's, or the empty one where it would go. */
static guint slot_of(const disk *d, const char *key) {
  guint mask = d->cap - 1, i = g_str_hash(key) & mask;
  while (d->slots[i] && strcmp(d->slots[i]->key, key) != 0)
    i = (i + 1) & mask;
  return i;
}

static entry *lookup(const disk *d, const char *key) {
  return d->cap ? d->slots[slot_of(d, key)] : NULL;
}

/* Adds E (its key not there). */
static void set_add(disk *d, entry *e) {
  if (4 * ((size_t)d->n + 1) > 3 * (size_t)d->cap) {
    entry **old = d->slots;
    guint ocap = d->cap;
    d->cap = ocap ? 2 * ocap : 16;
    d->slots = g_new0(entry *, d->cap);
    for (guint i = 0; i < ocap; i++)
      if (old[i])
        d->slots[slot_of(d, old[i]->key)] = old[i];
    g_free(old);
  }
  d->slots[slot_of(d, e->key)] = e;
  d->n++;
}

/* Takes E out of the set: the entries after it in its run move back
 * into the hole when their home slot allows (no tombstones). */
static void set_remove(disk *d, entry *e) {
  guint mask = d->cap - 1, i = slot_of(d, e->key);
  g_assert(d->slots[i] == e);
  d->slots[i] = NULL;
  for (guint j = (i + 1) & mask; d->slots[j]; j = (j + 1) & mask) {
    guint home = g_str_hash(d->slots[j]->key) & mask;
    /* J's entry may fill the hole at I unless its home lies in (I, J]. */
    bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      d->slots[i] = d->slots[j];
      d->slots[j] = NULL;
      i = j;
    }
  }
  d->n--;
}

/* Takes E out of the set and frees it with its view. */
static void entry_drop(disk *d, entry *e) {
  set_remove(d, e);
  if (d->views)
    g_hash_table_remove(d->views, e);
  g_free(e);
}

disk *disk_new(uint64_t capacity) {
  disk *d = g_new0(disk, 1);
  d->capacity = capacity;
  return d;
}

void disk_free(disk *d) {
  if (!d)
    return;
  if (d->views)
    g_hash_table_destroy(d->views);
  for (guint i = 0; i < d->cap; i++)
    g_free(d->slots[i]);
  g_free(d->slots);
  g_free(d);
}

/* May OLD's data be written over with PARTS? Not when disk_get handed out
 * a view of it (the view's octets would change), nor when a part comes
 * from OLD's own data (it would be read after being written). */
static bool in_place_ok(const disk *d, const entry *old, const disk_part *parts, size_t n) {
  if (d->views && g_hash_table_contains(d->views, old))
    return false;
  uintptr_t lo = (uintptr_t)entry_data(old), hi = lo + old->len;
  for (size_t i = 0; i < n; i++) {
    uintptr_t p = (uintptr_t)parts[i].data;
    if (parts[i].len && p < hi && p + parts[i].len > lo)
      return false;
  }
  return true;
}

disk_status disk_put_parts(disk *d, const char *key, const disk_part *parts, size_t n) {
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += parts[i].len;
  entry *old = lookup(d, key);
  uint64_t old_size = old ? old->len : 0;
  uint64_t new_size = len;
  if (new_size > old_size) {
    if (d->forced_full)
      return DISK_FULL;
    if (d->capacity && d->used - old_size + new_size > d->capacity)
      return DISK_FULL;
  }
  g_assert(len <= UINT32_MAX); /* a simulated disk's blob: a message at most */
  d->used = d->used - old_size + new_size;
  if (old && old->len == len && in_place_ok(d, old, parts, n)) {
    /* The same size again (a counter, a record rewritten to its length):
     * written over, no new entry, no rehash. */
    uint8_t *w = (uint8_t *)entry_data(old);
    for (size_t i = 0; i < n; i++) {
      if (parts[i].len)
        memcpy(w, parts[i].data, parts[i].len);
      w += parts[i].len;
    }
    return DISK_OK;
  }
  size_t klen = strlen(key) + 1;
  entry *e = g_malloc(sizeof *e + klen + len);
  e->len = (uint32_t)len;
  memcpy(e->key, key, klen);
  char *w = e->key + klen;
  for (size_t i = 0; i < n; i++) {
    if (parts[i].len)
      memcpy(w, parts[i].data, parts[i].len);
    w += parts[i].len;
  }
  if (old)
    entry_drop(d, old);
  set_add(d, e);
  return DISK_OK;
}

disk_status disk_put_data(disk *d, const char *key, const void *data, size_t len) {
  disk_part p = {data, len};
  return disk_put_parts(d, key, &p, 1);
}

disk_status disk_put(disk *d, const char *key, GBytes *data) {
  gsize len;
  const void *p = g_bytes_get_data(data, &len);
  return disk_put_data(d, key, p, len);
}

GBytes *disk_get(const disk *d, const char *key) {
  entry *e = lookup(d, key);
  if (!e)
    return NULL;
  disk *w = (disk *)d; /* the view is a cache: the blobs do not change */
  if (!w->views)
    w->views = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                     (GDestroyNotify)g_bytes_unref);
  GBytes *v = g_hash_table_lookup(w->views, e);
  if (!v) {
    v = g_bytes_new_static(entry_data(e), e->len);
    g_hash_table_insert(w->views, e, v);
  }
  return v;
}

const uint8_t *disk_peek(const disk *d, const char *key, size_t *len) {
  const entry *e = lookup(d, key);
  if (!e)
    return NULL;
  *len = e->len;
  return entry_data(e);
}

bool disk_remove(disk *d, const char *key) {
  entry *e = lookup(d, key);
  if (!e)
    return false;
  d->used -= e->len;
  entry_drop(d, e);
  return true;
}

static gint key_cmp(gconstpointer a, gconstpointer b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *disk_list(const disk *d, const char *prefix) {
  size_t plen = strlen(prefix);
  GPtrArray *out = g_ptr_array_new();
  for (guint i = 0; i < d->cap; i++)
    if (d->slots[i] && strncmp(d->slots[i]->key, prefix, plen) == 0)
      g_ptr_array_add(out, d->slots[i]->key);
  g_ptr_array_sort(out, key_cmp); /* the table's order never shows */
  return out;
}

uint64_t disk_used(const disk *d) { return d->used; }
uint64_t disk_capacity(const disk *d) { return d->capacity; }
void disk_set_full(disk *d, bool full) { d->forced_full = full; }
