/* viz_render.c — one frame of the viewer: header bar, the views laid out
 * in the window, the inspector panel and the help overlay; the palette;
 * named moments; and headless rendering to PNG.
 *
 * Headless pictures follow PLATFORM.md ("SDL2 without a display"): an
 * RGB888 surface, SDL_CreateSoftwareRenderer, SDL2_ttf text, IMG_SavePNG;
 * no video driver. The frame is a pure function of (model, state, size),
 * so the same inputs give the same bytes.
 */
#include <SDL_image.h>
#include <string.h>

#include "trace_time.h"
#include "viz_filter.h"
#include "viz_render_int.h"

#define HEADER_H 40
#define TIMELINE_H 92
#define INSPECTOR_W 400

G_DEFINE_QUARK(viz - render - error - quark, viz_render_error)

/* --- palette ------------------------------------------------------------------- */

SDL_Color viz__role_color(viz_role r) {
  static const unsigned c[VIZ_ROLE_COUNT] = {
      0x90A4AE, /* unknown */
      0x1E88E5, /* client */
      0x00897B, /* submission */
      0xF57C00, /* relay */
      0x5E35B1, /* mx */
      0x43A047, /* mailbox */
      0x039BE5, /* reader */
      0x8E24AA, /* dns */
      0x78909C, /* router */
  };
  g_assert((unsigned)r < VIZ_ROLE_COUNT);
  return viz_rgb(c[r]);
}

const char *viz__role_caption(viz_role r) {
  static const char *const c[VIZ_ROLE_COUNT] = {"host",    "Client", "Submission", "Relay", "MX",
                                                "Mailbox", "Reader", "DNS",        "router"};
  g_assert((unsigned)r < VIZ_ROLE_COUNT);
  return c[r];
}

SDL_Color viz__proto_color(viz_proto p) {
  static const unsigned c[VIZ_PROTO_COUNT] = {0x546E7A, 0x1565C0, 0x2E7D32, 0x00838F, 0x8E24AA};
  g_assert((unsigned)p < VIZ_PROTO_COUNT);
  return viz_rgb(c[p]);
}

SDL_Color viz__arrow_color(const viz_arrow *a) {
  if (a->error)
    return viz_rgb(VIZ_C_ERROR);
  if (a->kind == VIZ_ARROW_DATA)
    return viz_rgb(0xEF6C00);
  return viz__proto_color((viz_proto)a->proto);
}

SDL_Color viz__msg_color(uint32_t msg) {
  static const unsigned c[] = {0xD81B60, 0x3949AB, 0x00897B, 0xF4511E, 0x6D4C41, 0x7CB342};
  return viz_rgb(c[msg % G_N_ELEMENTS(c)]);
}

SDL_Color viz__mark_color(viz_mark_kind k) {
  static const unsigned c[VIZ_MARK_COUNT] = {
      0x1E88E5, /* compose */ 0x00897B, /* submit */ 0xF57C00,   /* relay */
      0xEF6C00, /* defer */ 0x2E7D32,   /* deliver */ 0xC62828,  /* bounce */
      0x0097A7, /* fetch */ 0xF9A825,   /* greylist */ 0xD32F2F, /* link down */
      0x66BB6A, /* link up */ 0xB71C1C, /* crash */ 0x43A047,    /* restart */
      0x8D6E63,                                                  /* fault */
  };
  g_assert((unsigned)k < VIZ_MARK_COUNT);
  return viz_rgb(c[k]);
}

/* --- shared helpers -------------------------------------------------------------- */

void viz__hit_add(viz_render *v, int x, int y, int w, int h, viz_sel_kind kind, uint32_t index) {
  viz__hit hit = {{x, y, w, h}, {kind, index}};
  g_array_append_val(v->hits, hit);
}

