/* scn_json.h — typed access to scenario JSON with error messages that name
 * the file, the JSON path and what was expected.
 *
 * A scn_json_ctx carries the file name and the first error. Getters take
 * the object, the key and the path of the object ("$.links[2]"); a missing
 * optional key leaves *out unchanged and succeeds. Every getter returns
 * false once an error is recorded, so a loader can run on and check once.
 * Unknown keys are errors too (a misspelt key must not be ignored).
 */
#ifndef MAILSIM_SCN_JSON_H
#define MAILSIM_SCN_JSON_H

#include <cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim_time.h"

#define SCN_ERROR (scn_error_quark())
GQuark scn_error_quark(void);

typedef struct {
  const char *file;
  GError *err; /* first error, owned */
} scn_json_ctx;

/* Records an error "FILE: PATH: message" unless one is already recorded. */
void scn_json_fail(scn_json_ctx *c, const char *path, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
bool scn_json_ok(const scn_json_ctx *c);

/* Fails if OBJ (at PATH) has a key not in the NULL-terminated ALLOWED. */
bool scn_json_known_keys(scn_json_ctx *c, const cJSON *obj, const char *path,
                         const char *const *allowed);
/* scn_json_known_keys, and FOUND[i] (an array as long as ALLOWED) set to
 * the first item named ALLOWED[i] or NULL: one pass over OBJ for all its
 * lookups; read them with the scn_json_field_* getters, which take the
 * value found (NULL: absent) where the others take OBJ and fail the same;
 * a string is not copied: *OUT points into the tree, valid while it lives. */
bool scn_json_fields(scn_json_ctx *c, const cJSON *obj, const char *path,
                     const char *const *allowed, const cJSON **found);
bool scn_json_field_string(scn_json_ctx *c, const cJSON *v, const char *path, const char *key,
                           bool required, const char **out);
bool scn_json_field_array(scn_json_ctx *c, const cJSON *v, const char *path, const char *key,
                          bool required, const cJSON **out);
bool scn_json_field_duration(scn_json_ctx *c, const cJSON *v, const char *path, const char *key,
                             bool required, sim_time *out);
/* Child path helpers: "$.a" + "b" -> "$.a.b"; "$.a" + 3 -> "$.a[3]". */
char *scn_json_key_path(const char *path, const char *key);
char *scn_json_index_path(const char *path, int i);

bool scn_json_string(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                     bool required, char **out);
bool scn_json_bool(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                   bool required, bool *out);
/* An integer in [lo, hi] (JSON number with no fraction). */
bool scn_json_int(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                  bool required, int64_t lo, int64_t hi, int64_t *out);
/* A seed: a non-negative integer up to 2^53, or a decimal string up to 2^64-1. */
bool scn_json_seed(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                   bool required, uint64_t *out);
bool scn_json_duration(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                       bool required, sim_time *out);
/* Size, bandwidth, ratio (scn_units.h): a string with units, or a plain
 * integer (bytes, bit/s; for a ratio a number in [0, 1]). */
bool scn_json_size(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                   bool required, uint64_t *out);
bool scn_json_bandwidth(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                        bool required, uint64_t *out);
bool scn_json_ppm(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                  bool required, uint32_t *out);
/* An array (possibly empty) at KEY; *out NULL if absent and optional. */
bool scn_json_array(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                    bool required, const cJSON **out);
/* The strings of the array at KEY in a new GPtrArray (items g_free'd with
 * it; the caller frees it), or NULL if the key is absent and optional, or
 * no array. The first item that is no string (with NONEMPTY: or is "")
 * fails as "PATH.KEY[i]: expected WHAT"; the items before it are kept. */
GPtrArray *scn_json_strings(scn_json_ctx *c, const cJSON *obj, const char *path, const char *key,
                            bool required, bool nonempty, const char *what);
/* The array at V (the value found for KEY; NULL: absent) checked as
 * scn_json_strings checks it, without copies: *OUT is the array, whose
 * items' valuestring the caller reads while the tree lives; NULL if absent
 * and optional, or on an error. */
bool scn_json_field_string_items(scn_json_ctx *c, const cJSON *v, const char *path,
                                 const char *key, bool required, bool nonempty, const char *what,
                                 const cJSON **out);

#endif
