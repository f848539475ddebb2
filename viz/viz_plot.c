/* viz_plot.c — the statistics figure (see viz_plot.h): three panels drawn
 * with the SDL2 software renderer on an RGB888 surface, text by SDL2_ttf
 * (DejaVu Sans), saved with IMG_SavePNG. Every coordinate comes from
 * integer arithmetic, so the PNG is the same bytes on every run and build. */
#include "viz_plot.h"

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>
#include <inttypes.h>
#include <string.h>

typedef struct {
  SDL_Renderer *r;
  TTF_Font *title, *label, *tick;
} ctx;

typedef struct {
  int x, y, w, h;     /* the plotting area, in pixels */
  int64_t xmax, ymax; /* values at the right and top edges (> 0); minimum is 0 */
} frame;

typedef struct {
  int64_t ns;
  const char *name;
} time_unit;

static const SDL_Color ink = {0x20, 0x20, 0x20, 0xff}, grid = {0xe4, 0xe4, 0xe4, 0xff},
                       axis = {0x60, 0x60, 0x60, 0xff}, paper = {0xff, 0xff, 0xff, 0xff};
/* A colour-blind-safe palette (Okabe & Ito), then greys. */
static const SDL_Color palette[] = {
    {0x00, 0x72, 0xb2, 0xff}, {0xd5, 0x5e, 0x00, 0xff}, {0x00, 0x9e, 0x73, 0xff},
    {0xcc, 0x79, 0xa7, 0xff}, {0xe6, 0x9f, 0x00, 0xff}, {0x56, 0xb4, 0xe9, 0xff},
    {0x00, 0x00, 0x00, 0xff}, {0xf0, 0xe4, 0x42, 0xff}, {0x88, 0x88, 0x88, 0xff},
};

int64_t viz_plot_step(int64_t max, int64_t unit, int maxticks, int *decimals) {
  g_assert(max > 0 && unit > 0 && maxticks > 0);
  static const int64_t mant[] = {1, 2, 5};
  for (int64_t p = 1; p <= INT64_MAX / 10; p *= 10) {
    for (size_t i = 0; i < G_N_ELEMENTS(mant); i++) {
      int64_t mu = mant[i] * p; /* milli-units */
      if (mu > INT64_MAX / unit)
        return max; /* cannot happen for sane inputs: one tick */
      if (mu * unit % 1000 != 0)
        continue;
      int64_t step = mu * unit / 1000;
      if (step < 1 || (max + step - 1) / step > maxticks)
        continue;
      *decimals = mu % 1000 == 0 ? 0 : mu % 100 == 0 ? 1 : mu % 10 == 0 ? 2 : 3;
      return step;
    }
  }
  *decimals = 0;
  return max;
}

static time_unit pick_unit(int64_t max_ns) {
  if (max_ns < 1000000000)
    return (time_unit){1000000, "ms"};
  if (max_ns < INT64_C(600000000000))
    return (time_unit){1000000000, "s"};
  if (max_ns < INT64_C(10800000000000))
    return (time_unit){INT64_C(60000000000), "min"};
  return (time_unit){INT64_C(3600000000000), "h"};
}

/* V * NUM / DEN without overflow for V, DEN up to 2^62 and NUM < 2^16. */
static int64_t muldiv(int64_t v, int64_t num, int64_t den) {
  return v / den * num + v % den * num / den;
}

static int px_x(const frame *f, int64_t v) {
  if (v < 0)
    v = 0;
  if (v > f->xmax)
    v = f->xmax;
  return f->x + (int)muldiv(v, f->w, f->xmax);
}

static int px_y(const frame *f, int64_t v) {
  if (v < 0)
    v = 0;
  if (v > f->ymax)
    v = f->ymax;
  return f->y + f->h - (int)muldiv(v, f->h, f->ymax);
}

static void color(ctx *c, SDL_Color k) { SDL_SetRenderDrawColor(c->r, k.r, k.g, k.b, k.a); }