viz_selection viz_render_hit(const viz_render *v, int x, int y) {
  SDL_Point p = {x, y};
  for (guint i = v->hits->len; i-- > 0;) {
    const viz__hit *h = &g_array_index(v->hits, viz__hit, i);
    if (SDL_PointInRect(&p, &h->rc))
      return h->sel;
  }
  viz_selection none = {VIZ_SEL_NONE, VIZ_NONE};
  return none;
}

const viz_layout *viz__layout(viz_render *v, int w, int h) {
  if (!v->layout || v->lay_w != w || v->lay_h != h) {
    viz_layout_free(v->layout);
    v->layout = viz_layout_new(v->m, w, h, 80, 46);
    v->lay_w = w;
    v->lay_h = h;
  }
  return v->layout;
}

void viz__panel(viz_render *v, SDL_Rect a, const char *title) {
  viz_draw_rect(v->r, a.x, a.y, a.w, a.h, viz_rgb(VIZ_C_PANEL));
  viz_draw_frame(v->r, a.x, a.y, a.w, a.h, 1, viz_rgb(VIZ_C_GRID));
  viz_text_draw(v->text, VIZ_FONT_BOLD, a.x + 10, a.y + 4, viz_rgb(0x546E7A), VIZ_ALIGN_LEFT, 0,
                title, -1);
}

/* --- parsing helpers --------------------------------------------------------------- */

bool viz_view_parse(const char *name, unsigned *views) {
  static const struct {
    const char *name;
    unsigned bits;
  } names[] = {{"topology", VIZ_VIEW_TOPOLOGY | VIZ_VIEW_TIMELINE},
               {"sequence", VIZ_VIEW_SEQUENCE | VIZ_VIEW_TIMELINE},
               {"timeline", VIZ_VIEW_TIMELINE},
               {"all", VIZ_VIEW_ALL}};
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
    if (strcmp(name, names[i].name) == 0) {
      *views = names[i].bits;
      return true;
    }
  return false;
}

bool viz_selection_parse(const viz_model *m, const char *text, viz_selection *out) {
  const char *colon = strchr(text, ':');
  if (!colon)
    return false;
  const char *arg = colon + 1;
  size_t n = (size_t)(colon - text);
  char *end = NULL;
  if (n == 4 && strncmp(text, "node", 4) == 0) {
    out->kind = VIZ_SEL_NODE;
    out->index = viz_model_node_find(m, arg);
  } else if (n == 3 && strncmp(text, "msg", 3) == 0) {
    out->kind = VIZ_SEL_MSG;
    out->index = viz_model_msg_find(m, arg);
  } else if ((n == 4 && (strncmp(text, "conn", 4) == 0 || strncmp(text, "link", 4) == 0)) ||
             (n == 5 && strncmp(text, "event", 5) == 0)) {
    bool conn = text[0] == 'c', event = text[0] == 'e';
    unsigned long k = strtoul(arg, &end, 10);
    size_t count = event  ? viz_model_event_count(m)
                   : conn ? viz_model_conn_count(m)
                          : viz_model_link_count(m);
    out->kind = event ? VIZ_SEL_EVENT : conn ? VIZ_SEL_CONN : VIZ_SEL_LINK;
    out->index = (*arg && end && !*end && k < count) ? (uint32_t)k : VIZ_NONE;
  } else {
    return false;
  }
  return out->index != VIZ_NONE;
}

void viz_view_state_init(viz_view_state *s, const viz_model *m) {
  memset(s, 0, sizeof *s);
  s->t = viz_model_t_first(m);
  s->views = VIZ_VIEW_ALL;
  s->seq_span = INT64_C(2000000000);
  s->seq_row = 22;
  s->show_lines = true;
  s->sel.kind = VIZ_SEL_NONE;
  s->sel.index = VIZ_NONE;
  s->focus_msg = VIZ_NONE;
  s->focus_node = VIZ_NONE;
  s->speed_milli = 1000;
}

/* --- moments ----------------------------------------------------------------------- */

static int64_t hop_mid(const viz_hop *h) { return h->t0 + (h->t1 - h->t0) / 2; }

