/* viz_timeline.c — the timeline strip: the whole run on one axis, with
 * the density of events, markers for faults (top lane) and for the mail's
 * steps — deferrals, bounces, deliveries... (bottom lane) — and the time
 * cursor. The window scrubs by clicking on it (viz_render_timeline_time). */
#include <math.h>

#include "trace_time.h"
#include "viz_filter.h"
#include "viz_render_int.h"

#define LEFT 92
#define RIGHT 16

static int x_of(int64_t t, int64_t t0, int64_t t1, SDL_Rect sc) {
  return sc.x + (int)((double)(t - t0) * (sc.w - 1) / (double)(t1 - t0));
}

static bool is_fault(viz_mark_kind k) {
  return k == VIZ_MARK_LINK_DOWN || k == VIZ_MARK_LINK_UP || k == VIZ_MARK_CRASH ||
         k == VIZ_MARK_RESTART || k == VIZ_MARK_FAULT;
}

void viz__timeline_draw(viz_render *v, const viz_view_state *s, SDL_Rect area) {
  const viz_model *m = v->m;
  viz__panel(v, area, "Timeline");
  int64_t t0 = viz_model_t_first(m), t1 = viz_model_t_last(m);
  if (t1 <= t0)
    t1 = t0 + INT64_C(1000000000);
  SDL_Rect sc = {area.x + LEFT, area.y + 24, area.w - LEFT - RIGHT, area.h - 24 - 18};
  v->tl_rect = sc;
  v->tl_t0 = t0;
  v->tl_t1 = t1;
  int lane_f = sc.y + 4, lane_m = sc.y + sc.h / 2 + 2, base = sc.y + sc.h;
  viz_text_draw(v->text, VIZ_FONT_SMALL, sc.x - 10, lane_f - 1, viz_rgb(VIZ_C_MUTED),
                VIZ_ALIGN_RIGHT, 0, "faults", -1);
  viz_text_draw(v->text, VIZ_FONT_SMALL, sc.x - 10, lane_m - 1, viz_rgb(VIZ_C_MUTED),
                VIZ_ALIGN_RIGHT, 0, "mail", -1);
  viz_draw_rect(v->r, sc.x, base, sc.w, 1, viz_rgb(0x90A4AE));
  /* event density, one bar per 2 px */
  for (int x = 0; x + 2 <= sc.w; x += 2) {
    int64_t a = t0 + (int64_t)((double)x * (double)(t1 - t0) / sc.w);
    int64_t b = t0 + (int64_t)((double)(x + 2) * (double)(t1 - t0) / sc.w);
    uint32_t n = viz_model_event_at(m, b) - viz_model_event_at(m, a);
    if (!n)
      continue;
    int h = MIN((int)(3.0 * log2(1.0 + n)), sc.h / 2 - 4);
    viz_draw_rect(v->r, sc.x + x, base - h, 2, h, viz_rgb(0xCFD8DC));
  }
  /* ticks */
  static const int64_t steps[] = {
      1000000,        2000000,       5000000,       10000000,      20000000,      50000000,
      100000000,      200000000,     500000000,     1000000000,    2000000000,    5000000000,
      10000000000,    15000000000,   30000000000,   60000000000,   120000000000,  300000000000,
      600000000000,   900000000000,  1800000000000, 3600000000000, 7200000000000, 21600000000000,
      43200000000000, 86400000000000};
  int64_t step = steps[G_N_ELEMENTS(steps) - 1];
  for (size_t i = 0; i < G_N_ELEMENTS(steps); i++)
    if ((double)steps[i] * sc.w / (double)(t1 - t0) >= 90) {
      step = steps[i];
      break;
    }
  for (int64_t t = t0 - t0 % step; t <= t1; t += step) {
    if (t < t0)
      continue;
    int x = x_of(t, t0, t1, sc);
    viz_draw_rect(v->r, x, base, 1, 4, viz_rgb(0x90A4AE));
    char tb[TRACE_TIME_BUFSZ];
    trace_time_format_short(t, tb);
    viz_text_draw(v->text, VIZ_FONT_SMALL, x, base + 4, viz_rgb(VIZ_C_MUTED), VIZ_ALIGN_CENTER, 0,
                  tb, -1);
  }
  /* markers: one per kind and pixel column (a long run has many per pixel) */
  uint16_t *seen = g_new0(uint16_t, (size_t)sc.w + 1);
  G_STATIC_ASSERT(VIZ_MARK_COUNT <= 16);
  for (uint32_t i = 0; i < viz_model_mark_count(m); i++) {
    const viz_mark *mk = viz_model_mark(m, i);
    viz_mark_kind k = (viz_mark_kind)mk->kind;
    if (k == VIZ_MARK_RELAY || k == VIZ_MARK_SUBMIT || k == VIZ_MARK_COMPOSE)
      continue; /* the steps shown are the outcomes; hops are in the other views */
    if (!is_fault(k) && !viz_filter_mark_shown(m, s, i))
      continue; /* faults stay: they explain what the filtered mail did */
    int x = x_of(mk->t, t0, t1, sc);
    uint16_t bit = (uint16_t)(1u << k);
    if (seen[x - sc.x] & bit)
      continue;
    seen[x - sc.x] |= bit;
    SDL_Color c = viz__mark_color(k);
    if (is_fault(k)) {
      viz_draw_triangle(v->r, (float)x, (float)lane_f + 12, (float)x - 6, (float)lane_f,
                        (float)x + 6, (float)lane_f, c);
    } else {
      viz_draw_rect(v->r, x - 1, lane_m, 3, 14, c);
      viz_draw_circle(v->r, (float)x + 0.5f, (float)lane_m, 4, c);
    }
  }
  g_free(seen);
  /* legend, right-aligned above the scale */
  static const viz_mark_kind legend[] = {VIZ_MARK_DEFER,  VIZ_MARK_GREYLIST, VIZ_MARK_DELIVER,
                                         VIZ_MARK_BOUNCE, VIZ_MARK_FETCH,    VIZ_MARK_LINK_DOWN};
  int lx = area.x + area.w - RIGHT;
  for (size_t i = G_N_ELEMENTS(legend); i-- > 0;) {
    const char *name = viz_mark_kind_name(legend[i]);
    int w = viz_text_width(v->text, VIZ_FONT_SMALL, name, -1);
    lx -= w;
    viz_text_draw(v->text, VIZ_FONT_SMALL, lx, area.y + 4, viz_rgb(VIZ_C_MUTED), VIZ_ALIGN_LEFT, 0,
                  name, -1);
    viz_draw_circle(v->r, (float)lx - 8, (float)area.y + 11, 4, viz__mark_color(legend[i]));
    lx -= 24;
  }
  /* cursor */
  int cx = x_of(CLAMP(s->t, t0, t1), t0, t1, sc);
  viz_draw_rect(v->r, cx - 1, sc.y - 2, 3, sc.h + 4, viz_rgb(VIZ_C_SELECT));
  viz_draw_triangle(v->r, (float)cx - 7, (float)sc.y - 8, (float)cx + 8, (float)sc.y - 8,
                    (float)cx + 0.5f, (float)sc.y, viz_rgb(VIZ_C_SELECT));
}

bool viz_render_timeline_time(const viz_render *v, int x, int y, int64_t *t) {
  const SDL_Rect *sc = &v->tl_rect;
  if (sc->w <= 0 || y < sc->y - 10 || y > sc->y + sc->h + 18 || x < sc->x - 6 ||
      x > sc->x + sc->w + 6)
    return false;
  int dx = CLAMP(x - sc->x, 0, sc->w - 1);
  *t = v->tl_t0 + (int64_t)((double)dx * (double)(v->tl_t1 - v->tl_t0) / (sc->w - 1));
  return true;
}