static void fill(ctx *c, int x, int y, int w, int h, SDL_Color k) {
  color(c, k);
  SDL_Rect rc = {x, y, w, h};
  SDL_RenderFillRect(c->r, &rc);
}

/* Text with its anchor: HA 0 left, 1 centre, 2 right; VA 0 top, 1 middle,
 * 2 bottom. Returns the width drawn. */
static int text(ctx *c, TTF_Font *font, const char *s, int x, int y, int ha, int va, SDL_Color k) {
  if (!s || !*s)
    return 0;
  SDL_Surface *t = TTF_RenderUTF8_Blended(font, s, k);
  if (!t)
    return 0;
  SDL_Texture *tex = SDL_CreateTextureFromSurface(c->r, t);
  SDL_Rect dst = {x - ha * t->w / 2, y - va * t->h / 2, t->w, t->h};
  if (tex) {
    SDL_RenderCopy(c->r, tex, NULL, &dst);
    SDL_DestroyTexture(tex);
  }
  int w = t->w;
  SDL_FreeSurface(t);
  return w;
}

/* A horizontal and a vertical stroke, 2 px wide. */
static void hseg(ctx *c, int x1, int x2, int y, SDL_Color k) {
  if (x2 < x1) {
    int t = x1;
    x1 = x2;
    x2 = t;
  }
  fill(c, x1, y - 1, x2 - x1 + 2, 2, k);
}

static void vseg(ctx *c, int x, int y1, int y2, SDL_Color k) {
  if (y2 < y1) {
    int t = y1;
    y1 = y2;
    y2 = t;
  }
  fill(c, x - 1, y1, 2, y2 - y1 + 1, k);
}

static char *label_of(int64_t v, int64_t unit, int decimals) {
  GString *s = g_string_new(NULL);
  trace_stats_fixed(s, (uint64_t)v, (uint64_t)unit, (unsigned)decimals);
  return g_string_free(s, FALSE);
}

/* Grid, axes, ticks with labels in UNIT (value units per label unit), axis
 * labels. Sets f->xmax / f->ymax to the last tick. */
static void axes(ctx *c, frame *f, int64_t xmax, int64_t xunit, int64_t ymax, int64_t yunit,
                 const char *xlabel, const char *ylabel, bool xcentred) {
  int xd, yd;
  int64_t xs = viz_plot_step(xmax, xunit, xcentred ? 12 : 8, &xd);
  int64_t ys = viz_plot_step(ymax, yunit, 5, &yd);
  f->xmax = (xmax + xs - 1) / xs * xs;
  f->ymax = (ymax + ys - 1) / ys * ys;
  if (xcentred) /* bars: one slot more so the last bar fits */
    f->xmax += xs;
  fill(c, f->x, f->y, f->w, f->h, (SDL_Color){0xfa, 0xfa, 0xfa, 0xff});
  for (int64_t v = 0; v <= f->ymax; v += ys) {
    int y = px_y(f, v);
    if (v)
      fill(c, f->x, y, f->w, 1, grid);
    fill(c, f->x - 6, y, 6, 1, axis);
    char *l = label_of(v, yunit, yd);
    text(c, c->tick, l, f->x - 9, y, 2, 1, ink);
    g_free(l);
  }
  for (int64_t v = 0; v <= f->xmax; v += xs) {
    if (xcentred && v == f->xmax)
      break;
    int x = xcentred ? (px_x(f, v) + px_x(f, v + xs)) / 2 : px_x(f, v);
    if (v && !xcentred)
      fill(c, x, f->y, 1, f->h, grid);
    fill(c, x, f->y + f->h, 1, 6, axis);
    char *l = label_of(v, xunit, xd);
    text(c, c->tick, l, x, f->y + f->h + 9, 1, 0, ink);
    g_free(l);
  }
  fill(c, f->x, f->y, 1, f->h + 1, axis);
  fill(c, f->x, f->y + f->h, f->w + 1, 1, axis);
  text(c, c->label, xlabel, f->x + f->w / 2, f->y + f->h + 30, 1, 0, ink);
  text(c, c->label, ylabel, f->x - 8, f->y - 10, 0, 2, ink);
}

