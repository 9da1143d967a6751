package transform

// randomWindow holds the Randoms a group stream used in the last 300 seconds of
// SendTime. The server drops a message whose Random equals one stored within
// 300 s (design §7 A4), so a hash collision there would silently lose a message;
// pick derives another Random instead.
type randomWindow struct {
	queue []windowEntry // in SendTime order; queue[head:] is live
	head  int
	count map[uint32]int32 // live entries per Random
}

type windowEntry struct {
	sec    int64
	random uint32
}

const groupDedupWindow = 300 // seconds, spec §8.9, design §7 A4

func (w *randomWindow) reset() {
	w.queue = w.queue[:0]
	w.head = 0
	clear(w.count)
}

// pick returns the Random of message id sent at sec (seconds, not before the
// previous pick's) and whether it had to be salted. An entry stays live while its
// time is within 300 s of sec, bounds included, matching the sandbox's ±300 s.
func (w *randomWindow) pick(id string, sec int64) (random uint32, salted bool) {
	if w.count == nil {
		w.count = make(map[uint32]int32)
	}
	for w.head < len(w.queue) && w.queue[w.head].sec < sec-groupDedupWindow {
		e := w.queue[w.head]
		if w.count[e.random]--; w.count[e.random] <= 0 {
			delete(w.count, e.random)
		}
		w.head++
	}
	// Reuse the queue's front once most of it is dead, so a long stream does not
	// grow it.
	if w.head > 1024 && w.head*2 > len(w.queue) {
		n := copy(w.queue, w.queue[w.head:])
		w.queue = w.queue[:n]
		w.head = 0
	}
	random = GroupRandom(id)
	for salt := uint32(1); w.count[random] > 0; salt++ {
		random = groupRandomSalted(id, salt)
		salted = true
	}
	w.count[random]++
	w.queue = append(w.queue, windowEntry{sec: sec, random: random})
	return random, salted
}
