// Package checkpoint stores a migration's durable progress — run manifest, phase
// completion, per-stream high-water marks, intents, the rewritten-ID map, rejects and
// counters — in a SQLite file (OpenSQLite) or a PostgreSQL schema (OpenPostgres).
//
// It sits beside the load engine (design §3): the engine records what the target
// confirmed through a batching Writer, and reads the Store back on resume and for
// `immigrate status`. It knows nothing of TIM: phases, streams and IDs are opaque
// strings, positions are numbers.
package checkpoint
