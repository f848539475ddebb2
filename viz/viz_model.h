/* viz_model.h — the viewer's model of one trace: topology, events and the
 * objects derived from them, indexed for time queries.
 *
 * A trace is loaded once (through the trace reader) into flat arrays:
 * nodes, links, events (one compact row each, never a widget), protocol
 * lines as arrows (send time -> receive time), connections, messages with
 * their hops, DNS exchanges, link and node state changes, queue badges and
 * timeline markers. Every array that views query by time is sorted by time
 * and searched by bisection. The exact text of every record is kept, so the
 * inspector can show a record's every key on demand.
 *
 * What a record means to the viewer — which keys name nodes, which kinds
 * make hops or arrows — is decided in one place, viz_map.c, against the
 * mail layers' draft (notes/TRACE-EVENTS-DRAFT.md) and traces/FORMAT.md.
 *
 * Times are int64 ns. Indices are uint32; VIZ_NONE means "absent". All
 * pointers returned by the model are borrowed and live as long as the
 * model. The model is immutable after loading: every query is a pure
 * function of (model, arguments), safe to call from any view.
 */
#ifndef MAILSIM_VIZ_MODEL_H
#define MAILSIM_VIZ_MODEL_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIZ_NONE UINT32_MAX
/* Fractions along a path or link, in parts per million (integer, exact). */
#define VIZ_PPM 1000000

typedef struct viz_model viz_model;

/* Roles in journey order (the layout's columns follow this order). */
typedef enum {
  VIZ_ROLE_UNKNOWN,
  VIZ_ROLE_CLIENT,     /* a mail client that sends (or any client if unknown) */
  VIZ_ROLE_SUBMISSION, /* submission server (MSA, port 587) */
  VIZ_ROLE_RELAY,      /* outbound relay / MTA */
  VIZ_ROLE_MX,         /* inbound MX */
  VIZ_ROLE_MAILBOX,    /* mailbox host (IMAP/POP3 server, store) */
  VIZ_ROLE_READER,     /* a mail client that only reads */
  VIZ_ROLE_DNS,        /* DNS server or resolver */
  VIZ_ROLE_ROUTER,     /* forwards packets only */
  VIZ_ROLE_COUNT
} viz_role;
const char *viz_role_name(viz_role r);
/* Maps a header role word ("mua", "msa", "mx", "imap", ...) to a role. */
viz_role viz_role_parse(const char *word);

typedef enum {
  VIZ_PROTO_NONE,
  VIZ_PROTO_SMTP,
  VIZ_PROTO_IMAP,
  VIZ_PROTO_POP3,
  VIZ_PROTO_DNS,
  VIZ_PROTO_COUNT
} viz_proto;
const char *viz_proto_name(viz_proto p);

typedef struct {
  const char *name;
  const char *role_text; /* the header's role words, "" if none */
  viz_role role;
  const char *domain; /* host name after the first dot; "" if no dot */
  const char *addrs;  /* addresses joined by ", " */
  bool router;
  bool has_pos; /* the header gave a position */
  int64_t pos_x, pos_y;
  bool composes; /* some msg.compose happened here */
  bool fetches;  /* some msg.fetch happened here */
} viz_node;

typedef struct {
  uint32_t a, b; /* node indices: side 0 and side 1 */
  int64_t latency_ns, jitter_ns;
  uint64_t bandwidth_bps;
  uint32_t loss_ppm;
} viz_link;

typedef struct {
  int64_t t;
  uint32_t kind;       /* index for viz_model_kind_name() */
  uint32_t node, peer; /* the record's node(s), VIZ_NONE if none */
  uint32_t conn, msg;  /* connection and message indices, VIZ_NONE if none */
  uint32_t raw_len;    /* the record's text: viz_model_event_raw() */
  uint64_t raw_off;
} viz_event; /* 40 bytes */

typedef enum {
  VIZ_ARROW_CMD,   /* smtp/imap/pop3 command line */
  VIZ_ARROW_REPLY, /* reply (all lines of a multi-line reply) */
  VIZ_ARROW_DATA,  /* the message content of DATA */
  VIZ_ARROW_DNS_QUERY,
  VIZ_ARROW_DNS_RESPONSE,
  VIZ_ARROW_COUNT
} viz_arrow_kind;

