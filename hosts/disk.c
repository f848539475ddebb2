/* disk.c — named blobs in an ordered tree, with a capacity. */
#include "disk.h"

#include <string.h>

struct disk {
  GTree *blobs; /* char* -> GBytes*, ordered by strcmp */
  uint64_t capacity, used;
  bool forced_full;
};

static gint key_cmp(gconstpointer a, gconstpointer b, gpointer u) {
  (void)u;
  return strcmp(a, b);
}

disk *disk_new(uint64_t capacity) {
  disk *d = g_new0(disk, 1);
  d->blobs = g_tree_new_full(key_cmp, NULL, g_free, (GDestroyNotify)g_bytes_unref);
  d->capacity = capacity;
  return d;
}

void disk_free(disk *d) {
  if (!d)
    return;
  g_tree_destroy(d->blobs);
  g_free(d);
}

disk_status disk_put(disk *d, const char *key, GBytes *data) {
  GBytes *old = g_tree_lookup(d->blobs, key);
  uint64_t old_size = old ? g_bytes_get_size(old) : 0;
  uint64_t new_size = g_bytes_get_size(data);
  if (new_size > old_size) {
    if (d->forced_full)
      return DISK_FULL;
    if (d->capacity && d->used - old_size + new_size > d->capacity)
      return DISK_FULL;
  }
  d->used = d->used - old_size + new_size;
  g_tree_replace(d->blobs, g_strdup(key), g_bytes_ref(data));
  return DISK_OK;
}

GBytes *disk_get(const disk *d, const char *key) { return g_tree_lookup(d->blobs, key); }

bool disk_remove(disk *d, const char *key) {
  GBytes *old = g_tree_lookup(d->blobs, key);
  if (!old)
    return false;
  d->used -= g_bytes_get_size(old);
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
