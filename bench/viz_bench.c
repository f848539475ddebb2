/* viz_bench.c — the viewer's figures (a benchmark, not a test):
 *   load: time and memory to load a 1,000,000-event synthetic trace;
 *   fps:  frames per second at 1280x800, software renderer, on a
 *         100,000-event trace, the cursor stepping through the run.
 * The trace is the synthetic journey of tests/viz_fixture.c repeated with
 * new message keys and connection ids. Usage:
 *   viz_bench [--events N] [--fps-events N] [--frames N] [--dir DIR] [--keep]
 * Wall-clock times here are measurements, never behaviour.
 */
#include <SDL.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "trace_read.h"
#include "trace_rec.h"
#include "viz_fixture.h"
#include "viz_render.h"

static char *write_trace(const char *dir, uint64_t events, uint64_t *written, off_t *size) {
  char *path = g_strdup_printf("%s/viz-bench-%" G_GUINT64_FORMAT ".jsonl", dir, events);
  GError *err = NULL;
  trace_writer *tw = trace_writer_new_file(path, &err);
  if (!tw) {
    fprintf(stderr, "viz_bench: %s\n", err->message);
    exit(1);
  }
  viz_fixture_header(tw, FIX_ROLES);
  uint64_t k = 0;
  while (trace_writer_records(tw) < events) {
    char key[32];
    g_snprintf(key, sizeof key, "m%" G_GUINT64_FORMAT, k + 1);
    viz_fixture_journey(tw, key, FIX_S + (int64_t)k * FIX_JOURNEY_SPAN, 8 * k);
    k++;
  }
  trace_event_begin(tw, FIX_S + (int64_t)k * FIX_JOURNEY_SPAN, "end");
  trace_end(tw);
  *written = trace_writer_records(tw) - 1;
  if (!trace_writer_close(tw, &err)) {
    fprintf(stderr, "viz_bench: %s\n", err->message);
    exit(1);
  }
  trace_writer_free(tw);
  GStatBuf sb;
  g_stat(path, &sb);
  *size = sb.st_size;
  return path;
}

/* CPU seconds of this process so far (user + system): steadier than wall
 * time on a shared machine. */
static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static long max_rss_kib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

int main(int argc, char **argv) {
  uint64_t events = 1000000, fps_events = 100000;
  int frames = 600;
  const char *dir = g_get_tmp_dir();
  bool keep = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
      events = g_ascii_strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--fps-events") == 0 && i + 1 < argc)
      fps_events = g_ascii_strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc)
      frames = atoi(argv[++i]);
    else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
      dir = argv[++i];
    else if (strcmp(argv[i], "--keep") == 0)
      keep = true;
    else {
      fprintf(stderr,
              "usage: viz_bench [--events N] [--fps-events N] [--frames N] [--dir DIR] [--keep]\n");
      return 2;
    }
  }
  /* 1. load */
  uint64_t n;
  off_t size;
  char *path = write_trace(dir, events, &n, &size);
  long rss0 = max_rss_kib();
  gint64 t0 = g_get_monotonic_time();
  double c0 = cpu_s();
  GError *err = NULL;
  viz_model *m = viz_model_load(path, &err);
  gint64 t1 = g_get_monotonic_time();
  double c1 = cpu_s();
  if (!m) {
    fprintf(stderr, "viz_bench: %s\n", err->message);
    return 1;
  }
  /* the reader alone, for comparison */
  trace_reader *r = trace_reader_open(path, NULL);
  const cJSON *rec;
  gint64 t2 = g_get_monotonic_time();
  double c2 = cpu_s();
  while (trace_reader_next(r, &rec, NULL) == TRACE_READ_OK) {
  }
  gint64 t3 = g_get_monotonic_time();
  double c3 = cpu_s();
  trace_reader_free(r);
  /* the reader's fast path alone (what the load uses) */
  r = trace_reader_open(path, NULL);
  const trace_rec *frec;
  double c4 = cpu_s();
  while (trace_reader_next_rec(r, &frec, NULL) == TRACE_READ_OK) {
  }
  double c5 = cpu_s();
  trace_reader_free(r);
  printf("load: CPU %.3f s (full-path reader alone %.3f s, fast-path reader alone %.3f s)\n",
         c1 - c0, c3 - c2, c5 - c4);
  printf("load: %" G_GUINT64_FORMAT " events, %.1f MB on disk: %.3f s (reader alone %.3f s), "
         "model %.1f MB = %.2fx the file, max RSS growth %.1f MB (%.2fx)\n",
         n, size / 1e6, (t1 - t0) / 1e6, (t3 - t2) / 1e6, viz_model_memory(m) / 1e6,
         (double)viz_model_memory(m) / (double)size, (max_rss_kib() - rss0) / 1e3,
         (max_rss_kib() - rss0) * 1024.0 / (double)size);
  viz_model_free(m);
  if (!keep)
    g_unlink(path);
  g_free(path);

  /* 2. frames per second */
  path = write_trace(dir, fps_events, &n, &size);
  m = viz_model_load(path, &err);
  if (!m) {
    fprintf(stderr, "viz_bench: %s\n", err->message);
    return 1;
  }
  SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
  SDL_Init(0);
  SDL_Surface *sf = SDL_CreateRGBSurfaceWithFormat(0, 1280, 800, 32, SDL_PIXELFORMAT_RGB888);
  SDL_Renderer *rd = SDL_CreateSoftwareRenderer(sf);
  viz_render *v = viz_render_new(rd, m, &err);
  viz_view_state s;
  viz_view_state_init(&s, m);
  static const struct {
    const char *name;
    bool linear;
    int64_t span;
  } modes[] = {{"compressed axis", false, 0},
               {"linear axis, 2 s", true, 2 * FIX_S},
               {"linear axis, 10 min (zoomed out)", true, 600 * FIX_S}};
  int64_t t_first = viz_model_t_first(m), t_last = viz_model_t_last(m);
  for (size_t k = 0; k < G_N_ELEMENTS(modes); k++) {
    s.seq_linear = modes[k].linear;
    s.seq_span = modes[k].span;
    /* cursor: inside journeys, at the busy first second of each, spread over the run */
    gint64 a = g_get_monotonic_time();
    double ca = cpu_s();
    for (int f = 0; f < frames; f++) {
      int64_t j = (int64_t)f * ((t_last - t_first) / FIX_JOURNEY_SPAN) / frames;
      s.t = t_first + j * FIX_JOURNEY_SPAN + (f % 40) * 10 * FIX_MS;
      viz_render_frame(v, &s, 1280, 800);
      SDL_RenderPresent(rd);
    }
    gint64 b = g_get_monotonic_time();
    double cb = cpu_s();
    printf("fps: %" G_GUINT64_FORMAT " events, 1280x800, %s: %d frames in %.3f s = %.1f frames/s "
           "(%.1f frames per CPU second)\n",
           n, modes[k].name, frames, (b - a) / 1e6, frames / ((b - a) / 1e6), frames / (cb - ca));
  }
  viz_render_free(v);
  SDL_DestroyRenderer(rd);
  SDL_FreeSurface(sf);
  SDL_Quit();
  viz_model_free(m);
  if (!keep)
    g_unlink(path);
  g_free(path);
  return 0;
}
