/* viz_window.c — the interactive viewer (see viz_window.h).
 *
 * One loop: read events, advance the cursor if playing, draw a frame,
 * present; while playing, idle stretches longer than two seconds of
 * watching are skipped (and said so in the header). Keys: Space play/pause; arrows step by event
 * (Shift: by hop) and change the speed; + and - zoom the sequence chart; L its time axis; Tab
 * selects the next message; / searches; Home/End; PageUp/PageDown scroll
 * the inspector; Esc clears; H help; Q quits. Mouse: click selects (on the
 * timeline: jumps), drag scrubs (timeline) or pans (elsewhere), the wheel
 * zooms (over the inspector: scrolls).
 */
#include "viz_window.h"

#include <SDL_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_time.h"
#include "viz_filter.h"
#include "viz_text.h"

#define MIN_SPEED 100        /* 0.1x, in thousandths */
#define MAX_SPEED 1000000000 /* 1,000,000x */

struct viz_window {
  const viz_model *m;
  viz_view_state s;
  SDL_Window *win;
  SDL_Renderer *r;
  viz_render *v;
  int w, h;
  bool quit;
  bool searching;
  GString *search;
  char status[256];
  enum { DRAG_NONE, DRAG_TIMELINE, DRAG_PAN } drag;
  int drag_y;
  int64_t drag_t;
};

const viz_view_state *viz_window_state(const viz_window *w) { return &w->s; }

/* 0.1, 0.2, 0.5, 1, 2, 5 ... 1,000,000 (x 1000). */
static int64_t speed_step(int64_t milli, int dir) {
  int64_t steps[40];
  int n = 0;
  for (int64_t base = 100; base <= MAX_SPEED; base *= 10) {
    steps[n++] = base;
    if (base * 2 <= MAX_SPEED)
      steps[n++] = base * 2;
    if (base * 5 <= MAX_SPEED)
      steps[n++] = base * 5;
  }
  int i = 0;
  while (i < n - 1 && steps[i] < milli)
    i++;
  i = CLAMP(i + dir, 0, n - 1);
  return steps[i];
}

