// Package extract reads legacy chat data — users, groups, group members, group
// messages and one-to-one messages — from CSV exports or a PostgreSQL database and
// streams it as legacy records, each carrying its origin. Messages come out per stream
// (one group or one conversation) in (time, legacy id) order, with bounded memory.
package extract
