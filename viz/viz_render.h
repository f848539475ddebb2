/* viz_render.h — the views, drawn on an SDL_Renderer, synchronised on one
 * time cursor: a header bar, the topology (hosts, links by state,
 * envelopes in flight, DNS dots, TLS locks, queue badges), the sequence
 * chart (lifelines and slanted arrows from send to receive time), the
 * timeline strip (the whole run with markers), the inspector panel and
 * the help overlay.
 *
 * The same code draws the window and the headless pictures; headless
 * pictures go through an RGB888 surface and the software renderer, and are
 * byte-reproducible (viz_render_png). What is drawn is a pure function of
 * (model, view state, size).
 */
#ifndef MAILSIM_VIZ_RENDER_H
#define MAILSIM_VIZ_RENDER_H

#include <SDL.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "viz_model.h"

typedef enum {
  VIZ_VIEW_TOPOLOGY = 1,
  VIZ_VIEW_SEQUENCE = 2,
  VIZ_VIEW_TIMELINE = 4,
  VIZ_VIEW_ALL = 7,
} viz_view;
/* "topology", "sequence", "timeline" or "all" -> bits; false if unknown. */
bool viz_view_parse(const char *name, unsigned *views);

typedef enum {
  VIZ_SEL_NONE,
  VIZ_SEL_NODE,
  VIZ_SEL_LINK,
  VIZ_SEL_MSG,
  VIZ_SEL_CONN,
  VIZ_SEL_EVENT /* one record (a DNS line, a step without a message) */
} viz_sel_kind;
typedef struct {
  viz_sel_kind kind;
  uint32_t index;
} viz_selection;
/* "node:NAME", "msg:KEY", "conn:N" (connection index), "link:N",
 * "event:N" (event index); false if it names nothing in M. */
bool viz_selection_parse(const viz_model *m, const char *text, viz_selection *out);

/* Errors of the renderer: a bad size or time argument, SDL failures. */
GQuark viz_render_error_quark(void);

#define VIZ_HIDE_MAX 16 /* "hide messages like this", at most this many classes */

typedef struct {
  int64_t t;           /* the time cursor */
  unsigned views;      /* viz_view bits */
  bool seq_linear;     /* sequence chart: linear time axis (default: compressed idle gaps) */
  int64_t seq_span;    /* linear axis: the span shown (ns) */
  int seq_row;         /* compressed axis: pixels per row (12..40) */
  bool show_lines;     /* topology: a dot for every protocol line in flight */
  unsigned proto_mask; /* protocols shown (bits 1 << viz_proto); 0 = all */
  uint32_t focus_msg;  /* only this message's envelopes and steps; VIZ_NONE = all */
  uint32_t focus_node; /* only what this host sends or receives; VIZ_NONE = all */
  uint32_t hidden_like[VIZ_HIDE_MAX]; /* "like" classes hidden (viz_model_like_text) */
  unsigned n_hidden;
  viz_selection sel;    /* highlighted, and shown in the inspector */
  int inspector_scroll; /* first inspector line shown */
  bool help;            /* the help overlay */
  bool playing;
  int64_t speed_milli; /* playback speed x 1000 (header only) */
  const char *status;  /* a line for the header (borrowed), or NULL */
} viz_view_state;
/* Defaults: cursor at the first event, all views, compressed axis. */
void viz_view_state_init(viz_view_state *s, const viz_model *m);

/* Named moments for pictures and golden files: "start", "end",
 * "first-submission", "mx-lookup", "greylisting", "delivery", "imap-fetch",
 * "pop3-fetch", "bounce", "fault". Each is a time at which the thing is
 * visible (an envelope mid-hop, a query mid-flight). False if the trace
 * has no such moment or the name is unknown. */
bool viz_moment(const viz_model *m, const char *name, int64_t *t);
/* A duration ("1m30s", see trace_time.h) or a moment name. *ERR names
 * the text and what was expected. */
bool viz_time_arg(const viz_model *m, const char *text, int64_t *t, GError **err);

typedef struct viz_render viz_render;
/* Draws on R (borrowed) from M (borrowed). NULL and *ERR if the fonts
 * cannot be opened. */
viz_render *viz_render_new(SDL_Renderer *r, const viz_model *m, GError **err);
void viz_render_free(viz_render *v);
/* Draws one frame of W x H pixels (does not present). */
void viz_render_frame(viz_render *v, const viz_view_state *s, int w, int h);
/* What is under (X, Y) in the last frame drawn (topmost), or VIZ_SEL_NONE. */
viz_selection viz_render_hit(const viz_render *v, int x, int y);

/* The time under (X, Y) if it is on the timeline of the last frame. */
bool viz_render_timeline_time(const viz_render *v, int x, int y, int64_t *t);

/* Headless: draws one frame on an RGB888 surface with the software
 * renderer and writes it as PNG to PATH. Byte-reproducible. */
bool viz_render_png(const viz_model *m, const viz_view_state *s, int w, int h, const char *path,
                    GError **err);
/* The same into a new RGB888 surface (caller frees), for tests. */
SDL_Surface *viz_render_surface(const viz_model *m, const viz_view_state *s, int w, int h,
                                GError **err);

#endif
