/* fuzz_main.c — runs a libFuzzer target over files given as arguments (the
 * seed corpus), so the targets are regression tests with any compiler. */
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
  int n = 0;
  for (int i = 1; i < argc; i++) {
    gchar *buf;
    gsize len;
    if (!g_file_get_contents(argv[i], &buf, &len, NULL)) {
      fprintf(stderr, "cannot read %s\n", argv[i]);
      return 1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
    g_free(buf);
    n++;
  }
  printf("%d inputs ran\n", n);
  return n > 0 ? 0 : 1;
}
