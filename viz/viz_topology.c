/* viz_topology.c — the topology view: hosts as labelled shapes by role,
 * grouped by domain, links by state (down: red, dashed), envelopes moving
 * along their hop's path, DNS queries as dots, a lock on each connection
 * with TLS up, queue badges on MTAs, and a caption with the latest steps
 * of the journey. */
#include <string.h>

#include "trace_time.h"
#include "viz_filter.h"
#include "viz_render_int.h"

#define BOX_W 92
#define BOX_H 34

static SDL_Point at(const viz_layout *l, SDL_Rect in, uint32_t node) {
  viz_point p = viz_layout_pos(l, node);
  SDL_Point q = {in.x + p.x, in.y + p.y};
  return q;
}

/* A point FRAC ppm of the way from A to B. */
static SDL_FPoint lerp(SDL_Point a, SDL_Point b, uint32_t frac) {
  float f = (float)frac / (float)VIZ_PPM;
  SDL_FPoint p = {(float)a.x + ((float)b.x - (float)a.x) * f,
                  (float)a.y + ((float)b.y - (float)a.y) * f};
  return p;
}

static void draw_groups(viz_render *v, const viz_layout *l, SDL_Rect in) {
  for (size_t i = 0; i < viz_layout_group_count(l); i++) {
    const viz_layout_box *g = viz_layout_group(l, i);
    viz_draw_round_box(v->r, in.x + g->x0, in.y + g->y0, g->x1 - g->x0, g->y1 - g->y0, 10,
                       viz_rgb(0xF1F5F8), viz_rgb(0xCFD8DC));
    viz_text_draw(v->text, VIZ_FONT_SMALL, in.x + g->x0 + 8, in.y + g->y0 + 3, viz_rgb(0x607D8B),
                  VIZ_ALIGN_LEFT, g->x1 - g->x0 - 12, g->domain, -1);
  }
}

static void draw_links(viz_render *v, const viz_view_state *s, const viz_layout *l, SDL_Rect in) {
  const viz_model *m = v->m;
  for (uint32_t i = 0; i < viz_model_link_count(m); i++) {
    const viz_link *k = viz_model_link(m, i);
    SDL_Point a = at(l, in, k->a), b = at(l, in, k->b);
    bool up = viz_model_link_up(m, i, s->t);
    bool sel = s->sel.kind == VIZ_SEL_LINK && s->sel.index == i;
    if (sel)
      viz_draw_line(v->r, (float)a.x, (float)a.y, (float)b.x, (float)b.y, 8,
                    viz_rgba(VIZ_C_SELECT, 160));
    int mx = (a.x + b.x) / 2, my = (a.y + b.y) / 2;
    if (up) {
      viz_draw_line(v->r, (float)a.x, (float)a.y, (float)b.x, (float)b.y, 2, viz_rgb(0xB0BEC5));
    } else {
      viz_draw_dashed(v->r, (float)a.x, (float)a.y, (float)b.x, (float)b.y, 3, 9, 6,
                      viz_rgb(VIZ_C_ERROR));
      viz_draw_round_box(v->r, mx - 22, my - 9, 44, 18, 9, viz_rgb(VIZ_C_ERROR), viz_rgba(0, 0));
      viz_text_draw(v->text, VIZ_FONT_SMALL, mx, my - 7, viz_rgb(0xFFFFFF), VIZ_ALIGN_CENTER, 0,
                    "down", -1);
    }
    viz__hit_add(v, mx - 10, my - 10, 20, 20, VIZ_SEL_LINK, i);
  }
}

