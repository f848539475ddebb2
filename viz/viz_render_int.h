/* viz_render_int.h — shared by the view files (viz_render.c,
 * viz_topology.c, viz_sequence.c, viz_timeline.c). */
#ifndef MAILSIM_VIZ_RENDER_INT_H
#define MAILSIM_VIZ_RENDER_INT_H

#include "viz_draw.h"
#include "viz_layout.h"
#include "viz_render.h"
#include "viz_text.h"

typedef struct {
  SDL_Rect rc;
  viz_selection sel;
} viz__hit;

struct viz_render {
  SDL_Renderer *r;
  const viz_model *m;
  viz_text *text;
  viz_layout *layout; /* for the topology area of size lay_w x lay_h */
  int lay_w, lay_h;
  GArray *hits;         /* viz__hit, in drawing order */
  GArray *idx;          /* scratch: uint32 */
  GArray *flight;       /* scratch: viz_flight */
  uint32_t *lane_order; /* sequence lifelines, left to right (computed once) */
  uint32_t lanes;
  SDL_Rect tl_rect; /* the timeline's scale in the last frame (w = 0: none) */
  int64_t tl_t0, tl_t1;
};

/* Palette. */
#define VIZ_C_BG 0xFAFAFA
#define VIZ_C_PANEL 0xFFFFFF
#define VIZ_C_GRID 0xE3E7EA
#define VIZ_C_TEXT 0x263238
#define VIZ_C_MUTED 0x78909C
#define VIZ_C_HEADER 0x263238
#define VIZ_C_ERROR 0xD32F2F
#define VIZ_C_OK 0x2E7D32
#define VIZ_C_SELECT 0xFFB300

SDL_Color viz__role_color(viz_role r);
const char *viz__role_caption(viz_role r);
SDL_Color viz__proto_color(viz_proto p);
SDL_Color viz__arrow_color(const viz_arrow *a);
SDL_Color viz__msg_color(uint32_t msg);
SDL_Color viz__mark_color(viz_mark_kind k);
void viz__hit_add(viz_render *v, int x, int y, int w, int h, viz_sel_kind kind, uint32_t index);
/* The layout for an area of W x H (cached). */
const viz_layout *viz__layout(viz_render *v, int w, int h);
/* A panel: white box with a title in its top left corner. */
void viz__panel(viz_render *v, SDL_Rect area, const char *title);

void viz__topology_draw(viz_render *v, const viz_view_state *s, SDL_Rect area);
void viz__sequence_draw(viz_render *v, const viz_view_state *s, SDL_Rect area);
void viz__timeline_draw(viz_render *v, const viz_view_state *s, SDL_Rect area);

#endif
