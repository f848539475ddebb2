/* viz_text.c — fonts and a texture cache for labels (see viz_text.h).
 *
 * The font bytes are embedded (viz_font_data.c). Text is rendered with
 * TTF_RenderUTF8_Blended onto an ARGB surface and copied onto the target;
 * on the headless RGB888 target this is byte-reproducible (PLATFORM.md).
 * The cache is a lookup table only: what is drawn never depends on its
 * order, and it is emptied whole when it grows past CACHE_MAX entries.
 */
#include "viz_text.h"

#include <SDL_ttf.h>
#include <string.h>

#include "viz_font_data.h"

#define CACHE_MAX 4096

G_DEFINE_QUARK(viz - text - error - quark, viz_text_error)

struct viz_text {
  SDL_Renderer *r;
  TTF_Font *font[VIZ_FONT_COUNT];
  GHashTable *cache; /* key -> entry */
  bool ttf_inited;
};

typedef struct {
  SDL_Texture *tex;
  int w, h;
} entry;

static void entry_free(gpointer p) {
  entry *e = p;
  if (e->tex)
    SDL_DestroyTexture(e->tex);
  g_free(e);
}

viz_text *viz_text_new(SDL_Renderer *r, GError **err) {
  static const struct {
    int px;
    int style;
  } spec[VIZ_FONT_COUNT] = {
      {11, TTF_STYLE_NORMAL}, {13, TTF_STYLE_NORMAL}, {13, TTF_STYLE_BOLD}, {16, TTF_STYLE_BOLD}};
  viz_text *t = g_new0(viz_text, 1);
  t->r = r;
  if (!TTF_WasInit()) {
    if (TTF_Init() != 0) {
      g_set_error(err, viz_text_error_quark(), 1, "SDL_ttf: %s", TTF_GetError());
      g_free(t);
      return NULL;
    }
    t->ttf_inited = true;
  }
  for (int i = 0; i < VIZ_FONT_COUNT; i++) {
    SDL_RWops *rw = SDL_RWFromConstMem(viz_font_sans, (int)viz_font_sans_size);
    t->font[i] = rw ? TTF_OpenFontRW(rw, 1, spec[i].px) : NULL;
    if (!t->font[i]) {
      g_set_error(err, viz_text_error_quark(), 2, "embedded font: %s", TTF_GetError());
      viz_text_free(t);
      return NULL;
    }
    TTF_SetFontStyle(t->font[i], spec[i].style);
    TTF_SetFontHinting(t->font[i], TTF_HINTING_LIGHT);
  }
  t->cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, entry_free);
  return t;
}

void viz_text_free(viz_text *t) {
  if (!t)
    return;
  if (t->cache)
    g_hash_table_destroy(t->cache);
  for (int i = 0; i < VIZ_FONT_COUNT; i++)
    if (t->font[i])
      TTF_CloseFont(t->font[i]);
  if (t->ttf_inited)
    TTF_Quit();
  g_free(t);
}

int viz_text_height(viz_text *t, viz_font f) { return TTF_FontHeight(t->font[f]); }

int viz_text_width(viz_text *t, viz_font f, const char *s, gssize n) {
  char *z = n < 0 ? g_strdup(s) : g_strndup(s, (gsize)n);
  int w = 0, h = 0;
  if (*z)
    TTF_SizeUTF8(t->font[f], z, &w, &h);
  g_free(z);
  return w;
}

static entry *lookup(viz_text *t, viz_font f, SDL_Color c, const char *z) {
  char *key = g_strdup_printf("%d|%02x%02x%02x%02x|%s", (int)f, c.r, c.g, c.b, c.a, z);
  entry *e = g_hash_table_lookup(t->cache, key);
  if (e) {
    g_free(key);
    return e;
  }
  if (g_hash_table_size(t->cache) >= CACHE_MAX)
    g_hash_table_remove_all(t->cache);
  e = g_new0(entry, 1);
  SDL_Surface *s = TTF_RenderUTF8_Blended(t->font[f], z, c);
  if (s) {
    e->tex = SDL_CreateTextureFromSurface(t->r, s);
    e->w = s->w;
    e->h = s->h;
    if (e->tex)
      SDL_SetTextureBlendMode(e->tex, SDL_BLENDMODE_BLEND);
    SDL_FreeSurface(s);
  }
  g_hash_table_insert(t->cache, key, e);
  return e;
}

/* The longest prefix of Z (whole characters) that fits in W pixels. */
static size_t fit(viz_text *t, viz_font f, const char *z, int w) {
  int extent = 0, count = 0;
  if (TTF_MeasureUTF8(t->font[f], z, w, &extent, &count) != 0)
    return 0;
  const char *p = z;
  for (int i = 0; i < count && *p; i++)
    p = g_utf8_next_char(p);
  return (size_t)(p - z);
}

int viz_text_draw(viz_text *t, viz_font f, int x, int y, SDL_Color c, viz_align a, int max_w,
                  const char *s, gssize n) {
  char *z = n < 0 ? g_strdup(s) : g_strndup(s, (gsize)n);
  if (!*z) {
    g_free(z);
    return 0;
  }
  entry *e = lookup(t, f, c, z);
  if (max_w > 0 && e->w > max_w) {
    static const char ell[] = "\xe2\x80\xa6";
    int ew = viz_text_width(t, f, ell, -1);
    size_t k = max_w > ew ? fit(t, f, z, max_w - ew) : 0;
    char *cut = g_strdup_printf("%.*s%s", (int)k, z, ell);
    e = lookup(t, f, c, cut);
    g_free(cut);
  }
  g_free(z);
  if (!e->tex)
    return 0;
  SDL_Rect dst = {x, y, e->w, e->h};
  if (a == VIZ_ALIGN_CENTER)
    dst.x -= e->w / 2;
  else if (a == VIZ_ALIGN_RIGHT)
    dst.x -= e->w;
  SDL_RenderCopy(t->r, e->tex, NULL, &dst);
  return e->w;
}

int viz_text_printf(viz_text *t, viz_font f, int x, int y, SDL_Color c, viz_align a,
                    const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  int w = viz_text_draw(t, f, x, y, c, a, 0, s, -1);
  g_free(s);
  return w;
}