static void node_shape(viz_render *v, viz_role role, int cx, int cy, SDL_Color c, bool up) {
  SDL_Color fill = up ? c : viz_rgb(0xBDBDBD), edge = viz_rgb(0x37474F);
  int x = cx - BOX_W / 2, y = cy - BOX_H / 2;
  switch (role) {
  case VIZ_ROLE_ROUTER:
    viz_draw_circle(v->r, (float)cx, (float)cy, 11, edge);
    viz_draw_circle(v->r, (float)cx, (float)cy, 10, fill);
    viz_draw_line(v->r, (float)cx - 5, (float)cy, (float)cx + 5, (float)cy, 2, viz_rgb(0xFFFFFF));
    viz_draw_line(v->r, (float)cx, (float)cy - 5, (float)cx, (float)cy + 5, 2, viz_rgb(0xFFFFFF));
    return;
  case VIZ_ROLE_DNS:
    viz_draw_circle(v->r, (float)cx, (float)cy, 21, fill);
    viz_draw_ring(v->r, (float)cx, (float)cy, 21, 1.5f, edge);
    return;
  case VIZ_ROLE_CLIENT:
  case VIZ_ROLE_READER:
    /* a laptop: screen and base */
    viz_draw_round_box(v->r, x + 10, y, BOX_W - 20, BOX_H - 6, 4, fill, edge);
    viz_draw_round_box(v->r, x + 2, y + BOX_H - 7, BOX_W - 4, 7, 3, viz_tint(fill, 60), edge);
    return;
  case VIZ_ROLE_MAILBOX:
    /* a store: box with drawer lines */
    viz_draw_round_box(v->r, x, y, BOX_W, BOX_H, 4, fill, edge);
    viz_draw_rect(v->r, x + 1, y + 8, BOX_W - 2, 1, viz_tint(fill, 120));
    return;
  case VIZ_ROLE_SUBMISSION:
  case VIZ_ROLE_RELAY:
  case VIZ_ROLE_MX:
  case VIZ_ROLE_UNKNOWN:
    viz_draw_round_box(v->r, x, y, BOX_W, BOX_H, 3, fill, edge);
    return;
  case VIZ_ROLE_COUNT:
  default:
    g_assert_not_reached();
  }
}

static void draw_nodes(viz_render *v, const viz_view_state *s, const viz_layout *l, SDL_Rect in) {
  const viz_model *m = v->m;
  int label_w = MAX(viz_layout_column_step(l) - 8, 60);
  for (uint32_t i = 0; i < viz_model_node_count(m); i++) {
    const viz_node *n = viz_model_node(m, i);
    viz_role role = viz_layout_role(l, i);
    SDL_Point p = at(l, in, i);
    bool up = viz_model_node_up(m, i, s->t);
    bool router = role == VIZ_ROLE_ROUTER;
    int hw = router ? 12 : role == VIZ_ROLE_DNS ? 22 : BOX_W / 2;
    int hh = router ? 12 : role == VIZ_ROLE_DNS ? 22 : BOX_H / 2;
    if (s->sel.kind == VIZ_SEL_NODE && s->sel.index == i)
      viz_draw_round_box(v->r, p.x - hw - 5, p.y - hh - 5, 2 * hw + 10, 2 * hh + 10, 8,
                         viz_rgba(VIZ_C_SELECT, 200), viz_rgba(0, 0));
    node_shape(v, role, p.x, p.y, viz__role_color(role), up);
    if (!router)
      viz_text_draw(v->text, VIZ_FONT_BOLD, p.x, p.y - (role == VIZ_ROLE_DNS ? 8 : 10),
                    viz_rgb(0xFFFFFF), VIZ_ALIGN_CENTER, 2 * hw - 6, viz__role_caption(role), -1);
    /* inside its domain's box a host is named by its first label: the box
     * already says the rest ("mx" in "bob.example") */
    bool boxed = *n->domain && !router;
    gssize name_len = boxed ? (gssize)(strchr(n->name, '.') - n->name) : -1;
    viz_text_draw(v->text,
                  router  ? VIZ_FONT_SMALL
                  : boxed ? VIZ_FONT_BOLD
                          : VIZ_FONT_NORMAL,
                  p.x, p.y + hh + 3, viz_rgb(VIZ_C_TEXT), VIZ_ALIGN_CENTER, label_w, n->name,
                  name_len);
    if (!up) {
      viz_draw_cross(v->r, (float)p.x, (float)p.y, 12, 4, viz_rgb(VIZ_C_ERROR));
      viz_text_draw(v->text, VIZ_FONT_BOLD, p.x, p.y - hh - 18, viz_rgb(VIZ_C_ERROR),
                    VIZ_ALIGN_CENTER, 0, "crashed", -1);
    }
    uint32_t q, d;
    viz_model_node_queue(m, i, s->t, &q, &d);
    if (q) {
      char badge[64];
      if (d)
        g_snprintf(badge, sizeof badge, "%u queued \xc2\xb7 %u deferred", q, d);
      else
        g_snprintf(badge, sizeof badge, "%u queued", q);
      int bw = viz_text_width(v->text, VIZ_FONT_SMALL, badge, -1) + 12;
      SDL_Color bc = viz_rgb(d ? 0xE65100 : 0xF9A825);
      viz_draw_round_box(v->r, p.x - bw / 2, p.y - hh - 19, bw, 16, 8, bc, viz_rgba(0, 0));
      viz_text_draw(v->text, VIZ_FONT_SMALL, p.x, p.y - hh - 18, viz_rgb(0xFFFFFF),
                    VIZ_ALIGN_CENTER, 0, badge, -1);
    }
    viz__hit_add(v, p.x - hw, p.y - hh, 2 * hw, 2 * hh + 18, VIZ_SEL_NODE, i);
  }
}

