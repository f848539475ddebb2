/* Tests for cli/heap_pages.c: after heap_pages_start the heap's range is
 * advised for transparent huge pages (the kernel says so in /proc/self/smaps,
 * "THPeligible: 1" on the [heap] mapping), and heap_pages_follow advises
 * what the heap grew by since. Skipped (exit 77, with the reason) where
 * there is nothing to test: a kernel without THP or with THP off, or a
 * build whose allocator is not glibc's heap (AddressSanitizer). */
#define _DEFAULT_SOURCE /* sbrk */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heap_pages.h"
#include "testutil.h"

/* Whether the [heap] mapping covering ADDR is eligible for huge pages. */
static int heap_eligible_at(uintptr_t addr) {
  char *smaps = NULL;
  ck_assert(g_file_get_contents("/proc/self/smaps", &smaps, NULL, NULL));
  int got = -1;
  bool in = false;
  for (char *line = strtok(smaps, "\n"); line; line = strtok(NULL, "\n")) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ')) {
      in = strstr(line, "[heap]") && addr >= lo && addr < hi;
      continue;
    }
    if (in && g_str_has_prefix(line, "THPeligible:"))
      got = atoi(line + strlen("THPeligible:"));
  }
  g_free(smaps);
  return got;
}

START_TEST(test_start_advises_the_heap) {
  heap_pages hp;
  heap_pages_start(&hp, 0);
  ck_assert_msg(hp.on, "heap_pages_start: off although THP is available");
  /* The pad: the heap reaches at least 64 MiB beyond where it was. */
  uintptr_t end = (uintptr_t)sbrk(0);
  ck_assert_uint_ge(end, hp.advised);
  ck_assert_uint_ge(hp.advised + ((uintptr_t)2 << 20), end & ~(((uintptr_t)2 << 20) - 1));
  int e = heap_eligible_at(hp.advised - 1);
  ck_assert_msg(e == 1, "the advised heap: THPeligible got %d want 1", e);
}
END_TEST

START_TEST(test_follow_advises_growth) {
  heap_pages hp;
  heap_pages_start(&hp, 0);
  ck_assert(hp.on);
  uintptr_t first = hp.advised;
  /* Grow the heap past its pad with blocks that stay. */
  GPtrArray *keep = g_ptr_array_new_with_free_func(free);
  while ((uintptr_t)sbrk(0) < first + ((uintptr_t)80 << 20))
    g_ptr_array_add(keep, malloc(1 << 20));
  uintptr_t grown = (uintptr_t)sbrk(0) & ~(((uintptr_t)2 << 20) - 1);
  ck_assert_int_ne(heap_eligible_at(grown - 1), 1); /* not yet */
  heap_pages_follow(&hp);
  ck_assert_uint_eq(hp.advised, grown);
  int e = heap_eligible_at(grown - 1);
  ck_assert_msg(e == 1, "after follow: THPeligible got %d want 1", e);
  g_ptr_array_free(keep, TRUE);
}
END_TEST

static const char *skip_reason(void) {
#if defined(HEAP_PAGES_ASAN)
  return "AddressSanitizer's allocator is not glibc's heap";
#else
  char *mode = NULL;
  if (!g_file_get_contents("/sys/kernel/mm/transparent_hugepage/enabled", &mode, NULL, NULL))
    return "the kernel has no transparent huge pages";
  bool never = strstr(mode, "[never]") != NULL;
  g_free(mode);
  return never ? "transparent huge pages are off on this machine" : NULL;
#endif
}

int main(void) {
  const char *why = skip_reason();
  if (why) {
    printf("heap_pages: skipped: %s\n", why);
    return 77;
  }
  Suite *s = suite_create("heap_pages");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_start_advises_the_heap);
  tcase_add_test(tc, test_follow_advises_growth);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
