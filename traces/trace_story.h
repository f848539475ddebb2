/* trace_story.h — the journey of each message in a trace, step by step,
 * in words: what `mailsim explain` prints and the viewer's inspector lists.
 *
 * Reads msg.* records (a message is named by its Message-ID, key "msg"),
 * the policy.* verdicts about it, and the protocol lines of the connections
 * that carried it (smtp/imap/pop3 lines, by connection id; both ends of a
 * connection are paired through tcp.accept's "peer"), and the DNS answers
 * the host holding it received for its recipients' domains while it was
 * queued there. A policy verdict made at RCPT (no "msg", a "conn") is
 * joined to the msg.relay of its connection, or, a deferral, to the
 * sender's next msg.defer with the same recipient and sender; it is placed
 * at its own time. Works on any readable trace; messages-only traces give the
 * steps without dialogues.
 */
#ifndef MAILSIM_TRACE_STORY_H
#define MAILSIM_TRACE_STORY_H

#include <glib.h>
#include <stdint.h>

#include "trace_read.h"

typedef struct {
  int64_t t;          /* ns */
  char *text;         /* one sentence */
  GPtrArray *details; /* char*: the protocol lines that mattered, "A -> B: LINE" */
} trace_step;

typedef struct {
  char *msg;       /* the Message-ID */
  char *from;      /* the sender's address, "" if unknown */
  char *subject;   /* "" if unknown */
  GPtrArray *rcpts; /* char* */
  GPtrArray *steps; /* trace_step* in time order */
  unsigned delivered, bounced, deferred, fetched;
  int64_t first, last; /* times of the first and last step */
} trace_story;

/* Reads R to its end and returns the stories (trace_story*, in order of
 * first appearance; free with g_ptr_array_unref). NULL with *ERR on a read
 * error. */
GPtrArray *trace_story_read(trace_reader *r, GError **err);
/* The story whose Message-ID is ID or begins with ID (e.g. "m1"), or NULL
 * (borrowed from STORIES). */
const trace_story *trace_story_find(const GPtrArray *stories, const char *id);
/* One line about the outcome: "delivered 2, fetched 2" (new string). */
char *trace_story_outcome(const trace_story *s);

#endif
