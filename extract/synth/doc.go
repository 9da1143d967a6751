// Package synth generates deterministic synthetic legacy chat datasets — users,
// groups, members, group messages and one-to-one messages with a configurable share
// of each kind of bad record — as CSV files with a matching mapping file, or loaded
// into a PostgreSQL schema. It also lists every planted bad record with the rule the
// validate pipeline should give it, so tests can check that nothing slips through.
// Generation streams: memory grows with the number of groups, users' bad records and
// conversations, never with the number of messages.
package synth
