/* viz_font_data.c — DejaVu Sans, embedded in the binary at build time, so
 * the viewer needs no font file at run time (see PLATFORM.md). The
 * assembler includes the file named by VIZ_FONT_PATH (set by meson). */
#include "viz_font_data.h"

#ifndef VIZ_FONT_PATH
#error "VIZ_FONT_PATH must name DejaVuSans.ttf (set by viz/meson.build)"
#endif

__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl viz_font_sans\n"
        "viz_font_sans:\n"
        ".incbin \"" VIZ_FONT_PATH "\"\n"
        "viz_font_sans_end:\n"
        ".balign 8\n"
        ".globl viz_font_sans_size\n"
        "viz_font_sans_size:\n"
        ".quad viz_font_sans_end - viz_font_sans\n"
        ".previous\n");
