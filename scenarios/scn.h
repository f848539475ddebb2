/* scn.h — scenario files: JSON -> plain config structs.
 *
 * A scenario describes one world (see DESIGN.md "Scenarios"). This version
 * of the loader reads the network part and generic traffic:
 *
 *   {
 *     "name": "two-hosts", "description": "...",
 *     "seed": 1, "duration": "30s",
 *     "hosts": [ {"name": "alice", "role": "client", "addrs": ["10.0.0.1"],
 *                 "pos": [0, 0]}, ... ],            role "router" forwards
 *     "links": [ {"a": "alice", "b": "r1", "latency": "10ms", "jitter": "1ms",
 *                 "bandwidth": "10Mbit", "queue": "256KiB", "loss": "0.1%",
 *                 "mtu": 1500, "up": true}, ... ],
 *     "traffic": [ {"kind": "stream", "from": "alice", "to": "server",
 *                   "port": 9000, "bytes": "1MiB", "at": "1s"}, ... ],
 *     "faults": [ {"kind": "link_down", "link": "alice-r1", "at": "2s", "until": "5s"},
 *                 {"kind": "crash", "host": "server", "at": "3s", "until": "4s"} ]
 *   }
 *
 * Every error names the file, the JSON path and what was expected; the
 * loader never aborts on bad input. Names are checked for uniqueness and
 * references resolved here, so a config that loads can be built.
 */
#ifndef MAILSIM_SCN_H
#define MAILSIM_SCN_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "scn_json.h"
#include "sim_net.h"

typedef struct {
  char *name;
  char *role;       /* free text shown by the viewer; "router" forwards */
  GPtrArray *addrs; /* of char*, IPv4/IPv6 literals, validated */
  bool has_pos;
  int64_t x, y;
} scn_host;

typedef struct {
  char *a, *b; /* host names */
  sim_link_params params;
  bool up;
} scn_link;

typedef enum { SCN_TRAFFIC_STREAM, SCN_TRAFFIC_COUNT } scn_traffic_kind;

typedef struct {
  scn_traffic_kind kind;
  char *from, *to;
  uint16_t port;
  uint64_t bytes;
  sim_time at;
} scn_traffic;

typedef enum { SCN_FAULT_LINK_DOWN, SCN_FAULT_CRASH, SCN_FAULT_COUNT } scn_fault_kind;
const char *scn_fault_kind_name(scn_fault_kind k);

typedef struct {
  scn_fault_kind kind;
  char *target;  /* link "a-b" or host name */
  sim_time at;
  sim_time until; /* SIM_TIME_NEVER: never heals */
} scn_fault;

typedef struct {
  char *file;
  char *name;
  char *description;
  uint64_t seed;
  sim_time duration;
  GArray *hosts;   /* scn_host */
  GArray *links;   /* scn_link */
  GArray *traffic; /* scn_traffic */
  GArray *faults;  /* scn_fault */
} scn_config;

/* Loads and checks a scenario file. NULL and *err (SCN_ERROR) on failure. */
scn_config *scn_load(const char *path, GError **err);
/* Same, from memory; FILE names the source in messages. */
scn_config *scn_parse(const char *file, const char *json, size_t len, GError **err);
void scn_config_free(scn_config *c);

/* Index of the host called NAME, or -1. */
int scn_find_host(const scn_config *c, const char *name);

#endif
