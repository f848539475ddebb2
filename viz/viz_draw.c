/* viz_draw.c — drawing primitives (see viz_draw.h). Circles use a fixed
 * table of 32 unit directions; shapes are triangle lists handed to
 * SDL_RenderGeometry. Blending is switched on only for translucent colours:
 * the software renderer fills a blended triangle through a temporary
 * surface, an opaque one directly (several times faster). Hairlines go
 * through SDL_RenderDrawLineF. */
#include "viz_draw.h"

#include <math.h>

#define SEGS 32
static const float unit[SEGS][2] = {
    {1.000000000f, 0.000000000f},   {0.980785280f, 0.195090322f},   {0.923879533f, 0.382683432f},
    {0.831469612f, 0.555570233f},   {0.707106781f, 0.707106781f},   {0.555570233f, 0.831469612f},
    {0.382683432f, 0.923879533f},   {0.195090322f, 0.980785280f},   {0.000000000f, 1.000000000f},
    {-0.195090322f, 0.980785280f},  {-0.382683432f, 0.923879533f},  {-0.555570233f, 0.831469612f},
    {-0.707106781f, 0.707106781f},  {-0.831469612f, 0.555570233f},  {-0.923879533f, 0.382683432f},
    {-0.980785280f, 0.195090322f},  {-1.000000000f, 0.000000000f},  {-0.980785280f, -0.195090322f},
    {-0.923879533f, -0.382683432f}, {-0.831469612f, -0.555570233f}, {-0.707106781f, -0.707106781f},
    {-0.555570233f, -0.831469612f}, {-0.382683432f, -0.923879533f}, {-0.195090322f, -0.980785280f},
    {-0.000000000f, -1.000000000f}, {0.195090322f, -0.980785280f},  {0.382683432f, -0.923879533f},
    {0.555570233f, -0.831469612f},  {0.707106781f, -0.707106781f},  {0.831469612f, -0.555570233f},
    {0.923879533f, -0.382683432f},  {0.980785280f, -0.195090322f}};

SDL_Color viz_tint(SDL_Color c, int k) {
  SDL_Color o = {(Uint8)(c.r + (255 - c.r) * k / 255), (Uint8)(c.g + (255 - c.g) * k / 255),
                 (Uint8)(c.b + (255 - c.b) * k / 255), c.a};
  return o;
}

