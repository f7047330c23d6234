/* warm_heap.h — for a program that lives for one request (a CGI program).
 *
 * A short process grows its heap a page at a time, and each new page costs
 * a page fault when first written: about 1 µs on a physical machine, 10 to
 * 25 µs on a virtual machine whose faults trap to the hypervisor. Opening
 * the engine and scoring one comment write some 150 such pages. Asking the
 * kernel for them in one call (MADV_POPULATE_WRITE, Linux 5.14) costs under
 * 1 µs a page. warm_heap(KB) grows the heap by KB once, populated, and
 * keeps it (the allocator then hands out pages that are already there).
 *
 * This is the program's choice, not the library's: it changes the
 * process's allocator settings, which a long-lived host (PHP-FPM, a
 * persistent Perl) tunes for itself. Without glibc or the call it does
 * nothing, and everything works the same.
 */
#ifndef SPAMGUARD_EXAMPLES_WARM_HEAP_H_
#define SPAMGUARD_EXAMPLES_WARM_HEAP_H_

#if defined(__GLIBC__) && defined(__linux__)
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

static void warm_heap(size_t kb) {
#if defined(__GLIBC__) && defined(__linux__) && defined(MADV_POPULATE_WRITE)
  void *p;
  uintptr_t from, to;
  /* Blocks of this size come from the heap (not a mapping of their own),
   * and freeing them does not give the heap back. */
  mallopt(M_MMAP_THRESHOLD, (int)(kb * 1024 + (256 << 10)));
  mallopt(M_TRIM_THRESHOLD, (int)(kb * 1024 + (256 << 10)));
  p = malloc(kb * 1024);
  if (p == NULL) return;
  from = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
  to = (uintptr_t)sbrk(0) & ~(uintptr_t)4095;
  if (to > from) (void)madvise((void *)from, to - from, MADV_POPULATE_WRITE);
  free(p);
#else
  (void)kb;
#endif
}

#endif /* SPAMGUARD_EXAMPLES_WARM_HEAP_H_ */
