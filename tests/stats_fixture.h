/* stats_fixture.h — a small hand-built mail journey trace for the
 * trace_stats, trace_mermaid and viz_plot tests (the values the tests
 * expect are worked out by hand in stats_fixture.c). */
#ifndef MAILSIM_STATS_FIXTURE_H
#define MAILSIM_STATS_FIXTURE_H

#include <glib.h>

/* The trace text (new string). */
char *stats_fixture_journey(void);

#endif
