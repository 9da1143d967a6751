// Package transform turns legacy records into TIM import payloads and validation
// issues: deterministic target identities, every documented constraint as a rule with
// a stable code, and the repairs the mapping's policies allow. It is pure: no I/O, and
// the clock is passed in.
package transform
