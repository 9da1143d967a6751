// Package load is the migration engine: it runs the import phases in the order the
// target requires, with one rate limiter per API, per-stream ordering, retries,
// per-record rejects and progress counters, recording confirmed progress in a
// checkpoint.
package load
