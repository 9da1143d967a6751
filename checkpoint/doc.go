// Package checkpoint stores a migration's durable progress — run manifest, phase
// completion, per-stream high-water marks, intents and rejects — in a SQLite file or a
// PostgreSQL schema. It knows nothing of TIM.
package checkpoint
