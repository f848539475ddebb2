/* msgkey.h — the key that names a message in the trace: its Message-ID
 * without the angle brackets (mail_trace.h), read from the message bytes.
 */
#ifndef MAILSIM_MSGKEY_H
#define MAILSIM_MSGKEY_H

#include <stddef.h>
#include <stdint.h>

#include "mime_hdr.h"

/* The Message-ID of the message DATA (LEN octets) without <> and outer
 * blanks, as a new string; "" when the header has none. Never fails on bad
 * input. */
char *msgkey_of(const uint8_t *data, size_t len);

/* The same key from a header already parsed (ROOT: the root entity's
 * header of mime_msg_parse with the default limits, whose 1,000 fields
 * are the ones msgkey_of reads), for a caller that parsed the message
 * anyway. A new string. */
char *msgkey_of_hdr(const mime_hdr *root);

/* The same key from the unfolded value of a Message-ID field (VALUE,
 * taken: the key is made in its storage and returned; NULL: the header
 * has none, and the key is ""), for a caller that read the field anyway
 * (mime_display_scan's MESSAGE_ID). Free the result with g_free. */
char *msgkey_of_value_take(char *value);

/* The number of Received fields in the header of DATA (the hops the
 * message made, mail_trace.h "hop"). */
unsigned msgkey_hops(const uint8_t *data, size_t len);

/* Both in one reading of the header: returns msgkey_of(DATA, LEN) and
 * stores msgkey_hops(DATA, LEN) in *HOPS. */
char *msgkey_of_hops(const uint8_t *data, size_t len, unsigned *hops);
/* The same with the key written into BUF (BUFSZ octets) when the field's
 * raw value is shorter than BUFSZ (or there is none), else in a new
 * string: the caller frees a result that is not BUF. */
char *msgkey_of_hops_buf(const uint8_t *data, size_t len, unsigned *hops, char *buf,
                         size_t bufsz);
/* The key from a Message-ID field's raw value RAW (RAW_LEN octets, folding
 * kept; NULL: the header has none, the key is ""), in BUF (BUFSZ octets)
 * when RAW_LEN < BUFSZ (or RAW is NULL and BUFSZ > 0), else a new string:
 * the caller frees a result that is not BUF. */
char *msgkey_of_raw_buf(const char *raw, size_t raw_len, char *buf, size_t bufsz);

#endif
