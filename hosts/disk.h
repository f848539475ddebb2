/* disk.h — a host's persistent storage: named blobs that survive a crash.
 *
 * What a host keeps here (an MTA's queue files, a mailbox store, a
 * greylisting database) is still there after sim_node_crash/restart; what
 * it keeps only in memory is not. A disk has a capacity; a write that does
 * not fit fails (DISK_FULL) and changes nothing, so the caller can answer
 * 452 4.3.1 and lose nothing. A fault can also make the disk full on
 * purpose for a while. Keys are kept in order, so listing them is
 * deterministic.
 */
#ifndef MAILSIM_DISK_H
#define MAILSIM_DISK_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct disk disk;

typedef enum { DISK_OK, DISK_FULL } disk_status;

/* CAPACITY in bytes; 0 = unlimited. */
disk *disk_new(uint64_t capacity);
void disk_free(disk *d);

/* One piece of a blob written from pieces (disk_put_parts). */
typedef struct {
  const void *data;
  size_t len;
} disk_part;

/* Stores a copy of DATA under KEY, replacing an older blob (the caller
 * keeps its reference). */
disk_status disk_put(disk *d, const char *key, GBytes *data);
/* The same from LEN octets at DATA (copied). */
disk_status disk_put_data(disk *d, const char *key, const void *data, size_t len);
/* The same from the N PARTS written one after the other (copied once,
 * straight into the blob: a message is stored from its header fields and
 * its data without being assembled first). A part may have len 0. */
disk_status disk_put_parts(disk *d, const char *key, const disk_part *parts, size_t n);
/* The blob under KEY (borrowed; valid until it is replaced or removed), or
 * NULL. */
GBytes *disk_get(const disk *d, const char *key);
/* The blob's octets under KEY and their count in *LEN (borrowed, valid
 * until it is replaced or removed), or NULL; cheaper than disk_get. */
const uint8_t *disk_peek(const disk *d, const char *key, size_t *len);
/* Removes KEY; false if it was not there. */
bool disk_remove(disk *d, const char *key);
/* Keys starting with PREFIX, in order (a new array of borrowed strings;
 * free it with g_ptr_array_unref). */
GPtrArray *disk_list(const disk *d, const char *prefix);

uint64_t disk_used(const disk *d);
uint64_t disk_capacity(const disk *d);
/* While FULL is true every write that adds bytes fails (a fault). */
void disk_set_full(disk *d, bool full);

#endif
