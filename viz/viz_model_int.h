/* viz_model_int.h — the model's body, shared by viz_model.c (storage,
 * loading loop, indexes, queries), viz_map.c (what each record means) and
 * viz_inspect.c (the inspector's lists). Not for the views. */
#ifndef MAILSIM_VIZ_MODEL_INT_H
#define MAILSIM_VIZ_MODEL_INT_H

#include <cJSON.h>

#include "trace_rec.h"

#include "viz_model.h"

G_STATIC_ASSERT(sizeof(gpointer) >= sizeof(uint64_t)); /* connection ids as hash keys */

typedef struct {
  int64_t t;
  uint32_t what; /* link or node index */
  bool up;
} viz__state_change;

typedef struct {
  int64_t t;
  uint32_t node, queued, deferred;
} viz__queue_change;

typedef struct {
  uint32_t group, item; /* (conn, arrow), (msg, event), ... for grouping */
} viz__pair;

typedef struct {
  uint32_t first, len; /* into path_nodes / path_links */
  int64_t latency_ns;
} viz__route;

struct viz_model {
  char *source, *scenario, *detail;
  uint64_t seed;
  int64_t t_first, t_last;
  uint64_t unknown_refs;

  GStringChunk *strings; /* names and texts; every const char * points here */
  size_t strings_bytes;
  GString *raw;    /* every event record's text, back to back */
  GString *labels; /* arrow labels, back to back */

  GArray *nodes;        /* viz_node */
  GArray *links;        /* viz_link */
  GPtrArray *kinds;     /* interned kind names (borrowed from strings) */
  GArray *events;       /* viz_event, file order (= time order) */
  GArray *arrows;       /* viz_arrow, sorted by recv (file order) */
  GArray *drops;        /* viz_drop */
  GArray *conns;        /* viz_conn, in order of first sight */
  GArray *conn_arrows;  /* uint32, grouped by conn */
  GArray *msgs;         /* viz_msg */
  GArray *hops;         /* viz_hop, sorted by t1 after finishing */
  GArray *msg_hops;     /* uint32 hop indices, grouped by msg */
  GArray *msg_events;   /* uint32 event indices, grouped by msg */
  GArray *dns;          /* viz_dns */
  GArray *marks;        /* viz_mark, time order */
  GArray *link_changes; /* viz__state_change, grouped by link, time order within */
  GArray *link_first;   /* uint32 per link + 1: ranges into link_changes */
  GArray *node_changes; /* the same for nodes */
  GArray *node_first;
  GArray *queue_changes; /* viz__queue_change, grouped by node */
  GArray *queue_first;
  GArray *paths;                        /* viz__route */
  GArray *path_nodes;                   /* uint32 */
  GArray *path_links;                   /* uint32 */
  int64_t max_arrow_span, max_hop_span; /* for window queries */
  GPtrArray *likes;                     /* per "like" class: its description (in strings) */

  /* lookups (never iterated) */
  GHashTable *node_by_name; /* name -> index + 1 */
  GHashTable *msg_by_key;   /* key -> index + 1 */
  GHashTable *kind_by_name; /* kind -> index + 1 */

  /* loading state, freed when loading ends */
  struct viz__build *b;
};

/* Loading state. */
typedef struct viz__build {
  GHashTable *conn_by_id;              /* connection id -> conn index + 1 */
  GHashTable *dns_pending;             /* "client/server/qid/qname" -> dns index + 1 */
  GHashTable *queue_state;             /* (node << 32 | msg) -> bits */
  GHashTable *path_by_pair;            /* (from << 32 | to) -> path index + 1 */
  GHashTable *node_by_addr;            /* address text -> node index + 1 */
  GArray *kind_handler;                /* per kind: its viz__map_fn (or NULL) */
  GArray *conn_last_data;              /* per conn: last DATA arrow not yet used by a hop */
  GArray *node_queued, *node_deferred; /* per node counters */
  GArray *conn_pairs, *msg_pairs;      /* viz__pair */
} viz__build;

/* --- viz_map.c: the meaning of records -------------------------------------- */

/* Reads the header's topology and the optional "roles" and "pos" keys. */
bool viz__map_header(viz_model *m, const cJSON *hdr, GError **err);
/* Maps one event record: fills EV (whose t, kind, raw are set) and appends
 * arrows, hops, marks... EV's index is IX. */
typedef void (*viz__map_fn)(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix);
/* The mapper of a kind, NULL if the viewer has no use for it beyond the
 * event row (looked up once per distinct kind). */
viz__map_fn viz__map_lookup(const char *kind);

/* --- viz_model.c helpers for the mapper ----------------------------------- */

const char *viz__intern(viz_model *m, const char *s);
uint32_t viz__node_ref(viz_model *m, const trace_rec *rec, const char *key);
uint32_t viz__conn_ref(viz_model *m, uint64_t id); /* creates; VIZ_NONE for id 0 */
void viz__conn_link_ids(viz_model *m, uint64_t a, uint64_t b);
uint32_t viz__msg_ref(viz_model *m, const char *key); /* creates; VIZ_NONE for NULL */
uint32_t viz__label(viz_model *m, const char *p, size_t n, uint32_t *len);
uint32_t viz__path(viz_model *m, uint32_t from, uint32_t to);
/* Appends the model's queue state change at NODE. */
void viz__queue_push(viz_model *m, int64_t t, uint32_t node);

#endif
