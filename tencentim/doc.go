// Package tencentim is the client for Tencent Cloud Chat's server-side REST API:
// UserSig generation and verification (spec §2.2), endpoints and failover between a
// region's domains (spec §1.2), typed requests and responses for every API immigrate
// uses (types.go, then one file per API family), and the one place where vendor
// error codes are classified as retryable, record-rejected or fatal (errors.go,
// design §5). The vendor's vocabulary (commands, rates, limits, regions) lives in
// package vocab and is re-exported here (vocab.go). It knows nothing of legacy data
// or of the migration engine.
package tencentim