/* One protocol line: drawn from (from, sent) to (to, recv). */
typedef struct {
  int64_t sent, recv;
  uint32_t from, to;
  uint32_t conn;                 /* VIZ_NONE for UDP */
  uint32_t event;                /* the record */
  uint32_t path;                 /* viz_model_path() from -> to */
  uint32_t label_off, label_len; /* viz_model_arrow_label() */
  uint16_t code;                 /* SMTP reply code; 0 if none */
  uint8_t kind;                  /* viz_arrow_kind */
  uint8_t proto;                 /* viz_proto */
  bool error;                    /* a 4xx/5xx, NO/BAD, -ERR or a DNS rcode other than NOERROR */
} viz_arrow;

/* A lost packet (net.drop): a cross at (node, t). */
typedef struct {
  int64_t t;
  uint32_t node, next, conn, event;
} viz_drop;

typedef struct {
  uint64_t id, peer_id; /* the two ends' connection ids (0 if unknown) */
  uint32_t client, server;
  viz_proto proto;
  int64_t t_open, t_est, t_tls, t_close; /* -1 if it did not happen */
  bool tls_failed;
  const char *close_kind;            /* "tcp.close", "tcp.reset", ... or "" */
  uint32_t arrow_first, arrow_count; /* viz_model_conn_arrow() */
  uint32_t msg;                      /* the first message a hop carried on it, VIZ_NONE */
} viz_conn;

typedef enum { VIZ_HOP_SUBMIT, VIZ_HOP_RELAY, VIZ_HOP_FETCH, VIZ_HOP_COUNT } viz_hop_kind;
const char *viz_hop_kind_name(viz_hop_kind k);

/* One transfer of one message between two nodes: the envelope leaves
 * `from` at t0 and reaches `to` at t1. With protocol detail t0/t1 are the
 * send and receive times of the DATA content on the hop's connection;
 * otherwise t1 is the record's time and t0 = t1 - the path's latency
 * (at least 1 ms, so it can be seen). */
typedef struct {
  int64_t t0, t1;
  uint32_t from, to, msg, conn, event, path;
  uint8_t kind; /* viz_hop_kind */
} viz_hop;

typedef struct {
  const char *key;        /* the scenario's message key ("m1") */
  const char *message_id; /* "" until composed */
  const char *from, *rcpts, *subject;
  uint32_t origin;   /* composing node */
  int64_t t_compose; /* -1 if not seen */
  int64_t t_done;    /* last deliver/bounce, -1 if none */
  uint32_t delivered, bounced, deferred;
  uint32_t hop_first, hop_count; /* viz_model_msg_hop() */
  uint32_t ev_first, ev_count;   /* viz_model_msg_event() */
  uint32_t display_event;        /* last msg.display, VIZ_NONE */
  uint32_t like;                 /* class of messages like this one: viz_model_msg_like() */
} viz_msg;

/* One DNS exchange: a query and (if it came) its response. */
typedef struct {
  uint32_t client, server;
  const char *qname, *qtype, *rcode; /* rcode "" until answered */
  int64_t t_sent, t_resp;            /* t_resp = response received, -1 if none */
  uint32_t query_arrow, resp_arrow;  /* VIZ_NONE if absent */
  bool timeout;
} viz_dns;

typedef enum {
  VIZ_MARK_COMPOSE,
  VIZ_MARK_SUBMIT,
  VIZ_MARK_RELAY,
  VIZ_MARK_DEFER,
  VIZ_MARK_DELIVER,
  VIZ_MARK_BOUNCE,
  VIZ_MARK_FETCH,
  VIZ_MARK_GREYLIST,
  VIZ_MARK_LINK_DOWN,
  VIZ_MARK_LINK_UP,
  VIZ_MARK_CRASH,
  VIZ_MARK_RESTART,
  VIZ_MARK_FAULT, /* any other fault.* */
  VIZ_MARK_COUNT
} viz_mark_kind;
const char *viz_mark_kind_name(viz_mark_kind k);

typedef struct {
  int64_t t;
  uint32_t node, msg, event;
  uint32_t link; /* for link faults, else VIZ_NONE */
  uint8_t kind;  /* viz_mark_kind */
} viz_mark;

/* --- loading ------------------------------------------------------------- */

/* Loads the trace at PATH ("-" = standard input). On bad input returns NULL
 * with *ERR set; the message names the file and line (from the reader)
 * and what was expected. Never aborts on bad input. */
viz_model *viz_model_load(const char *path, GError **err);
/* The same from memory (copied); NAME is used in messages. */
viz_model *viz_model_load_memory(const char *name, const char *data, size_t len, GError **err);
void viz_model_free(viz_model *m);

/* --- the whole trace ------------------------------------------------------ */

