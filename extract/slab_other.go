//go:build !linux

package extract

// allocSlab returns an empty byte slice of capacity n for the sort's records.
func allocSlab(n int) ([]byte, error) { return make([]byte, 0, n), nil }

// freeSlab releases a slab from allocSlab.
func freeSlab([]byte) {}
