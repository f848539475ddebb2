/* viz_window.h — the interactive viewer: an SDL window that plays a trace
 * and answers the keyboard and mouse (see the help overlay, key H).
 *
 * Playback is the one place where real time enters the viewer: the cursor
 * advances by the wall-clock time between frames times the speed. Nothing
 * the viewer shows depends on it except where the cursor is.
 */
#ifndef MAILSIM_VIZ_WINDOW_H
#define MAILSIM_VIZ_WINDOW_H

#include <SDL.h>
#include <glib.h>

#include "viz_model.h"
#include "viz_render.h"

typedef struct viz_window viz_window;

typedef struct {
  int w, h;               /* window size; 0 = 1280 x 800 */
  int64_t t;              /* initial cursor; -1 = the first event */
  bool play;              /* start playing */
  int max_frames;         /* stop after this many frames (tests); 0 = until quit */
  const char *screenshot; /* if set, the last frame is saved there as PNG */
  /* Called before each frame's events are read (tests push SDL events
   * here); FRAME counts from 0. */
  void (*on_frame)(void *user, viz_window *win, int frame);
  void *user;
} viz_window_opts;

/* Opens the window on M (borrowed) and runs until Q, Esc with nothing to
 * close, the window's close button, or max_frames. Returns 0, or 1 with
 * *ERR set if the window or renderer could not be created (no display). */
int viz_window_run(const viz_model *m, const viz_window_opts *o, GError **err);
/* The view state (borrowed; valid during on_frame). */
const viz_view_state *viz_window_state(const viz_window *w);
/* Shows MESSAGE (e.g. a trace error) in a window until a key or close, or
 * for max_frames frames if > 0. Returns 0, or 1 with *ERR if no window. */
int viz_window_error(const char *message, int max_frames, GError **err);

#endif
