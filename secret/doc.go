// Package secret owns the type that carries credentials through the program — the
// TIM secret key, database connection strings, a cached UserSig — so that printing
// or marshalling a config never shows them: %v, %+v, %#v, JSON and text all give a
// redacted form, and only the code that signs or connects calls Reveal. It imports
// nothing of ours, so any package may hold a secret without pulling in a client.
package secret
