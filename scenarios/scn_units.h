/* scn_units.h — quantities with units as written in scenario files.
 *
 * Sizes: "512", "1500B", "64KiB", "1MiB", "2GiB", "10kB", "1MB" (SI
 * prefixes are powers of 1000, binary ones of 1024). Bandwidths: "100bps",
 * "64kbit", "10Mbit", "1Gbit" (also "kbps", "Mbps", "Gbps": bits per
 * second, SI). Ratios: "0.1%", "25%", "0", "12ppm" or a plain
 * fraction "0.001", stored as parts per million (exact to 1 ppm; finer is
 * an error). Durations are sim_time_parse()'s. All parsers are exact
 * (integer arithmetic over the digits) and reject overflow.
 */
#ifndef MAILSIM_SCN_UNITS_H
#define MAILSIM_SCN_UNITS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

bool scn_parse_size(const char *text, uint64_t *bytes, GError **err);
bool scn_parse_bandwidth(const char *text, uint64_t *bps, GError **err);
bool scn_parse_ppm(const char *text, uint32_t *ppm, GError **err);

#define SCN_UNITS_ERROR (scn_units_error_quark())
GQuark scn_units_error_quark(void);

#endif
