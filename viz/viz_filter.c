/* viz_filter.c — the view state's filters (protocol, message, host, "hide
 * messages like this") as predicates over the model's rows, so the views
 * and the tests share one definition (see viz_filter.h). */
#include "viz_filter.h"

static bool like_hidden(const viz_model *m, const viz_view_state *s, uint32_t msg) {
  if (msg == VIZ_NONE || !s->n_hidden)
    return false;
  uint32_t like = viz_model_msg(m, msg)->like;
  for (unsigned i = 0; i < s->n_hidden; i++)
    if (s->hidden_like[i] == like)
      return true;
  return false;
}

static bool proto_shown(const viz_view_state *s, unsigned proto) {
  return !s->proto_mask || (s->proto_mask & (1u << proto));
}

uint32_t viz_filter_arrow_msg(const viz_model *m, uint32_t arrow) {
  const viz_arrow *a = viz_model_arrow(m, arrow);
  uint32_t msg = viz_model_event(m, a->event)->msg;
  if (msg == VIZ_NONE && a->conn != VIZ_NONE)
    msg = viz_model_conn(m, a->conn)->msg;
  return msg;
}

bool viz_filter_msg_shown(const viz_model *m, const viz_view_state *s, uint32_t msg) {
  if (s->focus_msg != VIZ_NONE && msg != s->focus_msg)
    return false;
  return !like_hidden(m, s, msg);
}

bool viz_filter_arrow_shown(const viz_model *m, const viz_view_state *s, uint32_t arrow) {
  const viz_arrow *a = viz_model_arrow(m, arrow);
  if (!proto_shown(s, a->proto))
    return false;
  if (s->focus_node != VIZ_NONE && a->from != s->focus_node && a->to != s->focus_node)
    return false;
  if (s->focus_msg == VIZ_NONE && !s->n_hidden)
    return true;
  uint32_t msg = viz_filter_arrow_msg(m, arrow);
  return msg == VIZ_NONE || viz_filter_msg_shown(m, s, msg);
}

bool viz_filter_hop_shown(const viz_model *m, const viz_view_state *s, uint32_t hop) {
  const viz_hop *h = viz_model_hop(m, hop);
  if (s->proto_mask) {
    /* the hop's connection's protocol; without one, SMTP for a transfer,
     * IMAP or POP3 for a fetch */
    unsigned p = h->conn != VIZ_NONE ? viz_model_conn(m, h->conn)->proto : VIZ_PROTO_NONE;
    if (p == VIZ_PROTO_NONE && h->kind != VIZ_HOP_FETCH)
      p = VIZ_PROTO_SMTP;
    bool shown = p != VIZ_PROTO_NONE
                     ? proto_shown(s, p)
                     : proto_shown(s, VIZ_PROTO_IMAP) || proto_shown(s, VIZ_PROTO_POP3);
    if (!shown)
      return false;
  }
  if (s->focus_node != VIZ_NONE && h->from != s->focus_node && h->to != s->focus_node)
    return false;
  return h->msg == VIZ_NONE ? s->focus_msg == VIZ_NONE : viz_filter_msg_shown(m, s, h->msg);
}

bool viz_filter_mark_shown(const viz_model *m, const viz_view_state *s, uint32_t mark) {
  const viz_mark *mk = viz_model_mark(m, mark);
  if (s->focus_node != VIZ_NONE && mk->node != s->focus_node)
    return false;
  if (mk->msg == VIZ_NONE)
    return s->focus_msg == VIZ_NONE;
  return viz_filter_msg_shown(m, s, mk->msg);
}

bool viz_filter_hide_like(const viz_model *m, viz_view_state *s, uint32_t msg) {
  if (like_hidden(m, s, msg) || s->n_hidden >= VIZ_HIDE_MAX)
    return false;
  s->hidden_like[s->n_hidden++] = viz_model_msg(m, msg)->like;
  if (s->focus_msg == msg)
    s->focus_msg = VIZ_NONE;
  return true;
}

void viz_filter_clear(viz_view_state *s) {
  s->proto_mask = 0;
  s->focus_msg = VIZ_NONE;
  s->focus_node = VIZ_NONE;
  s->n_hidden = 0;
}

bool viz_filter_active(const viz_view_state *s) {
  return s->proto_mask || s->focus_msg != VIZ_NONE || s->focus_node != VIZ_NONE || s->n_hidden;
}

char *viz_filter_describe(const viz_model *m, const viz_view_state *s) {
  GString *out = g_string_new(NULL);
  if (s->proto_mask) {
    for (unsigned p = 1; p < VIZ_PROTO_COUNT; p++)
      if (s->proto_mask & (1u << p))
        g_string_append_printf(out, "%s%s", out->len ? "+" : "", viz_proto_name((viz_proto)p));
  }
  if (s->focus_msg != VIZ_NONE)
    g_string_append_printf(out, "%smessage %s", out->len ? "; " : "",
                           viz_model_msg(m, s->focus_msg)->key);
  if (s->focus_node != VIZ_NONE)
    g_string_append_printf(out, "%shost %s", out->len ? "; " : "",
                           viz_model_node(m, s->focus_node)->name);
  if (s->n_hidden == 1)
    g_string_append_printf(out, "%shiding %s", out->len ? "; " : "",
                           viz_model_like_text(m, s->hidden_like[0]));
  else if (s->n_hidden)
    g_string_append_printf(out, "%shiding %u kinds of message", out->len ? "; " : "", s->n_hidden);
  return g_string_free(out, FALSE);
}
