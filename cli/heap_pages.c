/* heap_pages.c — transparent huge pages for the heap of a long run.
 *
 * A big world keeps tens to hundreds of megabytes of small objects (queued
 * messages, connections, caches) that the simulation visits in no
 * particular order; with 4 KiB pages most of those visits miss the TLB and
 * every first touch of a page is a fault. Debian's kernels run transparent
 * huge pages in "madvise" mode: an anonymous range gets 2 MiB pages only
 * when the process asks with madvise(MADV_HUGEPAGE). glibc's malloc can ask
 * by itself (the glibc.malloc.hugetlb tunable), but only through the
 * environment at process start; this module asks for it from inside.
 *
 * glibc grows its main heap with brk. heap_pages_start makes it grow in
 * HEAP_PAD steps (M_TOP_PAD) and keeps blocks under HEAP_MMAP_MAX in the
 * heap (M_MMAP_THRESHOLD, the largest value glibc's own adaptive threshold
 * reaches; setting the pad turns that adaptation off), grows it once and
 * advises what it has; heap_pages_follow advises what the heap grew by
 * since, from 2 MiB boundary to 2 MiB boundary. Pages already touched stay
 * as they are (khugepaged may merge them later); untouched pages of an
 * advised range cost nothing until used. Memory a run asks for is the same;
 * only how the kernel backs it changes. Nothing here reaches the
 * simulation: no event, no trace byte, no random draw depends on it.
 */
#define _DEFAULT_SOURCE /* sbrk, madvise MADV_HUGEPAGE */
#include "heap_pages.h"

#include <malloc.h> /* mallopt */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)
#define PAD_MIN ((size_t)64 << 20)
#define PAD_MAX ((size_t)1 << 30)
#define HEAP_MMAP_MAX (32 << 20)

static uintptr_t brk_end(void) {
  void *p = sbrk(0);
  return p == (void *)-1 ? 0 : (uintptr_t)p;
}

void heap_pages_start(heap_pages *hp, size_t input_size) {
  hp->advised = 0;
  hp->on = false;
#if defined(MADV_HUGEPAGE) && !defined(HEAP_PAGES_ASAN)
  /* Loading a scenario holds ~10 times its file's size at once (the JSON
   * tree, the configuration); the pad covers that, so loading needs no
   * second growth before the run's first slice can advise it. */
  size_t pad = input_size > PAD_MAX / 16 ? PAD_MAX : input_size * 16;
  pad = pad < PAD_MIN ? PAD_MIN : pad;
  if (mallopt(M_TOP_PAD, (int)pad) != 1 || mallopt(M_MMAP_THRESHOLD, HEAP_MMAP_MAX) != 1)
    return;
  /* What the heap holds so far stays as it is: from the next huge page on. */
  hp->advised = (brk_end() + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
  /* One block from the top grows the heap by the pad; freed, it goes back
   * to the top, which keeps the pad. */
  void *volatile block = malloc(1 << 20); /* more than the top holds; volatile: kept */
  free(block);
  hp->on = true;
  heap_pages_follow(hp);
#else
  (void)input_size;
#endif
}

void heap_pages_follow(heap_pages *hp) {
#ifdef MADV_HUGEPAGE
  if (!hp->on)
    return;
  uintptr_t end = brk_end() & ~(HUGE_PAGE - 1);
  if (end < hp->advised)
    hp->advised = end; /* trimmed: what grows back is a new, unadvised range */
  if (end <= hp->advised)
    return;
  if (madvise((void *)hp->advised, end - hp->advised, MADV_HUGEPAGE) == 0)
    hp->advised = end;
  else
    hp->on = false; /* a kernel without THP: stop asking */
#else
  (void)hp;
#endif
}
