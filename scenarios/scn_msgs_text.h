/* scn_msgs_text.h — the scenario's "messages" array read straight from the
 * file's text, without a cJSON tree (the loader's fast path, scn.c).
 *
 * A load world's file is mostly its messages (10,000 of them in a 1.7 MB
 * file), and through cJSON each costs ~20 allocations and their frees
 * (nodes, keys, strings) before the loader copies what it keeps. This
 * reader takes messages of the usual shape from the text into a message
 * store (scn_msgs.h) exactly as the loader would have, and gives up on
 * anything else, so the general path stays the only one that words errors.
 */
#ifndef MAILSIM_SCN_MSGS_TEXT_H
#define MAILSIM_SCN_MSGS_TEXT_H

#include <stddef.h>

#include "scn_msgs.h"

/* Finds the value of the key "messages" of the top-level object of the
 * JSON text JSON (LEN octets) and, when it is an array of messages of the
 * usual shape, returns them in a new store (the caller frees it; the
 * config takes it), with *START and *END the offsets of the array's '['
 * and one past its ']'. The usual shape: an object with the keys "id",
 * "from", "to", "cc", "bcc", "subject", "text", "html", "at" and
 * "attachments", each at most once, "from" present; strings where the
 * loader wants strings, arrays of strings for the recipients, an empty
 * array of attachments; strings without control octets
 * or \u escapes; "at" a duration sim_time_parse reads; at least one
 * recipient, each a valid address; ids (given or "mN") not repeated; only
 * ' ', '\t', '\n' and '\r' as white space. Returns NULL (nothing set) for
 * any other text, which then is the general path's to load or refuse:
 * the root is not an object, has no or two "messages" keys, a key has an
 * escape, the text before the array is not well formed enough to find it,
 * or any message is not of that shape. */
scn_msgs *scn_msgs_text_read(const char *json, size_t len, size_t *start, size_t *end);

#endif
