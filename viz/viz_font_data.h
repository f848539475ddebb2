/* viz_font_data.h — the embedded font (DejaVu Sans, its licence allows
 * redistribution); bytes of the .ttf file and their count. */
#ifndef MAILSIM_VIZ_FONT_DATA_H
#define MAILSIM_VIZ_FONT_DATA_H

#include <stdint.h>

extern const unsigned char viz_font_sans[];
extern const uint64_t viz_font_sans_size;

#endif
