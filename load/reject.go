package load

// RejectSink receives the records that will not be imported, one call per record,
// in the order they are met, from the goroutine of the validate pass or the
// engine's reject path, which serialises its calls. An error stops the caller: a
// reject that is not written is lost.
type RejectSink interface {
	Reject(r Reject) error
}

// Reject is one record that will not be imported: a line of rejects.jsonl.
type Reject struct {
	Entity   string `json:"entity"`
	Origin   string `json:"origin"`
	LegacyID string `json:"legacy_id"`
	Rule     string `json:"rule"`
	// Severity is "reject" for every record of rejects.jsonl; it is not written.
	Severity string `json:"-"`
	Message  string `json:"message"`
}