static void panel_title(ctx *c, const frame *f, const char *s) {
  text(c, c->label, s, f->x + f->w / 2, f->y - 34, 1, 2, ink);
}

static void no_data(ctx *c, const frame *f, const char *why) {
  text(c, c->label, why, f->x + f->w / 2, f->y + f->h / 2, 1, 1, axis);
}

static void plot_cdf(ctx *c, frame f, const trace_stats *s) {
  panel_title(c, &f, "Delivery delay CDF (origin to mailbox)");
  size_t n = s->delays->len;
  int64_t max = n ? g_array_index(s->delays, int64_t, n - 1) : 0;
  time_unit u = pick_unit(max > 0 ? max : 1);
  char *xl = g_strdup_printf("delay (%s)", u.name);
  axes(c, &f, max > 0 ? max : u.ns, u.ns, 100, 1, xl, "recipients delivered (%)", false);
  g_free(xl);
  if (!n) {
    no_data(c, &f, "no msg.deliver records");
    return;
  }
  const int64_t *v = (const int64_t *)s->delays->data;
  /* Step function: 0 until the first sample, then k/n after the k-th. */
  int x = px_x(&f, 0), y = px_y(&f, 0);
  for (size_t k = 0; k < n; k++) {
    int nx = px_x(&f, v[k]);
    hseg(c, x, nx, y, palette[0]);
    int ny = f.y + f.h - (int)muldiv((int64_t)k + 1, f.h, (int64_t)n);
    vseg(c, nx, y, ny, palette[0]);
    x = nx;
    y = ny;
  }
  hseg(c, x, f.x + f.w, y, palette[0]);
  /* p50 / p95 markers. */
  const unsigned ps[] = {50, 95};
  for (size_t i = 0; i < G_N_ELEMENTS(ps); i++) {
    int64_t pv = trace_stats_percentile(v, n, ps[i]);
    int px = px_x(&f, pv);
    for (int yy = f.y; yy < f.y + f.h; yy += 6)
      fill(c, px, yy, 1, 3, palette[1]);
    GString *l = g_string_new(NULL);
    g_string_append_printf(l, "p%u = ", ps[i]);
    trace_stats_seconds(l, pv);
    g_string_append(l, " s");
    int tw = 0;
    TTF_SizeUTF8(c->tick, l->str, &tw, NULL);
    bool left = px + 4 + tw > f.x + f.w; /* keep the label inside the plot */
    text(c, c->tick, l->str, left ? px - 4 : px + 4, f.y + 4 + (int)i * 18, left ? 2 : 0, 0,
         palette[1]);
    g_string_free(l, TRUE);
  }
}

static void plot_retries(ctx *c, frame f, const trace_stats *s) {
  panel_title(c, &f, "Retries per message (msg.defer records)");
  int64_t kmax = s->retry_hist->len ? s->retry_hist->len - 1 : 0, cmax = 0;
  for (guint k = 0; k < s->retry_hist->len; k++)
    cmax = MAX(cmax, (int64_t)g_array_index(s->retry_hist, uint64_t, k));
  axes(c, &f, kmax > 0 ? kmax : 1, 1, cmax > 0 ? cmax : 1, 1, "retries", "messages", true);
  if (!s->retry_hist->len) {
    no_data(c, &f, "no messages");
    return;
  }
  int xd;
  int64_t step = viz_plot_step(kmax > 0 ? kmax : 1, 1, 12, &xd);
  /* Bars are grouped by STEP retries when there are many. */
  for (int64_t k0 = 0; k0 <= kmax; k0 += step) {
    int64_t sum = 0;
    for (int64_t k = k0; k < k0 + step && k <= kmax; k++)
      sum += (int64_t)g_array_index(s->retry_hist, uint64_t, k);
    int x1 = px_x(&f, k0), x2 = px_x(&f, k0 + step);
    int pad = (x2 - x1) / 6;
    int y = px_y(&f, sum);
    if (sum)
      fill(c, x1 + pad, y, x2 - x1 - 2 * pad, f.y + f.h - y, palette[2]);
    char *l = g_strdup_printf("%" PRId64, sum);
    if (sum)
      text(c, c->tick, l, (x1 + x2) / 2, y - 3, 1, 2, ink);
    g_free(l);
  }
}

