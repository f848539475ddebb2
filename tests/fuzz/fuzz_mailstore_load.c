/* fuzz_mailstore_load.c — libFuzzer target for mailstore_load(): any blob
 * is rejected or loaded without crash or leak; a loaded store saves to an
 * image that loads again to the same image (round trip). */
#include <stdint.h>
#include <string.h>

#include "mailstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  GBytes *b = g_bytes_new(data, size);
  mailstore_err e;
  mailstore *s = mailstore_load(b, &e);
  if (s) {
    GBytes *img = mailstore_save(s);
    mailstore *t = mailstore_load(img, &e);
    if (!t)
      __builtin_trap(); /* our own image must load */
    GBytes *img2 = mailstore_save(t);
    if (!g_bytes_equal(img, img2))
      __builtin_trap();
    g_bytes_unref(img);
    g_bytes_unref(img2);
    mailstore_free(t);
    mailstore_free(s);
  }
  g_bytes_unref(b);
  return 0;
}
