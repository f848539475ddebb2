/* heap_pages.h — transparent huge pages for the heap of a long run (see
 * heap_pages.c). Process-wide in effect (it tunes glibc's malloc and
 * advises the kernel), so only a command's main() path calls it, once. */
#ifndef MAILSIM_HEAP_PAGES_H
#define MAILSIM_HEAP_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Set in builds whose allocator is AddressSanitizer's, not glibc's heap:
 * there heap_pages does nothing. */
#if defined(__SANITIZE_ADDRESS__)
#define HEAP_PAGES_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_PAGES_ASAN 1
#endif
#endif

typedef struct {
  uintptr_t advised; /* the heap is advised up to here */
  bool on;
} heap_pages;

/* Tunes malloc to grow its heap in large steps (sized from INPUT_SIZE, the
 * octets of the input about to be loaded; 0 if unknown) and advises the
 * heap for huge pages. Without THP (or under AddressSanitizer) it does
 * nothing. */
void heap_pages_start(heap_pages *hp, size_t input_size);
/* Advises what the heap grew by since the last call. Cheap (one sbrk(0)
 * when nothing grew): call it between slices of a run. */
void heap_pages_follow(heap_pages *hp);

#endif