/* The MTAs drawn: at most one per palette colour, the largest peaks
 * (ties: first appearance), kept in order of first appearance. */
static GPtrArray *drawn_queues(const trace_stats *s) {
  GPtrArray *v = g_ptr_array_new();
  GArray *taken = g_array_new(FALSE, TRUE, sizeof(gboolean));
  g_array_set_size(taken, s->queues->len);
  for (size_t k = 0; k < G_N_ELEMENTS(palette) && k < s->queues->len; k++) {
    guint best = s->queues->len;
    for (guint i = 0; i < s->queues->len; i++) {
      if (g_array_index(taken, gboolean, i))
        continue;
      if (best == s->queues->len || ((const trace_stats_queue *)s->queues->pdata[i])->peak >
                                        ((const trace_stats_queue *)s->queues->pdata[best])->peak)
        best = i;
    }
    g_array_index(taken, gboolean, best) = TRUE;
  }
  for (guint i = 0; i < s->queues->len; i++)
    if (g_array_index(taken, gboolean, i))
      g_ptr_array_add(v, s->queues->pdata[i]);
  g_array_unref(taken);
  return v;
}

static void plot_queues(ctx *c, frame f, const trace_stats *s) {
  GPtrArray *qs = drawn_queues(s);
  char *title =
      qs->len < s->queues->len
          ? g_strdup_printf("Queue length over time: the %u MTAs of %u with the highest peaks",
                            qs->len, s->queues->len)
          : g_strdup("Queue length over time per MTA (msg.queue +1, msg.expire -1)");
  panel_title(c, &f, title);
  g_free(title);
  int64_t peak = 0;
  for (guint i = 0; i < qs->len; i++)
    peak = MAX(peak, ((const trace_stats_queue *)qs->pdata[i])->peak);
  int64_t end = s->end > 0 ? s->end : 1;
  time_unit u = pick_unit(end);
  char *xl = g_strdup_printf("simulated time (%s)", u.name);
  axes(c, &f, end, u.ns, peak > 0 ? peak : 1, 1, xl, "messages queued", false);
  g_free(xl);
  if (!qs->len) {
    no_data(c, &f, "no msg.queue records");
    g_ptr_array_unref(qs);
    return;
  }
  for (guint i = 0; i < qs->len; i++) {
    const trace_stats_queue *q = qs->pdata[i];
    SDL_Color k = palette[i];
    int x = px_x(&f, 0), y = px_y(&f, 0);
    for (guint j = 0; j < q->curve->len; j++) {
      const trace_stats_point *p = &g_array_index(q->curve, trace_stats_point, j);
      int nx = px_x(&f, p->t), ny = px_y(&f, p->len);
      hseg(c, x, nx, y, k);
      vseg(c, nx, y, ny, k);
      x = nx;
      y = ny;
    }
    hseg(c, x, px_x(&f, s->end), y, k);
  }
  /* Legend, top right inside the plot. */
  int lw = 0, lh = 22;
  for (guint i = 0; i < qs->len; i++) {
    int w = 0;
    TTF_SizeUTF8(c->tick, ((const trace_stats_queue *)qs->pdata[i])->node, &w, NULL);
    lw = MAX(lw, w);
  }
  int bx = f.x + f.w - lw - 60, by = f.y + 10, bh = lh * (int)qs->len + 12;
  fill(c, bx, by, lw + 50, bh, axis);
  fill(c, bx + 1, by + 1, lw + 48, bh - 2, paper);
  for (guint i = 0; i < qs->len; i++) {
    const trace_stats_queue *q = qs->pdata[i];
    int yy = by + 6 + lh * (int)i + lh / 2;
    fill(c, bx + 8, yy - 2, 24, 4, palette[i]);
    text(c, c->tick, q->node, bx + 40, yy, 0, 1, ink);
  }
  g_ptr_array_unref(qs);
}