/* A lock on the middle segment of each connection with TLS up. */
static void draw_locks(viz_render *v, const viz_view_state *s, const viz_layout *l, SDL_Rect in) {
  const viz_model *m = v->m;
  g_array_set_size(v->idx, 0);
  viz_model_conns_open(m, s->t, v->idx);
  for (guint i = 0; i < v->idx->len; i++) {
    uint32_t ci = g_array_index(v->idx, uint32_t, i);
    const viz_conn *c = viz_model_conn(m, ci);
    if (c->t_tls < 0 || c->t_tls > s->t || !c->arrow_count)
      continue;
    const viz_arrow *a = viz_model_arrow(m, viz_model_conn_arrow(m, ci, 0));
    if (a->path == VIZ_NONE)
      continue;
    uint32_t len = viz_model_path_len(m, a->path), k = (len - 1) / 2;
    SDL_Point p0 = at(l, in, viz_model_path_node(m, a->path, k));
    SDL_Point p1 = at(l, in, viz_model_path_node(m, a->path, k + 1));
    SDL_FPoint mid = lerp(p0, p1, VIZ_PPM / 2);
    viz_draw_circle(v->r, mid.x, mid.y - 12, 10, viz_rgb(0xFFFFFF));
    viz_draw_lock(v->r, (int)mid.x, (int)mid.y - 12, viz_rgb(0xF9A825));
    viz__hit_add(v, (int)mid.x - 8, (int)mid.y - 20, 16, 16, VIZ_SEL_CONN, ci);
  }
}

static bool inside_host(const viz_layout *l, uint32_t node, SDL_Point c, SDL_FPoint p) {
  if (viz_layout_role(l, node) == VIZ_ROLE_ROUTER)
    return false;
  return p.x > (float)(c.x - BOX_W / 2 - 4) && p.x < (float)(c.x + BOX_W / 2 + 4) &&
         p.y > (float)(c.y - BOX_H / 2 - 4) && p.y < (float)(c.y + BOX_H / 2 + 4);
}

