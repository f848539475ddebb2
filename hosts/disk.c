/* disk.c — named blobs in an ordered tree, with a capacity.
 *
 * One allocation per blob: the entry holds its key and a copy of the
 * data (a queued message has two blobs, its record and its body, so a
 * separate key string and GBytes per blob cost ~100 octets a message).
 * disk_get's GBytes is made on first use and kept with the entry.
 */
#include "disk.h"

#include <string.h>

typedef struct {
  GBytes *view; /* disk_get's view of DATA, made on demand, or NULL */
  size_t len;   /* of the data, which follows the key's NUL */
  char key[];
} entry;

struct disk {
  GTree *blobs; /* entry->key -> entry*, ordered by strcmp */
  uint64_t capacity, used;
  bool forced_full;
};

static const uint8_t *entry_data(const entry *e) {
  return (const uint8_t *)e->key + strlen(e->key) + 1;
}

static void entry_free(gpointer p) {
  entry *e = p;
  if (e->view)
    g_bytes_unref(e->view);
  g_free(e);
}

static gint key_cmp(gconstpointer a, gconstpointer b, gpointer u) {
  (void)u;
  return strcmp(a, b);
}

disk *disk_new(uint64_t capacity) {
  disk *d = g_new0(disk, 1);
  d->blobs = g_tree_new_full(key_cmp, NULL, NULL, entry_free); /* keys live in entries */
  d->capacity = capacity;
  return d;
}

void disk_free(disk *d) {
  if (!d)
    return;
  g_tree_destroy(d->blobs);
  g_free(d);
}

disk_status disk_put_data(disk *d, const char *key, const void *data, size_t len) {
  const entry *old = g_tree_lookup(d->blobs, key);
  uint64_t old_size = old ? old->len : 0;
  uint64_t new_size = len;
  if (new_size > old_size) {
    if (d->forced_full)
      return DISK_FULL;
    if (d->capacity && d->used - old_size + new_size > d->capacity)
      return DISK_FULL;
  }
  d->used = d->used - old_size + new_size;
  size_t klen = strlen(key) + 1;
  entry *e = g_malloc(sizeof *e + klen + len);
  e->view = NULL;
  e->len = len;
  memcpy(e->key, key, klen);
  if (len)
    memcpy(e->key + klen, data, len);
  g_tree_replace(d->blobs, e->key, e); /* frees the old entry, key and all */
  return DISK_OK;
}

disk_status disk_put(disk *d, const char *key, GBytes *data) {
  gsize len;
  const void *p = g_bytes_get_data(data, &len);
  return disk_put_data(d, key, p, len);
}

GBytes *disk_get(const disk *d, const char *key) {
  entry *e = g_tree_lookup(d->blobs, key);
  if (!e)
    return NULL;
  if (!e->view)
    e->view = g_bytes_new_static(entry_data(e), e->len);
  return e->view;
}

const uint8_t *disk_peek(const disk *d, const char *key, size_t *len) {
  const entry *e = g_tree_lookup(d->blobs, key);
  if (!e)
    return NULL;
  *len = e->len;
  return entry_data(e);
}

bool disk_remove(disk *d, const char *key) {
  entry *e = g_tree_lookup(d->blobs, key);
  if (!e)
    return false;
  d->used -= e->len;
  g_tree_remove(d->blobs, key);
  return true;
}

typedef struct {
  const char *prefix;
  size_t plen;
  GPtrArray *out;
} list_ctx;

static gboolean list_one(gpointer k, gpointer v, gpointer u) {
  (void)v;
  list_ctx *c = u;
  if (strncmp(k, c->prefix, c->plen) == 0)
    g_ptr_array_add(c->out, k);
  return FALSE;
}

GPtrArray *disk_list(const disk *d, const char *prefix) {
  list_ctx c = {prefix, strlen(prefix), g_ptr_array_new()};
  g_tree_foreach(d->blobs, list_one, &c);
  return c.out;
}

uint64_t disk_used(const disk *d) { return d->used; }
uint64_t disk_capacity(const disk *d) { return d->capacity; }
void disk_set_full(disk *d, bool full) { d->forced_full = full; }
