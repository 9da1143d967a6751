package sandbox

// groupStore holds groups, members, group messages and topics.
type groupStore struct{}
