/* viz_draw.h — drawing primitives on an SDL_Renderer: thick and dashed
 * lines, circles, rounded boxes, arrow heads and the small icons of the
 * views (envelope, lock, cross). Coordinates in pixels; thick shapes are
 * triangles through SDL_RenderGeometry, so the software renderer draws
 * them the same on every run. */
#ifndef MAILSIM_VIZ_DRAW_H
#define MAILSIM_VIZ_DRAW_H

#include <SDL.h>
#include <stdbool.h>

static inline SDL_Color viz_rgb(unsigned hex) {
  SDL_Color c = {(Uint8)(hex >> 16), (Uint8)(hex >> 8), (Uint8)hex, 255};
  return c;
}
static inline SDL_Color viz_rgba(unsigned hex, Uint8 a) {
  SDL_Color c = viz_rgb(hex);
  c.a = a;
  return c;
}
/* C mixed toward white by K/255 (for fills derived from a role colour). */
SDL_Color viz_tint(SDL_Color c, int k);

void viz_draw_line(SDL_Renderer *r, float x0, float y0, float x1, float y1, float width,
                   SDL_Color c);
void viz_draw_dashed(SDL_Renderer *r, float x0, float y0, float x1, float y1, float width,
                     float dash, float gap, SDL_Color c);
void viz_draw_circle(SDL_Renderer *r, float cx, float cy, float radius, SDL_Color c);
void viz_draw_ring(SDL_Renderer *r, float cx, float cy, float radius, float width, SDL_Color c);
void viz_draw_rect(SDL_Renderer *r, int x, int y, int w, int h, SDL_Color c);
void viz_draw_frame(SDL_Renderer *r, int x, int y, int w, int h, int width, SDL_Color c);
/* Rounded box: FILL inside, BORDER (alpha 0 = none) one pixel wide. */
void viz_draw_round_box(SDL_Renderer *r, int x, int y, int w, int h, int radius, SDL_Color fill,
                        SDL_Color border);
void viz_draw_triangle(SDL_Renderer *r, float x0, float y0, float x1, float y1, float x2, float y2,
                       SDL_Color c);
/* A filled arrow head with its tip at (x1, y1), pointing away from (x0, y0). */
void viz_draw_arrowhead(SDL_Renderer *r, float x0, float y0, float x1, float y1, float size,
                        SDL_Color c);
void viz_draw_envelope(SDL_Renderer *r, int cx, int cy, SDL_Color fill, SDL_Color stroke);
void viz_draw_lock(SDL_Renderer *r, int cx, int cy, SDL_Color c);
void viz_draw_cross(SDL_Renderer *r, float cx, float cy, float size, float width, SDL_Color c);
/* A zigzag across [x0, x1] at Y: the mark of a compressed time gap. */
void viz_draw_zigzag(SDL_Renderer *r, int x0, int x1, int y, SDL_Color c);

#endif
