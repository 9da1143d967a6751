package extract

import (
	"fmt"
	"syscall"
)

// allocSlab returns an empty byte slice of capacity n for the sort's records, mapped
// outside the Go heap: the collector sizes its next goal from the live heap, so slabs
// in the heap would let the process grow to about twice SortMemoryBytes. Slabs hold
// no Go pointers, so the collector need not see them.
func allocSlab(n int) ([]byte, error) {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("sort: map %d bytes: %w", n, err)
	}
	// Huge pages where the kernel offers them: touching a fresh slab page by page
	// costs a fault per 4 KiB, which dominates filling it.
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
	return b[:0], nil
}

// freeSlab releases a slab from allocSlab; nothing may refer to it afterwards.
func freeSlab(b []byte) {
	_ = syscall.Munmap(b[:cap(b)])
}