bool viz_moment(const viz_model *m, const char *name, int64_t *t) {
  if (strcmp(name, "start") == 0) {
    *t = viz_model_t_first(m);
    return true;
  }
  if (strcmp(name, "end") == 0) {
    *t = viz_model_t_last(m);
    return true;
  }
  if (strcmp(name, "first-submission") == 0 || strcmp(name, "imap-fetch") == 0 ||
      strcmp(name, "pop3-fetch") == 0) {
    bool submit = name[0] == 'f';
    for (uint32_t i = 0; i < viz_model_hop_count(m); i++) {
      const viz_hop *h = viz_model_hop(m, i);
      if (submit ? h->kind != VIZ_HOP_SUBMIT : h->kind != VIZ_HOP_FETCH)
        continue;
      if (!submit) {
        size_t len;
        const char *raw = viz_model_event_raw(m, h->event, &len);
        char *want = g_strdup_printf("\"proto\":\"%.4s\"", name);
        bool match = g_strstr_len(raw, (gssize)len, want) != NULL;
        g_free(want);
        if (!match)
          continue;
      }
      *t = hop_mid(h);
      return true;
    }
    return false;
  }
  if (strcmp(name, "mx-lookup") == 0) {
    for (uint32_t i = 0; i < viz_model_dns_count(m); i++) {
      const viz_dns *d = viz_model_dns(m, i);
      if (strcmp(d->qtype, "MX") != 0)
        continue;
      const viz_arrow *a = viz_model_arrow(m, d->query_arrow);
      *t = a->sent + (a->recv - a->sent) * 3 / 10; /* on its first link, clear of routers */
      return true;
    }
    return false;
  }
  if (strcmp(name, "greylisting") == 0) {
    /* the refusal on its way back: the first error reply from the
     * greylisting node at or after the verdict, mid-flight */
    for (uint32_t i = 0; i < viz_model_mark_count(m); i++) {
      const viz_mark *mk = viz_model_mark(m, i);
      if (mk->kind != VIZ_MARK_GREYLIST)
        continue;
      *t = mk->t;
      for (uint32_t a = viz_model_arrow_at(m, mk->t); a < viz_model_arrow_count(m); a++) {
        const viz_arrow *ar = viz_model_arrow(m, a);
        if (ar->sent > mk->t + INT64_C(60000000000))
          break;
        if (ar->error && ar->from == mk->node && ar->sent >= mk->t) {
          *t = ar->sent + (ar->recv - ar->sent) * 4 / 10;
          break;
        }
      }
      return true;
    }
    return false;
  }
  if (strcmp(name, "delivery") == 0) {
    /* the envelope on its way into the mailbox: the last hop to the
     * delivering node before the first delivery */
    for (uint32_t i = 0; i < viz_model_mark_count(m); i++) {
      const viz_mark *mk = viz_model_mark(m, i);
      if (mk->kind != VIZ_MARK_DELIVER)
        continue;
      *t = mk->t;
      for (uint32_t k = 0; k < viz_model_hop_count(m); k++) {
        const viz_hop *h = viz_model_hop(m, k);
        if (h->to == mk->node && h->t1 <= mk->t && h->msg == mk->msg)
          *t = hop_mid(h);
      }
      return true;
    }
    return false;
  }
  static const struct {
    const char *name;
    viz_mark_kind kind;
  } marks[] = {{"bounce", VIZ_MARK_BOUNCE}, {"fault", VIZ_MARK_LINK_DOWN}};
  for (size_t k = 0; k < G_N_ELEMENTS(marks); k++) {
    if (strcmp(name, marks[k].name) != 0)
      continue;
    for (uint32_t i = 0; i < viz_model_mark_count(m); i++) {
      const viz_mark *mk = viz_model_mark(m, i);
      if (mk->kind == marks[k].kind ||
          (marks[k].kind == VIZ_MARK_LINK_DOWN &&
           (mk->kind == VIZ_MARK_CRASH || mk->kind == VIZ_MARK_FAULT))) {
        *t = mk->t;
        return true;
      }
    }
    return false;
  }
  return false;
}