static void blend(SDL_Renderer *r, SDL_Color c) {
  SDL_SetRenderDrawBlendMode(r, c.a == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
}

static SDL_Vertex vx(float x, float y, SDL_Color c) {
  SDL_Vertex v = {{x, y}, c, {0, 0}};
  return v;
}

void viz_draw_triangle(SDL_Renderer *r, float x0, float y0, float x1, float y1, float x2, float y2,
                       SDL_Color c) {
  SDL_Vertex v[3] = {vx(x0, y0, c), vx(x1, y1, c), vx(x2, y2, c)};
  blend(r, c);
  SDL_RenderGeometry(r, NULL, v, 3, NULL, 0);
}

void viz_draw_line(SDL_Renderer *r, float x0, float y0, float x1, float y1, float width,
                   SDL_Color c) {
  float dx = x1 - x0, dy = y1 - y0;
  float len = sqrtf(dx * dx + dy * dy);
  if (len < 0.01f)
    return;
  if (width <= 1.01f) {
    blend(r, c);
    SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
    SDL_RenderDrawLineF(r, x0, y0, x1, y1);
    return;
  }
  float nx = -dy / len * width / 2, ny = dx / len * width / 2;
  SDL_Vertex v[4] = {vx(x0 + nx, y0 + ny, c), vx(x1 + nx, y1 + ny, c), vx(x1 - nx, y1 - ny, c),
                     vx(x0 - nx, y0 - ny, c)};
  int ix[6] = {0, 1, 2, 0, 2, 3};
  blend(r, c);
  SDL_RenderGeometry(r, NULL, v, 4, ix, 6);
}

void viz_draw_dashed(SDL_Renderer *r, float x0, float y0, float x1, float y1, float width,
                     float dash, float gap, SDL_Color c) {
  float dx = x1 - x0, dy = y1 - y0;
  float len = sqrtf(dx * dx + dy * dy);
  if (len < 0.01f)
    return;
  float ux = dx / len, uy = dy / len;
  for (float s = 0; s < len; s += dash + gap) {
    float e = s + dash < len ? s + dash : len;
    viz_draw_line(r, x0 + ux * s, y0 + uy * s, x0 + ux * e, y0 + uy * e, width, c);
  }
}

/* Filled circles as horizontal spans in one FillRects call: far cheaper
 * for the software renderer than a fan of triangles. */
void viz_draw_circle(SDL_Renderer *r, float cx, float cy, float radius, SDL_Color c) {
  SDL_FRect spans[130];
  int n = 0;
  float rr = radius * radius;
  for (float dy = -radius + 0.5f; dy < radius && n < 130; dy += 1.0f) {
    float half = sqrtf(rr - dy * dy);
    spans[n++] = (SDL_FRect){cx - half, cy + dy - 0.5f, 2 * half, 1.0f};
  }
  blend(r, c);
  SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
  SDL_RenderFillRectsF(r, spans, n);
}

void viz_draw_ring(SDL_Renderer *r, float cx, float cy, float radius, float width, SDL_Color c) {
  SDL_Vertex v[2 * SEGS];
  int ix[SEGS * 6];
  for (int i = 0; i < SEGS; i++) {
    float ca = unit[i][0], sa = unit[i][1];
    v[2 * i] = vx(cx + (radius + width / 2) * ca, cy + (radius + width / 2) * sa, c);
    v[2 * i + 1] = vx(cx + (radius - width / 2) * ca, cy + (radius - width / 2) * sa, c);
    int j = (i + 1) % SEGS;
    int q[6] = {2 * i, 2 * j, 2 * j + 1, 2 * i, 2 * j + 1, 2 * i + 1};
    for (int k = 0; k < 6; k++)
      ix[6 * i + k] = q[k];
  }
  blend(r, c);
  SDL_RenderGeometry(r, NULL, v, 2 * SEGS, ix, SEGS * 6);
}

void viz_draw_rect(SDL_Renderer *r, int x, int y, int w, int h, SDL_Color c) {
  SDL_Rect rc = {x, y, w, h};
  SDL_SetRenderDrawBlendMode(r, c.a == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
  SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
  SDL_RenderFillRect(r, &rc);
}

void viz_draw_frame(SDL_Renderer *r, int x, int y, int w, int h, int width, SDL_Color c) {
  viz_draw_rect(r, x, y, w, width, c);
  viz_draw_rect(r, x, y + h - width, w, width, c);
  viz_draw_rect(r, x, y + width, width, h - 2 * width, c);
  viz_draw_rect(r, x + w - width, y + width, width, h - 2 * width, c);
}

/* Quarter-circle fan at corner (cx, cy) from angle a0. */
static void corner(SDL_Renderer *r, float cx, float cy, float rad, int a0, SDL_Color c) {
  const int n = 8;
  SDL_Vertex v[10];
  int ix[24];
  v[0] = vx(cx, cy, c);
  for (int i = 0; i <= n; i++) {
    const float *u = unit[(a0 + i) % SEGS];
    v[i + 1] = vx(cx + rad * u[0], cy + rad * u[1], c);
  }
  for (int i = 0; i < n; i++) {
    ix[3 * i] = 0;
    ix[3 * i + 1] = i + 1;
    ix[3 * i + 2] = i + 2;
  }
  SDL_RenderGeometry(r, NULL, v, n + 2, ix, n * 3);
}

static void round_fill(SDL_Renderer *r, int x, int y, int w, int h, int rad, SDL_Color c) {
  if (rad * 2 > w)
    rad = w / 2;
  if (rad * 2 > h)
    rad = h / 2;
  viz_draw_rect(r, x + rad, y, w - 2 * rad, h, c);
  viz_draw_rect(r, x, y + rad, rad, h - 2 * rad, c);
  viz_draw_rect(r, x + w - rad, y + rad, rad, h - 2 * rad, c);
  blend(r, c);
  corner(r, (float)(x + rad), (float)(y + rad), (float)rad, 16, c);
  corner(r, (float)(x + w - rad), (float)(y + rad), (float)rad, 24, c);
  corner(r, (float)(x + w - rad), (float)(y + h - rad), (float)rad, 0, c);
  corner(r, (float)(x + rad), (float)(y + h - rad), (float)rad, 8, c);
}

void viz_draw_round_box(SDL_Renderer *r, int x, int y, int w, int h, int radius, SDL_Color fill,
                        SDL_Color border) {
  if (border.a) {
    round_fill(r, x, y, w, h, radius, border);
    round_fill(r, x + 1, y + 1, w - 2, h - 2, radius > 1 ? radius - 1 : 0, fill);
  } else {
    round_fill(r, x, y, w, h, radius, fill);
  }
}

void viz_draw_arrowhead(SDL_Renderer *r, float x0, float y0, float x1, float y1, float size,
                        SDL_Color c) {
  float dx = x1 - x0, dy = y1 - y0;
  float len = sqrtf(dx * dx + dy * dy);
  if (len < 0.01f)
    return;
  float ux = dx / len, uy = dy / len;
  float bx = x1 - ux * size, by = y1 - uy * size;
  viz_draw_triangle(r, x1, y1, bx - uy * size * 0.45f, by + ux * size * 0.45f,
                    bx + uy * size * 0.45f, by - ux * size * 0.45f, c);
}

void viz_draw_envelope(SDL_Renderer *r, int cx, int cy, SDL_Color fill, SDL_Color stroke) {
  const int w = 20, h = 14;
  int x = cx - w / 2, y = cy - h / 2;
  viz_draw_rect(r, x - 1, y - 1, w + 2, h + 2, stroke);
  viz_draw_rect(r, x, y, w, h, fill);
  viz_draw_line(r, (float)x, (float)y + 0.5f, (float)cx, (float)(y + h / 2 + 1), 1.5f, stroke);
  viz_draw_line(r, (float)(x + w), (float)y + 0.5f, (float)cx, (float)(y + h / 2 + 1), 1.5f,
                stroke);
}

void viz_draw_lock(SDL_Renderer *r, int cx, int cy, SDL_Color c) {
  viz_draw_round_box(r, cx - 6, cy - 1, 12, 9, 2, c, viz_rgba(0, 0));
  viz_draw_ring(r, (float)cx, (float)cy - 2, 4.0f, 2.0f, c);
  viz_draw_rect(r, cx - 6, cy - 1, 12, 9, c);
  viz_draw_rect(r, cx - 1, cy + 2, 2, 3, viz_rgb(0xFFFFFF));
}

void viz_draw_cross(SDL_Renderer *r, float cx, float cy, float size, float width, SDL_Color c) {
  viz_draw_line(r, cx - size, cy - size, cx + size, cy + size, width, c);
  viz_draw_line(r, cx - size, cy + size, cx + size, cy - size, width, c);
}

void viz_draw_zigzag(SDL_Renderer *r, int x0, int x1, int y, SDL_Color c) {
  for (int x = x0; x + 8 <= x1; x += 8) {
    viz_draw_line(r, (float)x, (float)y - 3, (float)x + 4, (float)y + 3, 1.2f, c);
    viz_draw_line(r, (float)x + 4, (float)y + 3, (float)x + 8, (float)y - 3, 1.2f, c);
  }
}
