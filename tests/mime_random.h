/* mime_random.h — random header texts for the MIME property tests. */
#ifndef MAILSIM_TESTS_MIME_RANDOM_H
#define MAILSIM_TESTS_MIME_RANDOM_H

#include <glib.h>

/* The next number of the xorshift64* sequence in *S (S must not be 0). */
guint64 mime_random_next(guint64 *s);

/* 1 to 12 pieces that stress quoting, encoded words and folding, stripped
 * (never empty); no encoded-word look-alikes when WORDS is FALSE (in a
 * quoted display name both we and Python would decode them). Advances
 * *SEED. Caller frees. */
char *mime_random_text(guint64 *seed, gboolean words);

#endif