bool viz_time_arg(const viz_model *m, const char *text, int64_t *t, GError **err) {
  if (g_ascii_isdigit(text[0]))
    return trace_time_parse(text, t, err);
  if (viz_moment(m, text, t))
    return true;
  g_set_error(err, viz_render_error_quark(), 1,
              "time \"%s\": expected a duration (\"1m30s\", \"250ms\") or a moment of this trace "
              "(start, end, first-submission, mx-lookup, greylisting, delivery, imap-fetch, "
              "pop3-fetch, bounce, fault)",
              text);
  return false;
}

/* --- header, inspector, help --------------------------------------------------------- */

static void draw_header(viz_render *v, const viz_view_state *s, int w) {
  const viz_model *m = v->m;
  viz_draw_rect(v->r, 0, 0, w, HEADER_H, viz_rgb(VIZ_C_HEADER));
  int x = 14;
  x += viz_text_draw(v->text, VIZ_FONT_TITLE, x, 10, viz_rgb(0xFFFFFF), VIZ_ALIGN_LEFT, 0,
                     "mailsim", -1);
  char *info = g_strdup_printf("%s \xc2\xb7 seed %" G_GUINT64_FORMAT " \xc2\xb7 %s detail",
                               *viz_model_scenario(m) ? viz_model_scenario(m) : "(unnamed)",
                               viz_model_seed(m), viz_model_detail(m));
  viz_text_draw(v->text, VIZ_FONT_NORMAL, x + 14, 12, viz_rgb(0xB0BEC5), VIZ_ALIGN_LEFT,
                w / 2 - x - 160, info, -1);
  g_free(info);
  char tb[TRACE_TIME_BUFSZ], te[TRACE_TIME_BUFSZ];
  trace_time_format_clock(s->t, tb);
  trace_time_format_clock(viz_model_t_last(m), te);
  int cw = viz_text_printf(v->text, VIZ_FONT_TITLE, w / 2 + 40, 10, viz_rgb(VIZ_C_SELECT),
                           VIZ_ALIGN_RIGHT, "t = %s", tb);
  (void)cw;
  viz_text_printf(v->text, VIZ_FONT_NORMAL, w / 2 + 48, 12, viz_rgb(0x90A4AE), VIZ_ALIGN_LEFT,
                  "/ %s", te);
  char sp[64];
  int64_t sm = s->speed_milli;
  if (sm >= 1000)
    g_snprintf(sp, sizeof sp, "%s %" G_GINT64_FORMAT "\xc3\x97",
               s->playing ? "\xe2\x96\xb6" : "\xe2\x9d\x9a\xe2\x9d\x9a", sm / 1000);
  else
    g_snprintf(sp, sizeof sp, "%s 0.%03" G_GINT64_FORMAT "\xc3\x97",
               s->playing ? "\xe2\x96\xb6" : "\xe2\x9d\x9a\xe2\x9d\x9a", sm);
  int rx = w - 14;
  rx -= viz_text_draw(v->text, VIZ_FONT_NORMAL, rx, 12, viz_rgb(0x90A4AE), VIZ_ALIGN_RIGHT, 0,
                      "H: help", -1) +
        18;
  rx -=
      viz_text_draw(v->text, VIZ_FONT_BOLD, rx, 12, viz_rgb(0xFFFFFF), VIZ_ALIGN_RIGHT, 0, sp, -1) +
      18;
  char *filters = viz_filter_describe(m, s);
  char *line = *filters ? g_strdup_printf("filter: %s%s%s", filters, s->status ? " \xc2\xb7 " : "",
                                          s->status ? s->status : "")
                        : g_strdup(s->status ? s->status : "");
  if (*line)
    viz_text_draw(v->text, VIZ_FONT_NORMAL, rx, 12, viz_rgb(0xFFE082), VIZ_ALIGN_RIGHT,
                  rx - (w / 2 + 170), line, -1);
  g_free(line);
  g_free(filters);
}