static void draw_flight(viz_render *v, const viz_view_state *s, const viz_layout *l, SDL_Rect in) {
  const viz_model *m = v->m;
  g_array_set_size(v->flight, 0);
  viz_model_in_flight(m, s->t, s->show_lines, v->flight);
  /* with a few lines in flight, each dot is labelled with its line */
  int lines = 0;
  for (guint i = 0; i < v->flight->len; i++)
    lines += g_array_index(v->flight, viz_flight, i).kind != VIZ_FLIGHT_ENVELOPE;
  /* lines and DNS first, envelopes on top */
  for (int pass = 0; pass < 2; pass++) {
    for (guint i = 0; i < v->flight->len; i++) {
      const viz_flight *f = &g_array_index(v->flight, viz_flight, i);
      bool env = f->kind == VIZ_FLIGHT_ENVELOPE;
      if (env != (pass == 1))
        continue;
      if (env ? !viz_filter_hop_shown(m, s, f->index) : !viz_filter_arrow_shown(m, s, f->index))
        continue;
      SDL_Point a = at(l, in, f->seg_from), b = at(l, in, f->seg_to);
      SDL_FPoint p = lerp(a, b, f->frac_ppm);
      if (!env && (inside_host(l, f->seg_from, a, p) || inside_host(l, f->seg_to, b, p)))
        continue; /* a dot hidden by its host's shape would look like a glitch */
      if (!env) {
        SDL_Color c = viz__arrow_color(viz_model_arrow(m, f->index));
        bool dns = f->kind == VIZ_FLIGHT_DNS;
        viz_draw_circle(v->r, p.x, p.y, dns ? 7.0f : 5.5f, viz_rgb(0xFFFFFF));
        viz_draw_circle(v->r, p.x, p.y, dns ? 5.5f : 4.0f, c);
        if (lines <= 4) {
          size_t len;
          const char *label = viz_model_arrow_label(m, f->index, &len);
          int w = MIN(viz_text_width(v->text, VIZ_FONT_SMALL, label, (gssize)len), 200);
          viz_draw_rect(v->r, (int)p.x + 8, (int)p.y - 7, w + 4, 14, viz_rgba(0xFFFFFF, 220));
          viz_text_draw(v->text, VIZ_FONT_SMALL, (int)p.x + 10, (int)p.y - 7, c, VIZ_ALIGN_LEFT,
                        200, label, (gssize)len);
        }
      } else {
        const viz_hop *h = viz_model_hop(m, f->index);
        bool sel = s->sel.kind == VIZ_SEL_MSG && s->sel.index == h->msg;
        if (sel)
          viz_draw_circle(v->r, p.x, p.y, 17, viz_rgba(VIZ_C_SELECT, 190));
        viz_draw_envelope(v->r, (int)p.x, (int)p.y, viz_rgb(0xFFFFFF),
                          h->msg == VIZ_NONE ? viz_rgb(0x546E7A) : viz__msg_color(h->msg));
        if (h->msg != VIZ_NONE) {
          const char *key = viz_model_msg(m, h->msg)->key;
          viz_text_draw(v->text, VIZ_FONT_SMALL, (int)p.x + 13, (int)p.y - 17,
                        viz__msg_color(h->msg), VIZ_ALIGN_LEFT, 0, key, -1);
          viz__hit_add(v, (int)p.x - 11, (int)p.y - 8, 22, 16, VIZ_SEL_MSG, h->msg);
        }
      }
    }
  }
}

/* The last two steps before the cursor, in words, in the title row. */
static void draw_caption(viz_render *v, const viz_view_state *s, SDL_Rect area) {
  const viz_model *m = v->m;
  uint32_t hi = viz_model_mark_at(m, s->t + 1), lo = hi > 2 ? hi - 2 : 0;
  int x = area.x + 90, right = area.x + area.w - 10;
  for (uint32_t i = lo; i < hi && x < right - 60; i++) {
    const viz_mark *mk = viz_model_mark(m, i);
    char tb[TRACE_TIME_BUFSZ];
    trace_time_format_clock(mk->t, tb);
    SDL_Color c = viz__mark_color((viz_mark_kind)mk->kind);
    viz_draw_circle(v->r, (float)x + 5, (float)area.y + 12, 4.5f, c);
    x += 14;
    x += viz_text_draw(v->text, VIZ_FONT_SMALL, x, area.y + 6, viz_rgb(VIZ_C_MUTED), VIZ_ALIGN_LEFT,
                       0, tb, -1) +
         6;
    char *what = g_strdup_printf("%s%s%s%s%s", viz_mark_kind_name((viz_mark_kind)mk->kind),
                                 mk->msg != VIZ_NONE ? " " : "",
                                 mk->msg != VIZ_NONE ? viz_model_msg(m, mk->msg)->key : "",
                                 mk->node != VIZ_NONE ? " at " : "",
                                 mk->node != VIZ_NONE ? viz_model_node(m, mk->node)->name : "");
    x += viz_text_draw(v->text, i + 1 == hi ? VIZ_FONT_BOLD : VIZ_FONT_NORMAL, x, area.y + 4,
                       viz_rgb(VIZ_C_TEXT), VIZ_ALIGN_LEFT, right - x, what, -1) +
         22;
    g_free(what);
  }
}

void viz__topology_draw(viz_render *v, const viz_view_state *s, SDL_Rect area) {
  viz__panel(v, area, "Network");
  SDL_Rect in = {area.x, area.y + 22, area.w, area.h - 22 - 4};
  const viz_layout *l = viz__layout(v, in.w, in.h);
  SDL_RenderSetClipRect(v->r, &area);
  draw_groups(v, l, in);
  draw_links(v, s, l, in);
  draw_locks(v, s, l, in);
  draw_nodes(v, s, l, in);
  draw_flight(v, s, l, in);
  draw_caption(v, s, area);
  SDL_RenderSetClipRect(v->r, NULL);
}
