/* scn_override.h — scenario keys changed from the command line
 * (`mailsim sweep --set PATH=V1,V2,...`): a path into the scenario's JSON,
 * a value, and the edited scenario loaded by scn_parse, so a bad value gets
 * the loader's own error (file, JSON path, what was expected).
 *
 * Path syntax: keys joined by '.', array elements chosen in brackets:
 *
 *   duration                          a top-level key
 *   hosts[mx.example.org].mta.greylist_delay
 *   hosts[smtp.example.com].mta.retry
 *   links[alice-laptop-isp-a].latency a link by "A-B" (its two host names)
 *   users[bob@example.org].every      a user by address
 *   messages[m1].subject              a message by id
 *   zones[example.org.].records       a zone by origin
 *   links[0].loss                     any array element by index (from 0)
 *
 * A bracket selects the element whose "name", "id", "address", "origin"
 * or "A-B" link name equals the text (byte for byte), else, for a decimal
 * number, the element at that index. Host names contain dots, hence the
 * brackets: a key never contains '.', '[' or ']'. The last key is set
 * (added when missing); keys on the way that are missing are added as
 * objects.
 *
 * Values: a JSON value when the text is one (60, true, "x", [..], {..}),
 * otherwise the text as a JSON string (60s, postfix, 0.5%).
 */
#ifndef MAILSIM_SCN_OVERRIDE_H
#define MAILSIM_SCN_OVERRIDE_H

#include <cJSON.h>
#include <glib.h>
#include <stdbool.h>

#include "scn.h"

/* Splits "PATH=V1,V2,..." into *PATH (new string) and *VALUES (new array of
 * new strings; commas inside brackets, braces or quotes do not split).
 * False with *ERR (SCN_ERROR) when there is no '=', the path is empty or
 * malformed, or a value is empty. */
bool scn_override_split(const char *arg, char **path, GPtrArray **values, GError **err);

/* Checks PATH's syntax (see above). False with *ERR (SCN_ERROR). */
bool scn_override_check_path(const char *path, GError **err);

/* Sets PATH in ROOT to VALUE. False with *ERR (SCN_ERROR) naming PATH when
 * it does not lead anywhere (no such element, a key under a non-object). */
bool scn_override_apply(cJSON *root, const char *path, const char *value, GError **err);

/* The scenario JSON of FILE (its text JSON/LEN) with the N settings
 * PATHS[i]=VALUES[i] applied in order, loaded by scn_parse (errors name
 * FILE). NULL with *ERR (SCN_ERROR) on bad JSON, a path that leads nowhere
 * or a value the loader refuses. */
scn_config *scn_override_load(const char *file, const char *json, size_t len,
                              const char *const *paths, const char *const *values, size_t n,
                              GError **err);

#endif