/* Draws TEXT from X within W pixels, wrapped at spaces (or anywhere if a
 * word is too long), at most MAXL lines. Returns the lines used. */
static int wrapped(viz_render *v, viz_font f, int x, int y, int w, int lh, int maxl, SDL_Color c,
                   const char *text) {
  const char *p = text;
  int lines = 0;
  while (*p && lines < maxl) {
    size_t len = strlen(p);
    if (lines == maxl - 1 || viz_text_width(v->text, f, p, (gssize)len) <= w) {
      viz_text_draw(v->text, f, x, y + lines * lh, c, VIZ_ALIGN_LEFT, w, p, -1);
      return lines + 1;
    }
    /* longest prefix ending at a space that fits */
    size_t cut = 0;
    for (size_t i = 1; i < len; i++)
      if (p[i] == ' ' && viz_text_width(v->text, f, p, (gssize)i) <= w)
        cut = i;
    if (!cut) {
      cut = 1;
      while (cut < len && viz_text_width(v->text, f, p, (gssize)(cut + 1)) <= w)
        cut++;
      while (cut < len && ((unsigned char)p[cut] & 0xC0) == 0x80)
        cut++;
    }
    viz_text_draw(v->text, f, x, y + lines * lh, c, VIZ_ALIGN_LEFT, 0, p, (gssize)cut);
    p += cut;
    while (*p == ' ')
      p++;
    lines++;
  }
  return lines;
}

static void draw_inspector(viz_render *v, const viz_view_state *s, SDL_Rect a) {
  const viz_model *m = v->m;
  viz_inspect *in = NULL;
  switch (s->sel.kind) {
  case VIZ_SEL_NODE:
    in = viz_model_inspect_node(m, s->sel.index, s->t);
    break;
  case VIZ_SEL_LINK:
    in = viz_model_inspect_link(m, s->sel.index, s->t);
    break;
  case VIZ_SEL_MSG:
    in = viz_model_inspect_msg(m, s->sel.index);
    break;
  case VIZ_SEL_CONN:
    in = viz_model_inspect_conn(m, s->sel.index);
    break;
  case VIZ_SEL_EVENT:
    in = viz_model_inspect_event(m, s->sel.index);
    break;
  case VIZ_SEL_NONE:
  default:
    return;
  }
  viz__panel(v, a, "Inspector");
  SDL_RenderSetClipRect(v->r, &a);
  int y = a.y + 26, x = a.x + 12, wmax = a.w - 24;
  size_t n = viz_inspect_count(in);
  for (size_t i = (size_t)MAX(s->inspector_scroll, 0); i < n && y < a.y + a.h - 16; i++) {
    const viz_insp_line *l = viz_inspect_line(in, i);
    switch (l->kind) {
    case VIZ_INSP_TITLE:
      viz_text_draw(v->text, VIZ_FONT_TITLE, x, y, viz_rgb(VIZ_C_TEXT), VIZ_ALIGN_LEFT, wmax,
                    l->text, -1);
      y += 24;
      break;
    case VIZ_INSP_HEADING:
      y += 4;
      viz_text_draw(v->text, VIZ_FONT_BOLD, x, y, viz_rgb(0x1565C0), VIZ_ALIGN_LEFT, wmax, l->text,
                    -1);
      viz_draw_rect(v->r, x, y + 17, wmax, 1, viz_rgb(VIZ_C_GRID));
      y += 21;
      break;
    case VIZ_INSP_FIELD: {
      int kw = viz_text_draw(v->text, VIZ_FONT_BOLD, x, y, viz_rgb(0x546E7A), VIZ_ALIGN_LEFT, 170,
                             l->key, -1);
      int vx = x + MAX(kw + 8, 96);
      y += 18 *
           wrapped(v, VIZ_FONT_NORMAL, vx, y, wmax - (vx - x), 18, 4, viz_rgb(VIZ_C_TEXT), l->text);
      break;
    }
    case VIZ_INSP_ITEM:
    default: {
      int ix = x;
      if (*l->key)
        ix += viz_text_draw(v->text, VIZ_FONT_SMALL, x, y + 1, viz_rgb(VIZ_C_MUTED), VIZ_ALIGN_LEFT,
                            0, l->key, -1) +
              6;
      y += 15 * wrapped(v, VIZ_FONT_SMALL, ix, y + 1, wmax - (ix - x), 15, 3, viz_rgb(VIZ_C_TEXT),
                        l->text) +
           2;
      break;
    }
    }
  }
  SDL_RenderSetClipRect(v->r, NULL);
  viz_inspect_free(in);
}

