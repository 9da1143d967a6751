// Package verify reads the target back and reconciles it with the plan of the
// migration (design §2 "verify", §4 rule 6): for every entity, how many records the
// import was to send, how many the target holds as sent, which are missing and
// which differ (text, sender, time, order), each finding with the record's origin.
// It sits after load in the pipeline and reads the same plan the engine imports,
// so it compares exactly what the import sends; its calls go through the engine's
// pacers and retries (load.Caller).
package verify
