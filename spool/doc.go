// Package spool stores a migration's plan on disk: every phase's records, in the
// order the import sends them, written once by the validate pass and read by the
// import and by every resume, so that neither reads the legacy source again
// (design §3). It knows nothing of TIM or of the legacy source: a record is a
// stream key, an origin, a legacy id and an opaque payload.
package spool