const char *viz_model_scenario(const viz_model *m);
const char *viz_model_detail(const viz_model *m);
const char *viz_model_source(const viz_model *m); /* file name */
uint64_t viz_model_seed(const viz_model *m);
int64_t viz_model_t_first(const viz_model *m); /* 0 if no events */
int64_t viz_model_t_last(const viz_model *m);
/* Records mapped to no node although a node was named (unknown names). */
uint64_t viz_model_unknown_refs(const viz_model *m);
/* Bytes held by the model (arrays, strings, record text): for the
 * benchmark's memory figure. */
size_t viz_model_memory(const viz_model *m);

size_t viz_model_node_count(const viz_model *m);
const viz_node *viz_model_node(const viz_model *m, uint32_t i);
uint32_t viz_model_node_find(const viz_model *m, const char *name); /* VIZ_NONE */
size_t viz_model_link_count(const viz_model *m);
const viz_link *viz_model_link(const viz_model *m, uint32_t i);

size_t viz_model_event_count(const viz_model *m);
const viz_event *viz_model_event(const viz_model *m, uint32_t i);
const char *viz_model_kind_name(const viz_model *m, uint32_t kind);
/* The record's exact text (no newline); *LEN its length. */
const char *viz_model_event_raw(const viz_model *m, uint32_t i, size_t *len);

size_t viz_model_arrow_count(const viz_model *m);
const viz_arrow *viz_model_arrow(const viz_model *m, uint32_t i);
/* The arrow's label: the line without CRLF, control octets shown as '.',
 * the lines of a multi-line reply joined by " | ", at most 160 octets.
 * Not NUL-terminated: use *LEN. */
const char *viz_model_arrow_label(const viz_model *m, uint32_t i, size_t *len);

size_t viz_model_drop_count(const viz_model *m);
const viz_drop *viz_model_drop(const viz_model *m, uint32_t i);
size_t viz_model_conn_count(const viz_model *m);
const viz_conn *viz_model_conn(const viz_model *m, uint32_t i);
uint32_t viz_model_conn_arrow(const viz_model *m, uint32_t conn, uint32_t k); /* k-th arrow */
size_t viz_model_msg_count(const viz_model *m);
const viz_msg *viz_model_msg(const viz_model *m, uint32_t i);
uint32_t viz_model_msg_find(const viz_model *m, const char *key); /* by key; VIZ_NONE */
const viz_hop *viz_model_msg_hop(const viz_model *m, uint32_t msg, uint32_t k);
uint32_t viz_model_msg_event(const viz_model *m, uint32_t msg, uint32_t k);
size_t viz_model_hop_count(const viz_model *m);
const viz_hop *viz_model_hop(const viz_model *m, uint32_t i); /* sorted by t1 */
size_t viz_model_dns_count(const viz_model *m);
const viz_dns *viz_model_dns(const viz_model *m, uint32_t i);
size_t viz_model_mark_count(const viz_model *m);
const viz_mark *viz_model_mark(const viz_model *m, uint32_t i); /* sorted by t */

/* A route between two nodes over the links (least latency, then fewest
 * hops, then lowest node indices): N nodes, N-1 links. N = 2 with link
 * VIZ_NONE when the header joins them by no links. */
uint32_t viz_model_path_len(const viz_model *m, uint32_t path);
uint32_t viz_model_path_node(const viz_model *m, uint32_t path, uint32_t k);
uint32_t viz_model_path_link(const viz_model *m, uint32_t path, uint32_t k); /* k < len-1 */

/* --- time queries ---------------------------------------------------------- */

/* First event with t >= T (event_count if none). */
uint32_t viz_model_event_at(const viz_model *m, int64_t t);
/* Time of the first event after T / the last before T; T itself if none. */
int64_t viz_model_next_event_time(const viz_model *m, int64_t t);
int64_t viz_model_prev_event_time(const viz_model *m, int64_t t);
/* Arrival time of the next / previous hop (t1) after / before T. */
int64_t viz_model_next_hop_time(const viz_model *m, int64_t t);
int64_t viz_model_prev_hop_time(const viz_model *m, int64_t t);

bool viz_model_link_up(const viz_model *m, uint32_t link, int64_t t);
bool viz_model_node_up(const viz_model *m, uint32_t node, int64_t t);
/* Messages queued at NODE at time T, and how many of them were deferred. */
void viz_model_node_queue(const viz_model *m, uint32_t node, int64_t t, uint32_t *queued,
                          uint32_t *deferred);