static void draw_help(viz_render *v, int w, int h) {
  static const char *const keys[][2] = {
      {"Space", "play / pause"},
      {"\xe2\x86\x90 \xe2\x86\x92", "previous / next event (Shift: previous / next hop)"},
      {"\xe2\x86\x91 \xe2\x86\x93", "speed up / slow down (0.1\xc3\x97 to 1,000,000\xc3\x97)"},
      {"+ / \xe2\x88\x92", "zoom the sequence chart (wheel too)"},
      {"L", "sequence chart: linear / compressed time"},
      {"P", "protocols shown: all, SMTP, DNS, IMAP, POP3"},
      {"F", "only the selected message or host / all again"},
      {"X", "hide messages like the selected one, that is with the same"},
      {"", "sender, recipient domains and subject (digits aside)"},
      {"Shift+X", "show hidden messages again"},
      {"C", "clear every filter"},
      {"Tab", "select the next message"},
      {"/", "search a message by Message-ID or address, else a host by name or IP"},
      {"Home / End", "start / end of the run"},
      {"Click", "select a host, link, envelope or arrow; timeline: jump"},
      {"Drag", "scrub the timeline"},
      {"Esc", "clear the selection / close this help"},
      {"H", "this help"},
      {"Q", "quit"},
  };
  int bw = 640, bh = 60 + 22 * (int)G_N_ELEMENTS(keys);
  int x = (w - bw) / 2, y = (h - bh) / 2;
  viz_draw_rect(v->r, 0, 0, w, h, viz_rgba(0x263238, 90));
  viz_draw_round_box(v->r, x, y, bw, bh, 10, viz_rgb(0xFFFFFF), viz_rgb(0x90A4AE));
  viz_text_draw(v->text, VIZ_FONT_TITLE, x + 20, y + 14, viz_rgb(VIZ_C_TEXT), VIZ_ALIGN_LEFT, 0,
                "Keys", -1);
  for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
    int ky = y + 46 + 22 * (int)i;
    viz_text_draw(v->text, VIZ_FONT_BOLD, x + 20, ky, viz_rgb(0x1565C0), VIZ_ALIGN_LEFT, 0,
                  keys[i][0], -1);
    viz_text_draw(v->text, VIZ_FONT_NORMAL, x + 140, ky, viz_rgb(VIZ_C_TEXT), VIZ_ALIGN_LEFT,
                  bw - 160, keys[i][1], -1);
  }
}

/* --- the frame ------------------------------------------------------------------------- */

viz_render *viz_render_new(SDL_Renderer *r, const viz_model *m, GError **err) {
  viz_render *v = g_new0(viz_render, 1);
  v->r = r;
  v->m = m;
  v->text = viz_text_new(r, err);
  if (!v->text) {
    g_free(v);
    return NULL;
  }
  v->hits = g_array_new(FALSE, FALSE, sizeof(viz__hit));
  v->idx = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  v->flight = g_array_new(FALSE, FALSE, sizeof(viz_flight));
  return v;
}

void viz_render_free(viz_render *v) {
  if (!v)
    return;
  viz_text_free(v->text);
  viz_layout_free(v->layout);
  g_free(v->lane_order);
  g_array_free(v->hits, TRUE);
  g_array_free(v->idx, TRUE);
  g_array_free(v->flight, TRUE);
  g_free(v);
}

