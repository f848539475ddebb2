/* scn_msgs.h — the scenario's messages (scn_message, scn.h), stored by
 * pages: up to SCN_MSGS_PAGE messages' structs in one block and their own
 * strings (id, subject, text, html) in one string chunk per page, so that
 * a world that is the config's last user can give each page back once it
 * has sent every message in it (scn_msgs_release). Addresses are interned
 * once for all messages (scn_msgs_addresses) and freed with the store.
 *
 * Memory per message matters at 100,000 messages (issue #6): with the
 * messages released as they are sent, a run holds the scenario's data only
 * for the mail it has not sent yet. */
#ifndef MAILSIM_SCN_MSGS_H
#define MAILSIM_SCN_MSGS_H

#include <glib.h>
#include <stddef.h>

struct scn_message;

enum { SCN_MSGS_PAGE = 64 };

typedef struct scn_msgs scn_msgs;

/* An empty store; EXPECT (may be 0) is how many messages will come: pages
 * are sized to it (the last one at the rest), none is made before its
 * first message. */
scn_msgs *scn_msgs_new(size_t expect);
/* Frees every live page (each message's lists unreferenced) and the
 * addresses. NULL is a no-op. */
void scn_msgs_free(scn_msgs *m);

/* A new zeroed message at the end, owned by the store; *STRINGS (may be
 * NULL) receives the chunk its own strings go in (they live as long as its
 * page). Its to/cc/bcc and attachments, when set, are references the store
 * drops with the page. */
struct scn_message *scn_msgs_append(scn_msgs *m, GStringChunk **strings);
/* The chunk addresses are interned in (g_string_chunk_insert_const): they
 * live until the store is freed. */
GStringChunk *scn_msgs_addresses(scn_msgs *m);

/* Messages appended (released ones included). */
size_t scn_msgs_count(const scn_msgs *m);
/* Message I (< count, not released: else a bug, aborts). */
const struct scn_message *scn_msgs_at(const scn_msgs *m, size_t i);

/* Marks message I (< count, not released yet: else a bug) as no longer
 * needed. When every message of its page is, the page (structs, strings,
 * lists) is freed; when every message is, the addresses too. Afterwards
 * scn_msgs_at(I) is a bug. */
void scn_msgs_release(scn_msgs *m, size_t i);
/* Messages not released. */
size_t scn_msgs_live(const scn_msgs *m);

#endif
