// Package plan is the dry run and the plan of a migration: the validate pass reads
// every legacy record once, runs the transformer's rules over it, counts what would
// be imported, repaired, rejected or skipped with the API calls and time that
// takes, and — for a run — writes every accepted record to a spool in the order
// the import sends it (design §2 "validate", §3). The engine (load) reads the
// spool through Spool.Source; it never sees the legacy source.
package plan
