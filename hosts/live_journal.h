/* live_journal.h — the journal of a live session: every input that came
 * from outside the simulation, with the virtual time it entered at.
 *
 * Format (traces/JOURNAL.md): JSON Lines. Line 1 is the header: format
 * "mailsim-journal", version, the scenario (its file name and its whole
 * text, so a journal replays on its own), seed, trace detail, and the
 * gateways in creation order (each the name of its target host). Every
 * later line is one input, in the order it was given: "t" (virtual ns),
 * "in" (open, data, shut, abort, dgram, end), "id" (the outside connection
 * or datagram), "gw" (gateway index, for open and dgram), "port" (open,
 * dgram), "b64" (data, dgram: the bytes in base64). The last line is "end":
 * the virtual time the session stopped at.
 *
 * Replaying the inputs in order — run the world to "t", then give the input
 * — reproduces the session exactly (live_gw.h: inputs only between runs).
 */
#ifndef MAILSIM_LIVE_JOURNAL_H
#define MAILSIM_LIVE_JOURNAL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim_time.h"

#define LIVE_JOURNAL_FORMAT "mailsim-journal"
#define LIVE_JOURNAL_VERSION 1

typedef enum {
  LIVE_IN_OPEN,  /* a connection to gateway gw's target, port */
  LIVE_IN_DATA,  /* bytes from the client of id */
  LIVE_IN_SHUT,  /* the client of id half-closed */
  LIVE_IN_ABORT, /* the client of id reset, or live mode dropped it */
  LIVE_IN_DGRAM, /* a datagram id to gateway gw's target, port */
  LIVE_IN_END,   /* the session stopped at t */
  LIVE_IN_COUNT
} live_in_kind;
const char *live_in_kind_name(live_in_kind k);

typedef struct {
  sim_time t;
  live_in_kind kind;
  uint64_t id;
  uint32_t gw;
  uint16_t port;
  const uint8_t *buf; /* data, dgram (borrowed) */
  size_t len;
} live_input;

typedef struct {
  char *scenario_file; /* the file name it was loaded from (for people) */
  char *scenario;      /* the scenario's text */
  uint64_t seed;
  char *detail;        /* "messages", "protocol", "packets" */
  GPtrArray *gateways; /* char*: target host names, in creation order */
} live_journal_header;

void live_journal_header_clear(live_journal_header *h);

typedef struct live_journal live_journal;

/* Creates PATH and writes the header. NULL with ERR set on failure. */
live_journal *live_journal_create(const char *path, const live_journal_header *h, GError **err);
/* Appends one input (flushed at once: a killed session keeps its journal). */
void live_journal_write(live_journal *j, const live_input *in);
/* Closes the file; false with ERR if a write failed. Frees J. */
bool live_journal_close(live_journal *j, GError **err);

typedef struct live_journal_reader live_journal_reader;

/* Opens PATH and reads its header into H (caller clears it). NULL with ERR
 * (naming the file and line) when it is not a journal this build reads. */
live_journal_reader *live_journal_open(const char *path, live_journal_header *h, GError **err);
/* The next input into IN (IN->buf valid until the next call). Returns 1,
 * 0 at the end of the file, -1 with ERR on a malformed line. */
int live_journal_next(live_journal_reader *r, live_input *in, GError **err);
void live_journal_reader_free(live_journal_reader *r);

#endif
