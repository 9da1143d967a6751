// Package extract reads legacy chat data — users, groups, group members, group
// messages and one-to-one messages — from CSV exports or a PostgreSQL database and
// streams it as legacy records, each carrying its origin. Messages come out per stream
// (one group or one conversation) in (time, legacy id) order, with bounded memory.
//
// Reader is the contract; CSVReader (with an on-disk merge sort for unsorted files)
// and PostgresReader (keyset pages over the user's query) implement it, and
// extracttest.Run is the suite both pass. Records that cannot be read are reported as
// BadRows and skipped; business rules are transform's job. Both readers are also
// Fingerprinters: they describe the source's state (file sizes and times, row
// counts) without reading its records, and Changed says what differs between two
// such descriptions, so a resumed run can refuse a source that changed; ProbePostgres
// checks every query of a PostgreSQL source and counts its rows, for `immigrate init`. extract
// imports nothing else of immigrate.
package extract