typedef enum { VIZ_FLIGHT_ENVELOPE, VIZ_FLIGHT_DNS, VIZ_FLIGHT_LINE } viz_flight_kind;
/* Something in flight at time t, placed on one segment of its path:
 * between nodes seg_from and seg_to (over `link`, VIZ_NONE if the nodes
 * share no link) at frac_ppm of the way (0..VIZ_PPM). `index` is a hop
 * (ENVELOPE) or an arrow (DNS, LINE). */
typedef struct {
  uint8_t kind; /* viz_flight_kind */
  uint32_t index;
  uint32_t seg_from, seg_to, link;
  uint32_t frac_ppm;
} viz_flight;
/* Appends to OUT (GArray of viz_flight) what is in flight at T (t0 <= T < t1),
 * envelopes first in hop order, then arrows in arrow order. Protocol lines
 * (LINE) only if WITH_LINES. */
void viz_model_in_flight(const viz_model *m, int64_t t, bool with_lines, GArray *out);
/* Appends to OUT (GArray of uint32 arrow indices, ascending) every arrow
 * with sent <= T1 and recv >= T0. */
void viz_model_arrows_in(const viz_model *m, int64_t t0, int64_t t1, GArray *out);
/* First mark / drop with t >= T (count if none). */
uint32_t viz_model_mark_at(const viz_model *m, int64_t t);
uint32_t viz_model_drop_at(const viz_model *m, int64_t t);
/* First arrow with recv >= T (arrow_count if none); arrows are sorted by
 * recv. */
uint32_t viz_model_arrow_at(const viz_model *m, int64_t t);
/* Appends to OUT (GArray of uint32) connections open at T, ascending. */
void viz_model_conns_open(const viz_model *m, int64_t t, GArray *out);
/* Finds a message whose key, Message-ID, sender or recipients contain TEXT
 * (case-insensitive), starting after index AFTER (VIZ_NONE: from the
 * start), wrapping around. VIZ_NONE if none. */
uint32_t viz_model_msg_search(const viz_model *m, const char *text, uint32_t after);

/* --- the inspector --------------------------------------------------------- */

typedef enum { VIZ_INSP_TITLE, VIZ_INSP_HEADING, VIZ_INSP_FIELD, VIZ_INSP_ITEM } viz_insp_kind;
typedef struct {
  viz_insp_kind kind;
  char *key;  /* FIELD: the name; ITEM: a time or "" */
  char *text; /* the value */
} viz_insp_line;
typedef struct viz_inspect viz_inspect;

/* What the inspector lists, as lines: a message (envelope, headers,
 * Received path, authentication results, attachments, hops, events), a
 * connection (ends, times, TLS, its whole dialogue), a node (role,
 * addresses, state, queue and mailboxes at T, connections), a link
 * (ends, parameters, state at T). Caller frees with viz_inspect_free. */
viz_inspect *viz_model_inspect_msg(const viz_model *m, uint32_t msg);
viz_inspect *viz_model_inspect_conn(const viz_model *m, uint32_t conn);
viz_inspect *viz_model_inspect_node(const viz_model *m, uint32_t node, int64_t t);
viz_inspect *viz_model_inspect_link(const viz_model *m, uint32_t link, int64_t t);
/* One record: its time, kind and every key (bytes shown as text). */
viz_inspect *viz_model_inspect_event(const viz_model *m, uint32_t event);
size_t viz_inspect_count(const viz_inspect *in);
const viz_insp_line *viz_inspect_line(const viz_inspect *in, size_t i);
/* "Messages like this": two messages are alike when they have the same
 * sender address, the same set of recipient domains and the same subject
 * once every run of digits is read as one '#' (case ignored throughout),
 * so "load 17" from a@x to b@y is like "load 18" from a@x to c@y. Classes
 * are numbered in the order of their first message. The text is the
 * class's description ("a@x to y, subject \"load #\""), borrowed. */
uint32_t viz_model_like_count(const viz_model *m);
const char *viz_model_like_text(const viz_model *m, uint32_t like);
/* The first node whose name or addresses contain TEXT (case ignored),
 * cycling after AFTER (VIZ_NONE: from the first); VIZ_NONE if none. */
uint32_t viz_model_node_search(const viz_model *m, const char *text, uint32_t after);

/* True if some line's text (or key) contains NEEDLE: for tests and search. */
bool viz_inspect_contains(const viz_inspect *in, const char *needle);
void viz_inspect_free(viz_inspect *in);

#endif
