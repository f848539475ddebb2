/* viz_plot.h — the figure of `mailsim stats --plot`: delivery delay CDF,
 * queue length over time per MTA (one coloured line each, with a legend;
 * with more MTAs than colours, the 9 with the highest peaks are drawn)
 * and the retries histogram, with axes, round-valued ticks, labels and a
 * title.
 *
 * Drawn headless and byte-reproducibly (PLATFORM.md): SDL_Init(0), an
 * RGB888 surface, SDL_CreateSoftwareRenderer, SDL2_ttf text, IMG_SavePNG.
 * Pixel positions are computed with integer arithmetic only. The font is
 * DejaVu Sans, loaded at run time from VIZ_PLOT_FONT (to be switched to the
 * embedded font of viz_text at merge). Reads trace_stats only: the viewer
 * layer never links the simulator.
 */
#ifndef MAILSIM_VIZ_PLOT_H
#define MAILSIM_VIZ_PLOT_H

#include <glib.h>
#include <stdbool.h>

#include "trace_stats.h"

#define VIZ_PLOT_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define VIZ_PLOT_WIDTH 1280
#define VIZ_PLOT_HEIGHT 960

/* Draws S into a new PNG file PNG_PATH under TITLE. False with *ERR set
 * (G_FILE_ERROR) when SDL, the font or the file fails. */
bool viz_plot_stats(const trace_stats *s, const char *title, const char *png_path, GError **err);

/* Axis ticks over [0, MAX] (MAX > 0) in UNIT-ns units: the step is 1, 2 or
 * 5 times a power of ten of milli-units, with at most MAXTICKS+1 ticks.
 * Returns the step in value units (>= 1); *DECIMALS gets the decimals its
 * labels need (0..3). Exposed for tests. */
int64_t viz_plot_step(int64_t max, int64_t unit, int maxticks, int *decimals);

#endif
