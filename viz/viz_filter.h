/* viz_filter.h — what the view state's filters leave on screen, decided
 * without pixels (the views draw exactly what these say is shown; tests
 * ask them which arrows, envelopes and marks remain).
 *
 * The filters of a viz_view_state combine with "and":
 * - proto_mask: protocol lines (arrows, dots in flight) of these
 *   protocols; envelopes whose hop ran on a connection of another
 *   protocol are hidden too (a hop without a connection counts as SMTP,
 *   a fetch without one as IMAP or POP3);
 * - focus_msg: only this message: its envelopes and marks, and the lines
 *   of connections that carried it (lines of no message, e.g. DNS, stay);
 * - focus_node: only what this host sends or receives (lines, envelopes,
 *   marks at it);
 * - hidden_like: "hide messages like this" (viz_model_like_text): the
 *   envelopes, marks and connection lines of every message of these
 *   classes.
 */
#ifndef MAILSIM_VIZ_FILTER_H
#define MAILSIM_VIZ_FILTER_H

#include "viz_model.h"
#include "viz_render.h"

/* The message a line belongs to: its record's, else its connection's;
 * VIZ_NONE if neither. */
uint32_t viz_filter_arrow_msg(const viz_model *m, uint32_t arrow);

bool viz_filter_msg_shown(const viz_model *m, const viz_view_state *s, uint32_t msg);
bool viz_filter_arrow_shown(const viz_model *m, const viz_view_state *s, uint32_t arrow);
bool viz_filter_hop_shown(const viz_model *m, const viz_view_state *s, uint32_t hop);
bool viz_filter_mark_shown(const viz_model *m, const viz_view_state *s, uint32_t mark);

/* Hides the class of messages like MSG; false if it is already hidden or
 * VIZ_HIDE_MAX classes are. */
bool viz_filter_hide_like(const viz_model *m, viz_view_state *s, uint32_t msg);
/* Clears every filter (protocols, focus, host, hidden classes). */
void viz_filter_clear(viz_view_state *s);
/* True if any filter is set. */
bool viz_filter_active(const viz_view_state *s);
/* A one-line description of the filters set ("SMTP; host mx.example.org;
 * 2 kinds of message hidden"), "" if none; g_free it. */
char *viz_filter_describe(const viz_model *m, const viz_view_state *s);

#endif