static void set_status(viz_window *w, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void set_status(viz_window *w, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_vsnprintf(w->status, sizeof w->status, fmt, ap);
  va_end(ap);
  w->s.status = w->status;
}

static void clamp_time(viz_window *w) {
  int64_t a = viz_model_t_first(w->m), b = viz_model_t_last(w->m);
  w->s.t = CLAMP(w->s.t, a, b);
}

static void zoom(viz_window *w, int dir) {
  if (w->s.seq_linear) {
    if (dir > 0 && w->s.seq_span > 1000)
      w->s.seq_span /= 2;
    else if (dir < 0 && w->s.seq_span < INT64_C(86400000000000))
      w->s.seq_span *= 2;
    char buf[TRACE_TIME_BUFSZ];
    set_status(w, "sequence: %s shown", trace_time_format_short(w->s.seq_span, buf));
  } else {
    w->s.seq_row = CLAMP(w->s.seq_row + 2 * dir, 12, 40);
    set_status(w, "sequence: %d px per step", w->s.seq_row);
  }
}

static void select_msg(viz_window *w, uint32_t g) {
  w->s.sel.kind = VIZ_SEL_MSG;
  w->s.sel.index = g;
  w->s.inspector_scroll = 0;
  const viz_msg *msg = viz_model_msg(w->m, g);
  set_status(w, "message %s %s", msg->key, msg->message_id);
}

static void finish_search(viz_window *w) {
  uint32_t after = w->s.sel.kind == VIZ_SEL_MSG ? w->s.sel.index : VIZ_NONE;
  uint32_t g = viz_model_msg_search(w->m, w->search->str, after);
  w->searching = false;
  SDL_StopTextInput();
  if (g == VIZ_NONE) {
    uint32_t n = viz_model_node_search(w->m, w->search->str,
                                       w->s.sel.kind == VIZ_SEL_NODE ? w->s.sel.index : VIZ_NONE);
    if (n == VIZ_NONE) {
      set_status(w, "no message or host matches \"%s\"", w->search->str);
      return;
    }
    w->s.sel.kind = VIZ_SEL_NODE;
    w->s.sel.index = n;
    w->s.inspector_scroll = 0;
    set_status(w, "host %s", viz_model_node(w->m, n)->name);
    return;
  }
  select_msg(w, g);
  const viz_msg *msg = viz_model_msg(w->m, g);
  if (msg->t_compose >= 0)
    w->s.t = msg->t_compose;
}

/* The message of the selection: a message, an envelope's, a connection's
 * or a record's; VIZ_NONE if none. */
static uint32_t selected_msg(const viz_window *w) {
  const viz_selection *sel = &w->s.sel;
  switch (sel->kind) {
  case VIZ_SEL_MSG:
    return sel->index;
  case VIZ_SEL_CONN:
    return viz_model_conn(w->m, sel->index)->msg;
  case VIZ_SEL_EVENT:
    return viz_model_event(w->m, sel->index)->msg;
  default:
    return VIZ_NONE;
  }
}

static void key(viz_window *w, const SDL_KeyboardEvent *k) {
  bool shift = k->keysym.mod & KMOD_SHIFT;
  if (w->searching) {
    switch (k->keysym.sym) {
    case SDLK_RETURN:
    case SDLK_KP_ENTER:
      finish_search(w);
      break;
    case SDLK_ESCAPE:
      w->searching = false;
      SDL_StopTextInput();
      set_status(w, "search cancelled");
      break;
    case SDLK_BACKSPACE:
      if (w->search->len) {
        const char *p = g_utf8_find_prev_char(w->search->str, w->search->str + w->search->len);
        g_string_truncate(w->search, p ? (gsize)(p - w->search->str) : 0);
      }
      set_status(w, "search: %s_", w->search->str);
      break;
    default:
      break;
    }
    return;
  }
  const viz_model *m = w->m;
  switch (k->keysym.sym) {
  case SDLK_q:
    w->quit = true;
    break;
  case SDLK_SPACE:
    w->s.playing = !w->s.playing;
    if (w->s.playing && w->s.t >= viz_model_t_last(m))
      w->s.t = viz_model_t_first(m);
    break;
  case SDLK_RIGHT:
    w->s.t = shift ? viz_model_next_hop_time(m, w->s.t) : viz_model_next_event_time(m, w->s.t);
    break;
  case SDLK_LEFT:
    w->s.t = shift ? viz_model_prev_hop_time(m, w->s.t) : viz_model_prev_event_time(m, w->s.t);
    break;
  case SDLK_UP:
    w->s.speed_milli = speed_step(w->s.speed_milli, +1);
    break;
  case SDLK_DOWN:
    w->s.speed_milli = speed_step(w->s.speed_milli, -1);
    break;
  case SDLK_PLUS:
  case SDLK_EQUALS:
  case SDLK_KP_PLUS:
    zoom(w, +1);
    break;
  case SDLK_MINUS:
  case SDLK_KP_MINUS:
    zoom(w, -1);
    break;
  case SDLK_l:
    w->s.seq_linear = !w->s.seq_linear;
    break;
  case SDLK_p: {
    /* all -> SMTP -> DNS -> IMAP -> POP3 -> all */
    static const viz_proto cycle[] = {VIZ_PROTO_NONE, VIZ_PROTO_SMTP, VIZ_PROTO_DNS, VIZ_PROTO_IMAP,
                                      VIZ_PROTO_POP3};
    size_t i = 0;
    while (i < G_N_ELEMENTS(cycle) && w->s.proto_mask != (cycle[i] ? 1u << cycle[i] : 0u))
      i++;
    viz_proto next = cycle[(i + 1) % G_N_ELEMENTS(cycle)];
    w->s.proto_mask = next ? 1u << next : 0;
    set_status(w, "protocols: %s", next ? viz_proto_name(next) : "all");
    break;
  }
  case SDLK_f:
    if (w->s.focus_msg != VIZ_NONE || w->s.focus_node != VIZ_NONE) {
      w->s.focus_msg = w->s.focus_node = VIZ_NONE;
      set_status(w, "all messages and hosts");
    } else if (w->s.sel.kind == VIZ_SEL_MSG) {
      w->s.focus_msg = w->s.sel.index;
      set_status(w, "only message %s", viz_model_msg(m, w->s.focus_msg)->key);
    } else if (w->s.sel.kind == VIZ_SEL_NODE) {
      w->s.focus_node = w->s.sel.index;
      set_status(w, "only host %s", viz_model_node(m, w->s.focus_node)->name);
    }
    break;
  case SDLK_x: {
    if (shift) {
      w->s.n_hidden = 0;
      set_status(w, "no message hidden");
      break;
    }
    uint32_t g = selected_msg(w);
    if (g == VIZ_NONE)
      set_status(w, "X hides messages like the selected one: select a message first");
    else if (viz_filter_hide_like(m, &w->s, g))
      set_status(w, "hidden: %s", viz_model_like_text(m, viz_model_msg(m, g)->like));
    else
      set_status(w, "already hidden, or %d kinds hidden (Shift+X shows them)", VIZ_HIDE_MAX);
    break;
  }
  case SDLK_c:
    viz_filter_clear(&w->s);
    set_status(w, "no filter");
    break;
  case SDLK_TAB: {
    uint32_t n = (uint32_t)viz_model_msg_count(m);
    if (!n)
      break;
    uint32_t cur = w->s.sel.kind == VIZ_SEL_MSG ? w->s.sel.index : (shift ? 0 : n - 1);
    select_msg(w, shift ? (cur + n - 1) % n : (cur + 1) % n);
    break;
  }
  case SDLK_SLASH:
    w->searching = true;
    g_string_truncate(w->search, 0);
    SDL_StartTextInput();
    set_status(w, "search: _");
    break;
  case SDLK_HOME:
    w->s.t = viz_model_t_first(m);
    break;
  case SDLK_END:
    w->s.t = viz_model_t_last(m);
    break;
  case SDLK_PAGEDOWN:
    w->s.inspector_scroll += 10;
    break;
  case SDLK_PAGEUP:
    w->s.inspector_scroll = MAX(w->s.inspector_scroll - 10, 0);
    break;
  case SDLK_h:
    w->s.help = !w->s.help;
    break;
  case SDLK_ESCAPE:
    if (w->s.help)
      w->s.help = false;
    else if (w->s.sel.kind != VIZ_SEL_NONE)
      w->s.sel.kind = VIZ_SEL_NONE;
    else
      w->s.status = NULL;
    break;
  default:
    break;
  }
  clamp_time(w);
}

static void mouse_down(viz_window *w, const SDL_MouseButtonEvent *b) {
  if (b->button != SDL_BUTTON_LEFT)
    return;
  int64_t t;
  if (viz_render_timeline_time(w->v, b->x, b->y, &t)) {
    w->s.t = t;
    w->drag = DRAG_TIMELINE;
    return;
  }
  viz_selection sel = viz_render_hit(w->v, b->x, b->y);
  if (sel.kind != VIZ_SEL_NONE) {
    w->s.sel = sel;
    w->s.inspector_scroll = 0;
    return;
  }
  w->drag = DRAG_PAN;
  w->drag_y = b->y;
  w->drag_t = w->s.t;
}

static void mouse_move(viz_window *w, const SDL_MouseMotionEvent *mo) {
  int64_t t;
  if (w->drag == DRAG_TIMELINE && viz_render_timeline_time(w->v, mo->x, mo->y, &t)) {
    w->s.t = t;
  } else if (w->drag == DRAG_PAN) {
    int dy = mo->y - w->drag_y;
    if (w->s.seq_linear) {
      w->s.t = w->drag_t - (int64_t)dy * w->s.seq_span / MAX(w->h / 2, 1);
    } else {
      /* one row dragged = one event */
      int steps = dy / MAX(w->s.seq_row, 1);
      t = w->drag_t;
      for (int i = 0; i < abs(steps); i++)
        t = steps > 0 ? viz_model_prev_event_time(w->m, t) : viz_model_next_event_time(w->m, t);
      w->s.t = t;
    }
    clamp_time(w);
  }
}

static void handle(viz_window *w, const SDL_Event *e) {
  switch (e->type) {
  case SDL_QUIT:
    w->quit = true;
    break;
  case SDL_KEYDOWN:
    key(w, &e->key);
    break;
  case SDL_TEXTINPUT:
    if (w->searching && strcmp(e->text.text, "/") != 0) {
      g_string_append(w->search, e->text.text);
      set_status(w, "search: %s_", w->search->str);
    }
    break;
  case SDL_MOUSEBUTTONDOWN:
    mouse_down(w, &e->button);
    break;
  case SDL_MOUSEBUTTONUP:
    w->drag = DRAG_NONE;
    break;
  case SDL_MOUSEMOTION:
    mouse_move(w, &e->motion);
    break;
  case SDL_MOUSEWHEEL: {
    int mx, my;
    SDL_GetMouseState(&mx, &my);
    if (w->s.sel.kind != VIZ_SEL_NONE && mx > w->w - 400)
      w->s.inspector_scroll = MAX(w->s.inspector_scroll - 3 * e->wheel.y, 0);
    else
      zoom(w, e->wheel.y > 0 ? 1 : -1);
    break;
  }
  case SDL_WINDOWEVENT:
    if (e->window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
      w->w = e->window.data1;
      w->h = e->window.data2;
    }
    break;
  default:
    break;
  }
}

static bool open_window(viz_window *w, const char *title, GError **err) {
  if (SDL_Init(SDL_INIT_VIDEO) != 0) {
    g_set_error(err, viz_render_error_quark(), 10, "cannot open a display: %s", SDL_GetError());
    return false;
  }
  /* Without a display SDL falls back to an invisible offscreen driver: a
   * window nobody sees would never be closed. Only if asked for by name. */
  const char *drv = SDL_GetCurrentVideoDriver();
  if (drv && (strcmp(drv, "offscreen") == 0 || strcmp(drv, "dummy") == 0) &&
      !g_getenv("SDL_VIDEODRIVER")) {
    g_set_error(err, viz_render_error_quark(), 10, "no display (SDL video driver \"%s\")", drv);
    return false;
  }
  w->win = SDL_CreateWindow(title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w->w, w->h,
                            SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
  if (w->win)
    w->r = SDL_CreateRenderer(w->win, -1, SDL_RENDERER_PRESENTVSYNC);
  if (w->win && !w->r)
    w->r = SDL_CreateRenderer(w->win, -1, SDL_RENDERER_SOFTWARE);
  if (!w->r) {
    g_set_error(err, viz_render_error_quark(), 11, "cannot open a window: %s", SDL_GetError());
    return false;
  }
  SDL_GetRendererOutputSize(w->r, &w->w, &w->h);
  return true;
}

static void close_window(viz_window *w) {
  viz_render_free(w->v);
  if (w->r)
    SDL_DestroyRenderer(w->r);
  if (w->win)
    SDL_DestroyWindow(w->win);
  SDL_Quit();
}

/* What the window shows, read back from its renderer (before present). */
static void save_screenshot(viz_window *w, const char *path) {
  SDL_Surface *sf = SDL_CreateRGBSurfaceWithFormat(0, w->w, w->h, 32, SDL_PIXELFORMAT_RGB888);
  if (sf && SDL_RenderReadPixels(w->r, NULL, SDL_PIXELFORMAT_RGB888, sf->pixels, sf->pitch) == 0 &&
      IMG_SavePNG(sf, path) == 0)
    set_status(w, "screenshot %s", path);
  else
    fprintf(stderr, "mailsim view: screenshot %s: %s\n", path, SDL_GetError());
  SDL_FreeSurface(sf);
}

int viz_window_run(const viz_model *m, const viz_window_opts *o, GError **err) {
  viz_window w = {.m = m, .w = o->w > 0 ? o->w : 1280, .h = o->h > 0 ? o->h : 800};
  viz_view_state_init(&w.s, m);
  if (o->t >= 0)
    w.s.t = o->t;
  w.s.playing = o->play;
  w.search = g_string_new(NULL);
  char *title = g_strdup_printf("mailsim \xe2\x80\x94 %s", viz_model_source(m));
  bool ok = open_window(&w, title, err);
  g_free(title);
  if (ok)
    w.v = viz_render_new(w.r, m, err);
  if (!ok || !w.v) {
    close_window(&w);
    g_string_free(w.search, TRUE);
    return 1;
  }
  SDL_StopTextInput();
  Uint64 last = SDL_GetTicks64();
  for (int frame = 0; !w.quit && (o->max_frames <= 0 || frame < o->max_frames); frame++) {
    if (o->on_frame)
      o->on_frame(o->user, &w, frame);
    SDL_Event e;
    while (SDL_PollEvent(&e))
      handle(&w, &e);
    Uint64 now = SDL_GetTicks64();
    if (w.s.playing) {
      int64_t dt = (int64_t)(now - last) * w.s.speed_milli * 1000; /* ms x (speed/1000) x 1e6 */
      w.s.t += MAX(dt, 0);
      /* an idle stretch longer than 2 s of watching is skipped, up to
       * half a second (of watching) before the next event */
      int64_t next = viz_model_next_event_time(m, w.s.t);
      int64_t per_s = w.s.speed_milli * 1000000; /* trace ns per wall second */
      if (next > w.s.t && next - w.s.t > 2 * per_s) {
        char buf[TRACE_TIME_BUFSZ];
        set_status(&w, "skipped %s of idle time",
                   trace_time_format_short(next - per_s / 2 - w.s.t, buf));
        w.s.t = next - per_s / 2;
      }
      if (w.s.t >= viz_model_t_last(m)) {
        w.s.t = viz_model_t_last(m);
        w.s.playing = false;
      }
    }
    last = now;
    viz_render_frame(w.v, &w.s, w.w, w.h);
    bool last_frame = w.quit || (o->max_frames > 0 && frame + 1 == o->max_frames);
    if (o->screenshot && last_frame)
      save_screenshot(&w, o->screenshot);
    SDL_RenderPresent(w.r);
    if (o->max_frames > 0)
      SDL_Delay(1);
  }
  close_window(&w);
  g_string_free(w.search, TRUE);
  return 0;
}

int viz_window_error(const char *message, int max_frames, GError **err) {
  viz_window w = {.w = 900, .h = 260};
  if (!open_window(&w, "mailsim \xe2\x80\x94 error", err)) {
    close_window(&w);
    return 1;
  }
  viz_text *t = viz_text_new(w.r, err);
  if (!t) {
    close_window(&w);
    return 1;
  }
  bool done = false;
  for (int frame = 0; !done && (max_frames <= 0 || frame < max_frames); frame++) {
    SDL_Event e;
    while (SDL_PollEvent(&e))
      if (e.type == SDL_QUIT || e.type == SDL_KEYDOWN || e.type == SDL_MOUSEBUTTONDOWN)
        done = true;
    SDL_SetRenderDrawColor(w.r, 0xFA, 0xFA, 0xFA, 255);
    SDL_RenderClear(w.r);
    SDL_SetRenderDrawColor(w.r, 0xD3, 0x2F, 0x2F, 255);
    SDL_Rect bar = {0, 0, w.w, 44};
    SDL_RenderFillRect(w.r, &bar);
    SDL_Color white = {255, 255, 255, 255}, ink = {0x26, 0x32, 0x38, 255};
    viz_text_draw(t, VIZ_FONT_TITLE, 16, 12, white, VIZ_ALIGN_LEFT, 0,
                  "mailsim cannot show this trace", -1);
    /* the message, wrapped at its own separators */
    char **parts = g_strsplit(message, ": ", -1);
    int y = 64;
    for (int i = 0; parts[i]; i++, y += 22)
      viz_text_draw(t, i ? VIZ_FONT_NORMAL : VIZ_FONT_BOLD, 16 + (i ? 16 : 0), y, ink,
                    VIZ_ALIGN_LEFT, w.w - 40, parts[i], -1);
    g_strfreev(parts);
    viz_text_draw(t, VIZ_FONT_SMALL, 16, w.h - 26, ink, VIZ_ALIGN_LEFT, 0,
                  "Press any key to close.", -1);
    SDL_RenderPresent(w.r);
    SDL_Delay(16);
  }
  viz_text_free(t);
  close_window(&w);
  return 0;
}
