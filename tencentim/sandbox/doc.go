// Package sandbox is a local emulator of the Tencent Cloud Chat REST API: an
// http.Handler with in-memory state that validates requests, enforces limits and
// answers with the per-item results and error codes of the vendor contract
// (spec/tencent-chat-import-api.md §14, with the decisions of design §7). It adds rate
// limits, latency and fault injection, an edition account limit, and a state dump at
// /_sandbox/state for tests and for verifying rehearsal migrations. A durable Server
// journals every state-changing request before answering it, so that it survives a
// SIGKILL like a real service (journal.go).
package sandbox
