/* viz_sequence.c — the sequence chart: one lifeline per host, one arrow
 * per protocol line from (sender, send time) to (receiver, receive time),
 * slanted because transit takes time, labelled with the line; journey
 * steps (defer, deliver, greylist...) as tags on the lifelines; lost
 * packets as crosses; the cursor as a horizontal line.
 *
 * Two time axes. Linear: a fixed span around the cursor. Compressed (the
 * default): every distinct instant near the cursor gets its own row, rows
 * a little taller for longer pauses, and a pause over a second is cut out
 * and marked with a zigzag and its length ("4m 59s later"), so a 5-minute
 * greylisting wait and a 10 ms SMTP exchange are both readable.
 */
#include <stdlib.h>
#include <string.h>

#include "trace_time.h"
#include "viz_filter.h"
#include "viz_render_int.h"

#define GUTTER 92
#define HEAD_H 40
#define BREAK_NS INT64_C(1000000000)

typedef struct {
  viz_render *v;
  const viz_view_state *s;
  SDL_Rect body;
  int *lane_x; /* per node; -1 = no lifeline */
  int lane_w;
  /* compressed axis: key times and their y */
  GArray *keys; /* int64 */
  GArray *ys;   /* int */
  /* linear axis */
  int64_t t_top, span;
  GArray *taken; /* SDL_Rect: labels and tags drawn, to keep text from overlapping */
} seq;

/* True if R overlaps a recent label (labels near in drawing order are near
 * in time, so the last few dozen are enough). */
static bool collides(const seq *q, const SDL_Rect *r) {
  guint n = q->taken->len, from = n > 64 ? n - 64 : 0;
  for (guint i = from; i < n; i++)
    if (SDL_HasIntersection(r, &g_array_index(q->taken, SDL_Rect, i)))
      return true;
  return false;
}