static char *subtitle(const trace_stats *s) {
  GString *o = g_string_new(NULL);
  g_string_append_printf(o,
                         "%" PRIu64 " messages, %" PRIu64 " recipients: %" PRIu64
                         " delivered, %" PRIu64 " bounced (",
                         s->messages, s->recipients, s->delivered, s->bounced);
  trace_stats_fixed(o, s->bounced * 100, s->recipients, 2);
  g_string_append(o, " %)");
  if (s->delay.n) {
    g_string_append(o, "; delay p50 ");
    trace_stats_seconds(o, s->delay.p50);
    g_string_append(o, " s, p95 ");
    trace_stats_seconds(o, s->delay.p95);
    g_string_append(o, " s, max ");
    trace_stats_seconds(o, s->delay.max);
    g_string_append(o, " s");
  }
  return g_string_free(o, FALSE);
}

bool viz_plot_stats(const trace_stats *s, const char *title, const char *png_path, GError **err) {
  bool ok = false;
  SDL_Surface *surf = NULL;
  ctx c = {0};
  bool ttf = false;
  if (SDL_Init(0) != 0 || (!TTF_WasInit() && TTF_Init() != 0)) {
    g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot start SDL: %s", SDL_GetError());
    goto out;
  }
  ttf = true;
  c.title = TTF_OpenFont(VIZ_PLOT_FONT, 22);
  c.label = TTF_OpenFont(VIZ_PLOT_FONT, 15);
  c.tick = TTF_OpenFont(VIZ_PLOT_FONT, 13);
  if (!c.title || !c.label || !c.tick) {
    g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT, "cannot load the font %s: %s", VIZ_PLOT_FONT,
                TTF_GetError());
    goto out;
  }
  surf = SDL_CreateRGBSurfaceWithFormat(0, VIZ_PLOT_WIDTH, VIZ_PLOT_HEIGHT, 32,
                                        SDL_PIXELFORMAT_RGB888);
  c.r = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
  if (!c.r) {
    g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot create the renderer: %s",
                SDL_GetError());
    goto out;
  }
  fill(&c, 0, 0, VIZ_PLOT_WIDTH, VIZ_PLOT_HEIGHT, paper);
  char *t = g_strdup_printf("mailsim stats — %s", title);
  text(&c, c.title, t, VIZ_PLOT_WIDTH / 2, 14, 1, 0, ink);
  g_free(t);
  char *sub = subtitle(s);
  text(&c, c.label, sub, VIZ_PLOT_WIDTH / 2, 46, 1, 0, axis);
  g_free(sub);
  plot_cdf(&c, (frame){90, 140, 620, 300, 1, 1}, s);
  plot_retries(&c, (frame){820, 140, 400, 300, 1, 1}, s);
  plot_queues(&c, (frame){90, 580, 1130, 300, 1, 1}, s);
  SDL_RenderPresent(c.r);
  if (IMG_SavePNG(surf, png_path) != 0) {
    g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: cannot write the PNG: %s", png_path,
                SDL_GetError());
    goto out;
  }
  ok = true;
out:
  if (c.r)
    SDL_DestroyRenderer(c.r);
  if (surf)
    SDL_FreeSurface(surf);
  if (c.title)
    TTF_CloseFont(c.title);
  if (c.label)
    TTF_CloseFont(c.label);
  if (c.tick)
    TTF_CloseFont(c.tick);
  if (ttf)
    TTF_Quit();
  SDL_Quit();
  return ok;
}
