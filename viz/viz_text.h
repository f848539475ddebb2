/* viz_text.h — text on an SDL_Renderer with the embedded DejaVu Sans.
 *
 * Strings are rendered with SDL2_ttf (blended) once and kept as textures
 * keyed by (font, colour, text), so a frame that redraws the same labels
 * costs a texture copy each. The cache belongs to one renderer. Strings
 * are UTF-8 with an explicit length (labels from the model are not
 * NUL-terminated).
 */
#ifndef MAILSIM_VIZ_TEXT_H
#define MAILSIM_VIZ_TEXT_H

#include <SDL.h>
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
  VIZ_FONT_SMALL,  /* 11 px: labels on arrows, axes */
  VIZ_FONT_NORMAL, /* 13 px: names */
  VIZ_FONT_BOLD,   /* 13 px bold: headings */
  VIZ_FONT_TITLE,  /* 16 px bold: header bar */
  VIZ_FONT_COUNT
} viz_font;

typedef enum { VIZ_ALIGN_LEFT, VIZ_ALIGN_CENTER, VIZ_ALIGN_RIGHT } viz_align;

typedef struct viz_text viz_text;

/* Errors opening the fonts. */
GQuark viz_text_error_quark(void);

/* Opens the fonts (calls TTF_Init if needed). NULL and *ERR on failure. */
viz_text *viz_text_new(SDL_Renderer *r, GError **err);
void viz_text_free(viz_text *t);

/* Draws S (N octets; N < 0: up to NUL) with its top at Y, aligned at X.
 * If MAX_W > 0 the text is cut to fit with a trailing ellipsis. Returns the
 * drawn width. */
int viz_text_draw(viz_text *t, viz_font f, int x, int y, SDL_Color c, viz_align a, int max_w,
                  const char *s, gssize n);
int viz_text_printf(viz_text *t, viz_font f, int x, int y, SDL_Color c, viz_align a,
                    const char *fmt, ...) G_GNUC_PRINTF(7, 8);
/* Width in pixels of S as drawn (without cutting). */
int viz_text_width(viz_text *t, viz_font f, const char *s, gssize n);
/* Line height of font F. */
int viz_text_height(viz_text *t, viz_font f);

#endif
