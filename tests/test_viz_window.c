/* Tests for the interactive window: it opens, plays, takes keyboard and
 * mouse input and quits cleanly. Needs a display: meson runs it under
 * `xvfb-run -a` when xvfb is installed; without a display it is skipped
 * (exit 77) with the reason on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "viz_fixture.h"
#include "viz_window.h"

typedef struct {
  const viz_model *m;
  int last_frame;
  bool was_playing, stepped, selected, helped, help_closed, cleared, jumped, found, sped_up;
  bool hid_like, focused, unfiltered;
  int64_t t_before_step;
  int64_t speed_before;
} script;

static void push_key(SDL_Keycode k, Uint16 mod) {
  SDL_Event e = {0};
  e.type = SDL_KEYDOWN;
  e.key.keysym.sym = k;
  e.key.keysym.mod = mod;
  SDL_PushEvent(&e);
}

static void push_text(const char *s) {
  SDL_Event e = {0};
  e.type = SDL_TEXTINPUT;
  g_strlcpy(e.text.text, s, sizeof e.text.text);
  SDL_PushEvent(&e);
}

static void push_click(int x, int y) {
  SDL_Event e = {0};
  e.type = SDL_MOUSEBUTTONDOWN;
  e.button.button = SDL_BUTTON_LEFT;
  e.button.x = x;
  e.button.y = y;
  SDL_PushEvent(&e);
  e.type = SDL_MOUSEBUTTONUP;
  SDL_PushEvent(&e);
}

/* Each frame checks the effect of the previous frame's input, then sends
 * the next input. */
static void on_frame(void *user, viz_window *win, int frame) {
  script *sc = user;
  const viz_view_state *s = viz_window_state(win);
  sc->last_frame = frame;
  switch (frame) {
  case 2:
    push_key(SDLK_SPACE, 0);
    break;
  case 3:
    sc->was_playing = s->playing;
    sc->speed_before = s->speed_milli;
    push_key(SDLK_UP, 0);
    break;
  case 4:
    sc->sped_up = s->speed_milli > sc->speed_before;
    push_key(SDLK_SPACE, 0);
    push_key(SDLK_HOME, 0);
    break;
  case 5:
    sc->t_before_step = s->t;
    push_key(SDLK_RIGHT, 0);
    break;
  case 6:
    sc->stepped = !s->playing && s->t > sc->t_before_step;
    push_key(SDLK_TAB, 0);
    break;
  case 7:
    sc->selected = s->sel.kind == VIZ_SEL_MSG && s->sel.index == 0;
    push_key(SDLK_h, 0);
    break;
  case 8:
    sc->helped = s->help;
    push_key(SDLK_ESCAPE, 0);
    break;
  case 9:
    sc->help_closed = !s->help && s->sel.kind == VIZ_SEL_MSG;
    push_key(SDLK_ESCAPE, 0);
    break;
  case 10:
    sc->cleared = s->sel.kind == VIZ_SEL_NONE;
    push_click(1262, 750); /* the right end of the timeline */
    break;
  case 11:
    sc->jumped = s->t > viz_model_t_last(sc->m) - (viz_model_t_last(sc->m) / 50);
    push_key(SDLK_SLASH, 0);
    push_text("bob@bob");
    push_key(SDLK_RETURN, 0);
    break;
  case 12:
    sc->found = s->sel.kind == VIZ_SEL_MSG && s->t == viz_model_msg(sc->m, 0)->t_compose;
    push_key(SDLK_x, 0); /* hide messages like the selected one */
    break;
  case 13:
    sc->hid_like = s->n_hidden == 1 && s->hidden_like[0] == viz_model_msg(sc->m, 0)->like;
    push_key(SDLK_x, KMOD_SHIFT);
    push_key(SDLK_f, 0); /* only the selected message */
    break;
  case 14:
    sc->focused = s->n_hidden == 0 && s->focus_msg == 0;
    push_key(SDLK_p, 0); /* SMTP only */
    push_key(SDLK_c, 0); /* clear every filter */
    break;
  case 15:
    sc->unfiltered = s->focus_msg == VIZ_NONE && s->proto_mask == 0 && s->n_hidden == 0;
    push_key(SDLK_q, 0);
    break;
  default:
    break;
  }
}

START_TEST(play_keys_quit) {
  size_t len;
  char *text = viz_fixture_trace(&len);
  viz_model *m = viz_model_load_memory("journey.jsonl", text, len, NULL);
  ck_assert_ptr_nonnull(m);
  script sc = {.m = m};
  viz_window_opts o = {
      .w = 1280, .h = 800, .t = -1, .max_frames = 200, .on_frame = on_frame, .user = &sc};
  GError *err = NULL;
  int rc = viz_window_run(m, &o, &err);
  ck_assert_msg(rc == 0, "window: %s", err ? err->message : "");
  ck_assert_msg(sc.last_frame == 15, "quit at frame %d, want 15 (Q)", sc.last_frame);
  ck_assert_msg(sc.was_playing, "Space did not start playing");
  ck_assert_msg(sc.sped_up, "Up did not speed up");
  ck_assert_msg(sc.stepped, "Right did not step to the next event");
  ck_assert_msg(sc.selected, "Tab did not select the first message");
  ck_assert_msg(sc.helped, "H did not open the help");
  ck_assert_msg(sc.help_closed, "Esc did not close only the help");
  ck_assert_msg(sc.cleared, "Esc did not clear the selection");
  ck_assert_msg(sc.jumped, "a click on the timeline did not move the cursor");
  ck_assert_msg(sc.found, "search did not find and select the message");
  ck_assert_msg(sc.hid_like, "X did not hide messages like the selected one");
  ck_assert_msg(sc.focused, "Shift+X did not show them again, or F did not focus the message");
  ck_assert_msg(sc.unfiltered, "C did not clear the filters");
  viz_model_free(m);
  g_free(text);
}
END_TEST

START_TEST(error_window) {
  GError *err = NULL;
  int rc = viz_window_error("bad.jsonl:3: expected a JSON object", 5, &err);
  ck_assert_msg(rc == 0, "%s", err ? err->message : "");
}
END_TEST

int main(void) {
  if (!g_getenv("DISPLAY") && !g_getenv("WAYLAND_DISPLAY")) {
    fprintf(stderr, "viz_window: skipped: no display (install xvfb so meson runs this under "
                    "xvfb-run)\n");
    return 77;
  }
  Suite *s = suite_create("viz_window");
  TCase *tc = tcase_create("window");
  tcase_add_test(tc, play_keys_quit);
  tcase_add_test(tc, error_window);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