static gint i64_cmp(gconstpointer a, gconstpointer b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static int y_of(const seq *q, int64_t t) {
  if (q->s->seq_linear)
    return q->body.y + (int)((double)(t - q->t_top) * q->body.h / (double)q->span);
  const int64_t *k = (const int64_t *)(void *)q->keys->data;
  const int *y = (const int *)(void *)q->ys->data;
  guint n = q->keys->len, lo = 0, hi = n;
  while (lo < hi) {
    guint mid = (lo + hi) / 2;
    if (k[mid] < t)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < n && k[lo] == t)
    return y[lo];
  if (lo == 0)
    return y[0] - 400;
  if (lo == n)
    return y[n - 1] + 400;
  double f = (double)(t - k[lo - 1]) / (double)(k[lo] - k[lo - 1]);
  return y[lo - 1] + (int)(f * (y[lo] - y[lo - 1]));
}

static int gap_px(int row, int64_t dt) {
  if (dt <= 0)
    return 0;
  if (dt <= 100 * INT64_C(1000000))
    return row;
  if (dt <= BREAK_NS)
    return row + row / 3;
  return row + 22; /* room for the break mark */
}

/* Ranges of arrows, marks and drops the chart considers. */
typedef struct {
  uint32_t a0, a1, m0, m1, d0, d1;
} seq_range;

static seq_range compressed_axis(seq *q) {
  const viz_model *m = q->v->m;
  int row = CLAMP(q->s->seq_row, 12, 40);
  uint32_t want = (uint32_t)(q->body.h / row) + 2;
  int64_t t = q->s->t;
  seq_range r;
  uint32_t na = (uint32_t)viz_model_arrow_count(m), nm = (uint32_t)viz_model_mark_count(m);
  uint32_t nd = (uint32_t)viz_model_drop_count(m);
  uint32_t a = viz_model_arrow_at(m, t), mk = viz_model_mark_at(m, t), d = viz_model_drop_at(m, t);
  r.a0 = a > want ? a - want : 0;
  r.a1 = MIN(na, a + want);
  r.m0 = mk > want ? mk - want : 0;
  r.m1 = MIN(nm, mk + want);
  bool filtered = viz_filter_active(q->s);
  if (filtered) {
    /* rows for shown lines only: walk out from the cursor until WANT are
     * found on each side (or SCAN_MAX rows were looked at) */
    enum { SCAN_MAX = 50000 };
    uint32_t found = 0, i = a;
    while (i > 0 && found < want && a - i < SCAN_MAX)
      found += viz_filter_arrow_shown(m, q->s, --i);
    r.a0 = i;
    for (found = 0, i = a; i < na && found < want && i - a < SCAN_MAX; i++)
      found += viz_filter_arrow_shown(m, q->s, i);
    r.a1 = i;
    for (found = 0, i = mk; i > 0 && found < want && mk - i < SCAN_MAX;)
      found += viz_filter_mark_shown(m, q->s, --i);
    r.m0 = i;
    for (found = 0, i = mk; i < nm && found < want && i - mk < SCAN_MAX; i++)
      found += viz_filter_mark_shown(m, q->s, i);
    r.m1 = i;
  }
  r.d0 = d > want ? d - want : 0;
  r.d1 = MIN(nd, d + want);
  g_array_set_size(q->keys, 0);
  g_array_append_val(q->keys, t);
  for (uint32_t i = r.a0; i < r.a1; i++) {
    if (filtered && !viz_filter_arrow_shown(m, q->s, i))
      continue;
    const viz_arrow *ar = viz_model_arrow(m, i);
    g_array_append_val(q->keys, ar->sent);
    g_array_append_val(q->keys, ar->recv);
  }
  for (uint32_t i = r.m0; i < r.m1; i++)
    if (!filtered || viz_filter_mark_shown(m, q->s, i))
      g_array_append_val(q->keys, viz_model_mark(m, i)->t);
  for (uint32_t i = r.d0; i < r.d1; i++)
    g_array_append_val(q->keys, viz_model_drop(m, i)->t);
  g_array_sort(q->keys, i64_cmp);
  /* unique */
  int64_t *k = (int64_t *)(void *)q->keys->data;
  guint n = 0;
  for (guint i = 0; i < q->keys->len; i++)
    if (!n || k[n - 1] != k[i])
      k[n++] = k[i];
  g_array_set_size(q->keys, n);
  g_array_set_size(q->ys, n);
  int *y = (int *)(void *)q->ys->data;
  guint ci = 0;
  while (k[ci] != t)
    ci++;
  y[ci] = q->body.y + q->body.h * 62 / 100;
  for (guint i = ci; i-- > 0;)
    y[i] = y[i + 1] - gap_px(row, k[i + 1] - k[i]);
  for (guint i = ci + 1; i < n; i++)
    y[i] = y[i - 1] + gap_px(row, k[i] - k[i - 1]);
  return r;
}

static void draw_lanes(seq *q) {
  viz_render *v = q->v;
  const viz_model *m = v->m;
  const viz_layout *l = viz__layout(v, v->lay_w ? v->lay_w : 1000, v->lay_h ? v->lay_h : 400);
  for (uint32_t i = 0; i < viz_model_node_count(m); i++) {
    if (q->lane_x[i] < 0)
      continue;
    int x = q->lane_x[i];
    viz_draw_dashed(v->r, (float)x, (float)q->body.y - 4, (float)x, (float)(q->body.y + q->body.h),
                    1, 5, 4, viz_rgb(0xB0BEC5));
    viz_role role = viz_layout_role(l, i);
    SDL_Color c = viz__role_color(role);
    int bw = MIN(q->lane_w - 8, 150);
    bool sel = q->s->sel.kind == VIZ_SEL_NODE && q->s->sel.index == i;
    viz_draw_round_box(v->r, x - bw / 2, q->body.y - HEAD_H + 2, bw, HEAD_H - 10, 5,
                       sel ? viz_rgb(VIZ_C_SELECT) : viz_tint(c, 190), c);
    viz_text_draw(v->text, VIZ_FONT_BOLD, x, q->body.y - HEAD_H + 3, viz_rgb(VIZ_C_TEXT),
                  VIZ_ALIGN_CENTER, bw - 8, viz__role_caption(role), -1);
    const char *name = viz_model_node(m, i)->name, *dot = strchr(name, '.');
    gssize nl = -1;
    if (dot && viz_text_width(v->text, VIZ_FONT_SMALL, name, -1) > bw - 8)
      nl = dot - name; /* too narrow for the whole name: its first label */
    viz_text_draw(v->text, VIZ_FONT_SMALL, x, q->body.y - HEAD_H + 17, viz_rgb(VIZ_C_TEXT),
                  VIZ_ALIGN_CENTER, bw - 8, name, nl);
    viz__hit_add(v, x - bw / 2, q->body.y - HEAD_H + 2, bw, HEAD_H - 10, VIZ_SEL_NODE, i);
  }
}

static void time_label(seq *q, int y, int64_t t, bool cursor) {
  char tb[TRACE_TIME_BUFSZ];
  trace_time_format_clock(t, tb);
  if (cursor) {
    int w = viz_text_width(q->v->text, VIZ_FONT_BOLD, tb, -1);
    viz_draw_round_box(q->v->r, q->body.x + GUTTER - w - 14, y - 9, w + 10, 18, 4,
                       viz_rgb(VIZ_C_SELECT), viz_rgba(0, 0));
    viz_text_draw(q->v->text, VIZ_FONT_BOLD, q->body.x + GUTTER - 9, y - 8, viz_rgb(VIZ_C_TEXT),
                  VIZ_ALIGN_RIGHT, 0, tb, -1);
  } else {
    int w = viz_text_draw(q->v->text, VIZ_FONT_SMALL, q->body.x + GUTTER - 9, y - 7,
                          viz_rgb(VIZ_C_MUTED), VIZ_ALIGN_RIGHT, 0, tb, -1);
    SDL_Rect r = {q->body.x + GUTTER - 9 - w, y - 7, w, 14};
    g_array_append_val(q->taken, r); /* marks' tags keep off the axis labels */
  }
}

static void draw_axis(seq *q) {
  viz_render *v = q->v;
  int cy = y_of(q, q->s->t);
  if (q->s->seq_linear) {
    static const int64_t steps[] = {1000,        10000,        100000,       1000000,
                                    10000000,    100000000,    1000000000,   10000000000,
                                    60000000000, 600000000000, 3600000000000};
    int64_t step = steps[G_N_ELEMENTS(steps) - 1];
    for (size_t i = 0; i < G_N_ELEMENTS(steps); i++)
      if (steps[i] * q->body.h / q->span >= 40) {
        step = steps[i];
        break;
      }
    for (int64_t t = q->t_top - q->t_top % step; t <= q->t_top + q->span; t += step) {
      int y = y_of(q, t);
      if (y < q->body.y || abs(y - cy) < 16)
        continue;
      viz_draw_rect(v->r, q->body.x + GUTTER - 4, y, q->body.w - GUTTER + 4, 1, viz_rgb(0xECEFF1));
      time_label(q, y, t, false);
    }
  } else {
    int last = -1000;
    const int64_t *k = (const int64_t *)(void *)q->keys->data;
    const int *y = (const int *)(void *)q->ys->data;
    for (guint i = 0; i < q->keys->len; i++) {
      if (i && k[i] - k[i - 1] > BREAK_NS) {
        int by = (y[i] + y[i - 1]) / 2;
        if (by > q->body.y && by < q->body.y + q->body.h) {
          viz_draw_rect(v->r, q->body.x + GUTTER, by - 9, q->body.w - GUTTER, 18,
                        viz_rgb(0xF3F5F7));
          viz_draw_zigzag(v->r, q->body.x + GUTTER, q->body.x + q->body.w - 4, by,
                          viz_rgb(0x90A4AE));
          char gb[TRACE_TIME_BUFSZ];
          char *txt = g_strdup_printf("  %s later  ", trace_time_format_short(k[i] - k[i - 1], gb));
          int w = viz_text_width(v->text, VIZ_FONT_SMALL, txt, -1);
          int cx = q->body.x + GUTTER + (q->body.w - GUTTER) / 2;
          viz_draw_round_box(v->r, cx - w / 2, by - 8, w, 16, 8, viz_rgb(0xECEFF1),
                             viz_rgb(0xB0BEC5));
          viz_text_draw(v->text, VIZ_FONT_SMALL, cx, by - 7, viz_rgb(0x546E7A), VIZ_ALIGN_CENTER, 0,
                        txt, -1);
          g_free(txt);
        }
      }
      if (y[i] < q->body.y + 6 || y[i] > q->body.y + q->body.h - 6 || y[i] - last < 16 ||
          abs(y[i] - cy) < 16)
        continue;
      time_label(q, y[i], k[i], false);
      last = y[i];
    }
  }
}

static void draw_arrow(seq *q, uint32_t ai) {
  viz_render *v = q->v;
  const viz_model *m = v->m;
  const viz_arrow *a = viz_model_arrow(m, ai);
  if (a->from == VIZ_NONE || a->to == VIZ_NONE || a->from == a->to)
    return;
  if (!viz_filter_arrow_shown(m, q->s, ai))
    return;
  int x0 = q->lane_x[a->from], x1 = q->lane_x[a->to];
  if (x0 < 0 || x1 < 0)
    return;
  int y0 = y_of(q, a->sent), y1 = y_of(q, a->recv);
  if (MAX(y0, y1) < q->body.y - 20 || MIN(y0, y1) > q->body.y + q->body.h + 20)
    return;
  bool future = a->sent > q->s->t;
  bool sel = q->s->sel.kind == VIZ_SEL_CONN && a->conn == q->s->sel.index;
  SDL_Color c = viz__arrow_color(a);
  if (future)
    c = viz_tint(c, 170);
  float width = a->kind == VIZ_ARROW_DATA ? 3.0f : 1.6f;
  int dir = x1 > x0 ? 1 : -1;
  float ex = (float)x1 - (float)dir * 1.0f;
  if (sel)
    viz_draw_line(v->r, (float)x0, (float)y0, ex, (float)y1, 7, viz_rgba(VIZ_C_SELECT, 150));
  if (!future && a->recv > q->s->t) {
    /* in flight: solid up to the cursor, dashed after */
    int cy = y_of(q, q->s->t);
    float f = y1 != y0 ? (float)(cy - y0) / (float)(y1 - y0) : 1.0f;
    float cx = (float)x0 + ((float)x1 - (float)x0) * f;
    viz_draw_line(v->r, (float)x0, (float)y0, cx, (float)cy, width, c);
    viz_draw_dashed(v->r, cx, (float)cy, ex, (float)y1, width, 4, 4, c);
  } else {
    viz_draw_line(v->r, (float)x0, (float)y0, ex, (float)y1, width, c);
  }
  viz_draw_arrowhead(v->r, (float)x0, (float)y0, ex, (float)y1, 9, c);
  size_t len;
  const char *label = viz_model_arrow_label(m, ai, &len);
  int span = abs(x1 - x0) - 24 + q->lane_w * 6 / 10;
  int mx = (x0 + x1) / 2, my = (y0 + y1) / 2;
  int h = viz_text_height(v->text, VIZ_FONT_SMALL);
  SDL_Color tc = future ? viz_rgb(0xB0BEC5) : a->error ? viz_rgb(VIZ_C_ERROR) : viz_rgb(VIZ_C_TEXT);
  int w = MIN(viz_text_width(v->text, VIZ_FONT_SMALL, label, (gssize)len), span);
  SDL_Rect lr = {mx - w / 2 - 2, my - h - 1, w + 4, h};
  if (collides(q, &lr))
    return; /* the arrow is drawn; its label would cover another */
  g_array_append_val(q->taken, lr);
  viz_draw_rect(v->r, lr.x, lr.y, lr.w, lr.h, viz_rgba(VIZ_C_PANEL, 215));
  viz_text_draw(v->text, VIZ_FONT_SMALL, mx, my - h - 1, tc, VIZ_ALIGN_CENTER, span, label,
                (gssize)len);
  if (a->conn != VIZ_NONE)
    viz__hit_add(v, mx - w / 2, my - h - 1, w, h + 2, VIZ_SEL_CONN, a->conn);
  else
    viz__hit_add(v, mx - w / 2, my - h - 1, w, h + 2, VIZ_SEL_EVENT, a->event);
}

/* Linear axis, zoomed out: a connection whose lines would be closer than
 * FOLD_PX apart is drawn as one bar between its two hosts. Returns true if
 * CONN is folded (drawing it on first sight). FOLDED: 0 unseen, 1 drawn as
 * arrows, 2 folded. */
#define FOLD_PX 9
static bool fold_conn(seq *q, uint32_t conn, uint8_t *folded) {
  if (folded[conn])
    return folded[conn] == 2;
  viz_render *v = q->v;
  const viz_model *m = v->m;
  const viz_conn *c = viz_model_conn(m, conn);
  folded[conn] = 1;
  if (c->arrow_count < 3 || c->client == VIZ_NONE || c->server == VIZ_NONE ||
      q->lane_x[c->client] < 0 || q->lane_x[c->server] < 0)
    return false;
  const viz_arrow *first = viz_model_arrow(m, viz_model_conn_arrow(m, conn, 0));
  const viz_arrow *last = viz_model_arrow(m, viz_model_conn_arrow(m, conn, c->arrow_count - 1));
  int64_t t0 = c->t_open >= 0 ? MIN(c->t_open, first->sent) : first->sent;
  int64_t t1 = MAX(c->t_close, last->recv);
  int y0 = y_of(q, t0), y1 = y_of(q, t1);
  if (y1 - y0 >= (int)c->arrow_count * FOLD_PX)
    return false;
  folded[conn] = 2;
  int xa = MIN(q->lane_x[c->client], q->lane_x[c->server]);
  int xb = MAX(q->lane_x[c->client], q->lane_x[c->server]);
  int h = MAX(y1 - y0, 16);
  bool sel = q->s->sel.kind == VIZ_SEL_CONN && q->s->sel.index == conn;
  SDL_Color pc = viz__proto_color(c->proto);
  viz_draw_round_box(v->r, xa, y0, xb - xa, h, 6, sel ? viz_rgb(VIZ_C_SELECT) : viz_tint(pc, 200),
                     pc);
  char *txt = g_strdup_printf(
      "%s \xc2\xb7 %u lines%s%s", c->proto ? viz_proto_name(c->proto) : "TCP", c->arrow_count,
      c->t_tls >= 0 ? " \xc2\xb7 TLS" : "", c->tls_failed ? " \xc2\xb7 TLS failed" : "");
  SDL_Rect lr = {xa, y0 + h / 2 - 7, xb - xa, 14};
  if (!collides(q, &lr)) {
    viz_text_draw(v->text, VIZ_FONT_SMALL, (xa + xb) / 2, y0 + h / 2 - 7, viz_rgb(VIZ_C_TEXT),
                  VIZ_ALIGN_CENTER, xb - xa - 8, txt, -1);
    g_array_append_val(q->taken, lr);
  }
  g_free(txt);
  viz__hit_add(v, xa, y0, xb - xa, h, VIZ_SEL_CONN, conn);
  return true;
}

static void draw_mark(seq *q, uint32_t mi) {
  viz_render *v = q->v;
  const viz_model *m = v->m;
  const viz_mark *mk = viz_model_mark(m, mi);
  if (mk->node == VIZ_NONE || q->lane_x[mk->node] < 0)
    return;
  if (!viz_filter_mark_shown(m, q->s, mi))
    return;
  int x = q->lane_x[mk->node], y = y_of(q, mk->t);
  if (y < q->body.y || y > q->body.y + q->body.h)
    return;
  SDL_Color c = viz__mark_color((viz_mark_kind)mk->kind);
  if (mk->t > q->s->t)
    c = viz_tint(c, 150);
  char *txt = g_strdup_printf("%s%s%s", viz_mark_kind_name((viz_mark_kind)mk->kind),
                              mk->msg != VIZ_NONE ? " " : "",
                              mk->msg != VIZ_NONE ? viz_model_msg(m, mk->msg)->key : "");
  int w = viz_text_width(v->text, VIZ_FONT_SMALL, txt, -1) + 12;
  viz_draw_circle(v->r, (float)x, (float)y, 5, c);
  /* the tag goes right of the lifeline, else left, else a little lower */
  const SDL_Point tries[] = {
      {x + 8, y - 8}, {x - 8 - w, y - 8}, {x + 8, y + 2}, {x - 8 - w, y + 2}};
  for (size_t i = 0; i < G_N_ELEMENTS(tries); i++) {
    SDL_Rect r = {tries[i].x, tries[i].y, w, 16};
    if (collides(q, &r))
      continue;
    g_array_append_val(q->taken, r);
    viz_draw_round_box(v->r, r.x, r.y, w, 16, 8, c, viz_rgba(0, 0));
    viz_text_draw(v->text, VIZ_FONT_SMALL, r.x + 6, r.y + 1, viz_rgb(0xFFFFFF), VIZ_ALIGN_LEFT, 0,
                  txt, -1);
    if (mk->msg != VIZ_NONE)
      viz__hit_add(v, r.x, r.y, w, 16, VIZ_SEL_MSG, mk->msg);
    else
      viz__hit_add(v, r.x, r.y, w, 16, VIZ_SEL_EVENT, mk->event);
    break;
  }
  g_free(txt);
}

static void draw_drop(seq *q, const viz_drop *d) {
  if (d->node == VIZ_NONE || q->lane_x[d->node] < 0)
    return;
  int x = q->lane_x[d->node], y = y_of(q, d->t);
  if (y < q->body.y || y > q->body.y + q->body.h)
    return;
  viz_draw_cross(q->v->r, (float)x, (float)y, 6, 3, viz_rgb(VIZ_C_ERROR));
  viz_text_draw(q->v->text, VIZ_FONT_SMALL, x - 10, y - 7, viz_rgb(VIZ_C_ERROR), VIZ_ALIGN_RIGHT, 0,
                "lost", -1);
}

/* Lifelines: hosts that send or receive a line or have a step, in layout
 * order (left to right); routers only if a line names them. Which hosts
 * and their order depend on the model only: computed on the first frame. */
static void lane_order(viz_render *v) {
  const viz_model *m = v->m;
  uint32_t n = (uint32_t)viz_model_node_count(m);
  bool *used = g_new0(bool, n ? n : 1);
  for (uint32_t i = 0; i < viz_model_arrow_count(m); i++) {
    const viz_arrow *a = viz_model_arrow(m, i);
    if (a->from != VIZ_NONE)
      used[a->from] = true;
    if (a->to != VIZ_NONE)
      used[a->to] = true;
  }
  for (uint32_t i = 0; i < viz_model_mark_count(m); i++) {
    const viz_mark *mk = viz_model_mark(m, i);
    if (mk->node != VIZ_NONE && mk->kind != VIZ_MARK_LINK_DOWN && mk->kind != VIZ_MARK_LINK_UP)
      used[mk->node] = true;
  }
  for (uint32_t i = 0; i < viz_model_hop_count(m); i++) {
    const viz_hop *h = viz_model_hop(m, i);
    if (h->from != VIZ_NONE)
      used[h->from] = true;
    if (h->to != VIZ_NONE)
      used[h->to] = true;
  }
  viz_layout *l = viz_layout_new(m, 1000, 400, 40, 40);
  v->lane_order = g_new(uint32_t, n ? n : 1);
  v->lanes = 0;
  for (uint32_t k = 0; k < n; k++)
    if (used[viz_layout_order(l, k)])
      v->lane_order[v->lanes++] = viz_layout_order(l, k);
  viz_layout_free(l);
  g_free(used);
}

static int compute_lanes(viz_render *v, int *lane_x, int x0, int w) {
  if (!v->lane_order)
    lane_order(v);
  for (uint32_t i = 0; i < viz_model_node_count(v->m); i++)
    lane_x[i] = -1;
  int lane_w = v->lanes ? w / (int)v->lanes : w;
  for (uint32_t j = 0; j < v->lanes; j++)
    lane_x[v->lane_order[j]] = x0 + lane_w * (int)j + lane_w / 2;
  return lane_w;
}

/* Arrow colours, right-aligned in the panel's title row. */
static void draw_legend(viz_render *v, SDL_Rect area) {
  static const struct {
    const char *name;
    unsigned rgb;
  } items[] = {{"SMTP", 0x1565C0},
               {"IMAP", 0x2E7D32},
               {"POP3", 0x00838F},
               {"DNS", 0x8E24AA},
               {"message content", 0xEF6C00},
               {"error reply", VIZ_C_ERROR}};
  int x = area.x + area.w - 12;
  for (size_t i = G_N_ELEMENTS(items); i-- > 0;) {
    x -= viz_text_width(v->text, VIZ_FONT_SMALL, items[i].name, -1);
    viz_text_draw(v->text, VIZ_FONT_SMALL, x, area.y + 5, viz_rgb(VIZ_C_MUTED), VIZ_ALIGN_LEFT, 0,
                  items[i].name, -1);
    viz_draw_line(v->r, (float)x - 24, (float)area.y + 12, (float)x - 6, (float)area.y + 12, 2,
                  viz_rgb(items[i].rgb));
    viz_draw_arrowhead(v->r, (float)x - 24, (float)area.y + 12, (float)x - 5, (float)area.y + 12, 6,
                       viz_rgb(items[i].rgb));
    x -= 40;
  }
}

void viz__sequence_draw(viz_render *v, const viz_view_state *s, SDL_Rect area) {
  const viz_model *m = v->m;
  viz__panel(v, area, s->seq_linear ? "Sequence (linear time)" : "Sequence (idle gaps compressed)");
  draw_legend(v, area);
  seq q = {.v = v, .s = s};
  q.body = (SDL_Rect){area.x, area.y + 22 + HEAD_H, area.w, area.h - 22 - HEAD_H - 4};
  q.lane_x = g_new(int, MAX(viz_model_node_count(m), 1));
  q.lane_w = compute_lanes(v, q.lane_x, area.x + GUTTER, area.w - GUTTER - 8);
  q.keys = g_array_new(FALSE, FALSE, sizeof(int64_t));
  q.ys = g_array_new(FALSE, FALSE, sizeof(int));
  q.taken = g_array_new(FALSE, FALSE, sizeof(SDL_Rect));
  seq_range r;
  if (s->seq_linear) {
    q.span = s->seq_span > 0 ? s->seq_span : INT64_C(2000000000);
    q.t_top = s->t - q.span * 62 / 100;
    uint32_t na = (uint32_t)viz_model_arrow_count(m);
    r.a0 = viz_model_arrow_at(m, q.t_top);
    r.a1 = viz_model_arrow_at(m, q.t_top + q.span + 1);
    (void)na;
    r.m0 = viz_model_mark_at(m, q.t_top);
    r.m1 = viz_model_mark_at(m, q.t_top + q.span + 1);
    r.d0 = viz_model_drop_at(m, q.t_top);
    r.d1 = viz_model_drop_at(m, q.t_top + q.span + 1);
    /* arrows that start in the window and end after it */
    g_array_set_size(v->idx, 0);
    viz_model_arrows_in(m, q.t_top, q.t_top + q.span, v->idx);
  } else {
    r = compressed_axis(&q);
    g_array_set_size(v->idx, 0);
    for (uint32_t i = r.a0; i < r.a1; i++)
      g_array_append_val(v->idx, i);
  }
  SDL_Rect clip = {area.x, area.y + 22, area.w, area.h - 24};
  SDL_RenderSetClipRect(v->r, &clip);
  draw_lanes(&q);
  SDL_Rect bodyclip = {area.x, q.body.y - 6, area.w, q.body.h + 6};
  SDL_RenderSetClipRect(v->r, &bodyclip);
  draw_axis(&q);
  int cy = y_of(&q, s->t);
  viz_draw_rect(v->r, area.x + GUTTER - 4, cy, area.w - GUTTER, 2, viz_rgba(VIZ_C_SELECT, 230));
  uint8_t *folded = s->seq_linear ? g_new0(uint8_t, viz_model_conn_count(m) + 1) : NULL;
  for (guint i = 0; i < v->idx->len; i++) {
    uint32_t ai = g_array_index(v->idx, uint32_t, i);
    uint32_t conn = viz_model_arrow(m, ai)->conn;
    if (folded && conn != VIZ_NONE && fold_conn(&q, conn, folded))
      continue;
    draw_arrow(&q, ai);
  }
  g_free(folded);
  for (uint32_t i = r.d0; i < r.d1; i++)
    draw_drop(&q, viz_model_drop(m, i));
  for (uint32_t i = r.m0; i < r.m1; i++)
    draw_mark(&q, i);
  time_label(&q, cy, s->t, true);
  SDL_RenderSetClipRect(v->r, NULL);
  g_array_free(q.keys, TRUE);
  g_array_free(q.ys, TRUE);
  g_array_free(q.taken, TRUE);
  g_free(q.lane_x);
}
