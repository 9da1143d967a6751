package transform

// fpSet is an open-addressing hash set of 64-bit fingerprints (see fingerprint),
// linear probing, at most 3/4 full: 8 bytes a slot, 11-16 bytes an entry. It keeps
// the cross-record state (known users, seen message ids) compact whatever the
// dataset size, where a map[string]struct{} would hold every id string. Zero marks
// an empty slot, so the zero fingerprint is stored as 1.
type fpSet struct {
	slots []uint64
	n     int
}

// add inserts h and reports whether it was absent.
func (s *fpSet) add(h uint64) bool {
	if h == 0 {
		h = 1
	}
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return false
		case 0:
			s.slots[i] = h
			s.n++
			return true
		}
	}
}

// has reports whether h is in the set.
func (s *fpSet) has(h uint64) bool {
	if s.n == 0 {
		return false
	}
	if h == 0 {
		h = 1
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			return false
		}
	}
}

// len returns the number of fingerprints in the set.
func (s *fpSet) len() int { return s.n }

// reset empties the set. A large table is dropped rather than cleared, so that one
// huge group does not make the reset of every later small group cost its size.
func (s *fpSet) reset() {
	if len(s.slots) > 4096 {
		s.slots = nil
	} else {
		clear(s.slots)
	}
	s.n = 0
}

func (s *fpSet) grow() {
	size := 2 * len(s.slots)
	if size < 16 {
		size = 16
	}
	old := s.slots
	s.slots = make([]uint64, size)
	mask := uint64(size - 1)
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := h & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = h
	}
}