void viz_render_frame(viz_render *v, const viz_view_state *s, int w, int h) {
  g_array_set_size(v->hits, 0);
  v->tl_rect.w = 0;
  SDL_SetRenderDrawBlendMode(v->r, SDL_BLENDMODE_NONE);
  SDL_SetRenderDrawColor(v->r, 0xFA, 0xFA, 0xFA, 255);
  SDL_RenderClear(v->r);
  draw_header(v, s, w);
  const int gap = 6;
  int top = HEADER_H + gap, bottom = h - gap;
  unsigned views = s->views ? s->views : VIZ_VIEW_ALL;
  if (views & VIZ_VIEW_TIMELINE) {
    int th = views == VIZ_VIEW_TIMELINE ? bottom - top : TIMELINE_H;
    viz__timeline_draw(v, s, (SDL_Rect){gap, bottom - th, w - 2 * gap, th});
    bottom -= th + gap;
  }
  int right = w - gap;
  if (s->sel.kind != VIZ_SEL_NONE && (views & (VIZ_VIEW_TOPOLOGY | VIZ_VIEW_SEQUENCE))) {
    int iw = MIN(INSPECTOR_W, w / 3);
    draw_inspector(v, s, (SDL_Rect){right - iw, top, iw, bottom - top});
    right -= iw + gap;
  }
  bool topo = views & VIZ_VIEW_TOPOLOGY, seqv = views & VIZ_VIEW_SEQUENCE;
  int avail = bottom - top;
  if (topo && seqv) {
    int th = avail * 44 / 100;
    viz__topology_draw(v, s, (SDL_Rect){gap, top, right - gap, th});
    viz__sequence_draw(v, s, (SDL_Rect){gap, top + th + gap, right - gap, avail - th - gap});
  } else if (topo) {
    viz__topology_draw(v, s, (SDL_Rect){gap, top, right - gap, avail});
  } else if (seqv) {
    viz__sequence_draw(v, s, (SDL_Rect){gap, top, right - gap, avail});
  }
  if (s->help)
    draw_help(v, w, h);
}

/* --- headless ---------------------------------------------------------------------------- */

SDL_Surface *viz_render_surface(const viz_model *m, const viz_view_state *s, int w, int h,
                                GError **err) {
  if (w < 320 || h < 240 || w > 16384 || h > 16384) {
    g_set_error(err, viz_render_error_quark(), 2,
                "size %dx%d: expected a width of 320 to 16384 and a height of 240 to 16384", w, h);
    return NULL;
  }
  SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
  if (SDL_WasInit(0) == 0 && SDL_Init(0) != 0) {
    g_set_error(err, viz_render_error_quark(), 3, "SDL_Init: %s", SDL_GetError());
    return NULL;
  }
  SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGB888);
  SDL_Renderer *r = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
  if (!r) {
    g_set_error(err, viz_render_error_quark(), 3, "software renderer: %s", SDL_GetError());
    SDL_FreeSurface(surf);
    return NULL;
  }
  viz_render *v = viz_render_new(r, m, err);
  if (!v) {
    SDL_DestroyRenderer(r);
    SDL_FreeSurface(surf);
    return NULL;
  }
  viz_render_frame(v, s, w, h);
  SDL_RenderPresent(r);
  viz_render_free(v);
  SDL_DestroyRenderer(r);
  return surf;
}

bool viz_render_png(const viz_model *m, const viz_view_state *s, int w, int h, const char *path,
                    GError **err) {
  SDL_Surface *surf = viz_render_surface(m, s, w, h, err);
  if (!surf)
    return false;
  bool ok = IMG_SavePNG(surf, path) == 0;
  if (!ok)
    g_set_error(err, viz_render_error_quark(), 4, "%s: cannot write PNG: %s", path, IMG_GetError());
  SDL_FreeSurface(surf);
  return ok;
}
