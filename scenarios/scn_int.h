/* scn_int.h — the scenario loader's internals shared with its tests. */
#ifndef MAILSIM_SCN_INT_H
#define MAILSIM_SCN_INT_H

#include "scn.h"

/* scn_parse by the general path only (the whole text through cJSON, no
 * fast path for the messages: scn.c): the reference the fast path must
 * equal. */
scn_config *scn__parse_general(const char *file, const char *json, size_t len, GError **err);

#endif
