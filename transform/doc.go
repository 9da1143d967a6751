// Package transform turns legacy records into TIM import payloads and validation
// issues: deterministic target identities, every documented constraint as a rule with
// a stable code, and the repairs the mapping's policies allow. It is pure: no I/O, and
// the clock is passed in.
//
// It sits between extract (legacy records, streamed in stream order) and load (the
// engine that sends the payloads). A Transformer is fed pass by pass — users,
// groups, members, group messages, direct messages — and Groups gives the final
// import_group payloads once the CreateTime clamp is known. Rules lists every rule
// code with its severity and the spec section it enforces; UserID, GroupID,
// GroupRandom and C2CIdentity derive target identities without state.
package transform
