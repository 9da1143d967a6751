package transform

// SeenSet remembers the message ids a pass met, as fingerprints, for the
// duplicate-id rule: Add inserts fp and reports whether it was absent. The
// fingerprints 0 and 1 must be the same member. By default the Transformer keeps
// them in memory (16 bytes a message or so); a caller that bounds its memory
// gives it a disk-backed set with UseSeenSets, checks that set's own errors, and
// gets the same answers.
type SeenSet interface {
	Add(fp uint64) bool
}

// UseSeenSets makes the group message pass (GroupMessage) and the direct
// message pass (DirectMessage) remember their message ids in groupMsgs and
// directMsgs, each empty, instead of in memory. Call it before the passes.
func (t *Transformer) UseSeenSets(groupMsgs, directMsgs SeenSet) {
	t.groupMsgSeen, t.directMsgSeen = groupMsgs, directMsgs
}

// Add implements SeenSet.
func (s *fpSet) Add(h uint64) bool { return s.add(h) }
