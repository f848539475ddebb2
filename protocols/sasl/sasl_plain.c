/* sasl_plain.c — SASL PLAIN's message (RFC 4616 §2), decoded in place.
 * The base64 is checked as GLib's decoder would read it (RFC 4648 §4's
 * alphabet, '=' padding, whole quanta) and decoded by g_base64_decode_step
 * into a buffer with room for the parts' terminating NUL. */
#include "sasl_plain.h"

#include <string.h>

bool sasl_plain_decode(sasl_plain *p, const char *b64) {
  p->authzid = p->authcid = p->passwd = NULL;
  p->raw = NULL;
  p->room = 0;
  size_t bl = 0; /* the base64 alphabet's octets (and '='), then the length */
  while (g_ascii_isalnum(b64[bl]) || b64[bl] == '+' || b64[bl] == '/' || b64[bl] == '=')
    bl++;
  if (bl == 0 || b64[bl] || bl % 4 != 0)
    return false;
  p->room = bl / 4 * 3 + 3;
  p->raw = p->room <= sizeof p->stack ? p->stack : g_malloc(p->room);
  gint state = 0;
  guint save = 0;
  gsize n = g_base64_decode_step(b64, bl, p->raw, &state, &save);
  char *raw = (char *)p->raw;
  char *p1 = memchr(raw, 0, n);
  char *p2 = p1 ? memchr(p1 + 1, 0, n - (size_t)(p1 + 1 - raw)) : NULL;
  if (!p2 || memchr(p2 + 1, 0, n - (size_t)(p2 + 1 - raw)))
    return false;
  raw[n] = 0; /* room holds it: n <= bl / 4 * 3 */
  p->authzid = raw;
  p->authcid = p1 + 1;
  p->passwd = p2 + 1;
  return true;
}

void sasl_plain_clear(sasl_plain *p) {
  if (p->raw) {
    memset(p->raw, 0, p->room);
    if (p->raw != p->stack)
      g_free(p->raw);
  }
  p->raw = NULL;
  p->room = 0;
  p->authzid = p->authcid = p->passwd = NULL;
}
