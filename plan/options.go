package plan

import (
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/internal/seenset"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
)

// PayloadSink receives every payload Validate accepts, in pass order: users
// (tencentim.AccountImportRequest), members (MemberPayload; and, for the owner's
// own row, which import_group covers, its unread count as a
// tencentim.SetUnreadMsgNumRequest), group messages
// (GroupMessagePayload), the final groups (tencentim.ImportGroupRequest, after the
// group messages) and direct messages (tencentim.ImportMsgRequest). Tests compare
// sources with it.
type PayloadSink interface {
	Payload(e extract.Entity, legacyID string, payload any) error
}

// MemberPayload is an accepted member row.
type MemberPayload struct {
	GroupID string
	Member  tencentim.ImportMember
}

// FriendPayload is an accepted friends row: the friend_import item for the list
// of From.
type FriendPayload struct {
	From string
	Item tencentim.AddFriendItem
}

// GroupMessagePayload is an accepted group message.
type GroupMessagePayload struct {
	GroupID string
	Msg     tencentim.GroupMsg
}

// BadRows routes an extract reader's skipped rows to Validate, which counts them as
// read and rejected. Pass its Report method as extract.Options.OnBadRow when opening
// the reader, and the BadRows itself in ValidateOptions. Readers call OnBadRow on the
// goroutine of the read, which is Validate's; BadRows is not safe for concurrent use.
type BadRows struct {
	fn func(extract.BadRow)
	// early counts rows reported while no Validate was listening.
	early int
}

// Report hands one skipped row to the running Validate.
func (b *BadRows) Report(row extract.BadRow) {
	if b.fn == nil {
		b.early++
		return
	}
	b.fn(row)
}

// Defaults of ValidateOptions.
const (
	DefaultExamples = 5
	DefaultTop      = 10
	// DefaultRateShare of each API's documented rate (spec §1.10) is the rate the
	// plan assumes when none is configured: the engine aims at 95 % of its limit.
	DefaultRateShare = 0.95
)

// ValidateOptions tunes Validate.
type ValidateOptions struct {
	Rejects  load.RejectSink // nil: rejects are only counted
	Payloads PayloadSink     // nil: payloads are dropped
	// Spool, when set, receives every accepted record as the import sends it,
	// phase by phase (see Build): the plan the run reads instead of the source.
	Spool   Spooler
	BadRows *BadRows // the reader's bad-row hook; nil if the reader was opened without one
	// OnMediaURL, when set, is called with every media URL of each accepted
	// message, as the import sends it (validate --check-urls).
	OnMediaURL func(entity extract.Entity, origin, legacyID, url string)
	Examples   int // examples kept per rule; 0 = DefaultExamples
	Top        int // largest groups and conversations listed; 0 = DefaultTop
	// Rates are the configured calls/s per API; a missing API gets
	// DefaultRateShare of tencentim.DocumentedRate.
	Rates map[tencentim.Command]float64
	// UseAccountImport sends every account through account_import, one per call.
	// Otherwise, as the engine does with Config.UseMultiAccount, accounts with a
	// Nick or FaceUrl go through account_import (the only API that sets them) and
	// the others through multiaccount_import in 100s (design §3 phase 1, spec
	// §3.4-§3.5).
	UseAccountImport bool
	// GroupMsgBatch is the messages per import_group_msg call; 0 =
	// tencentim.MaxGroupMsgBatch (design §7 A1).
	GroupMsgBatch int
	// RecentContactFlag is the run's Config.RecentContactFlag: the plan cuts
	// import_group_msg batches by request size as the engine does, and the flag
	// is part of each request.
	RecentContactFlag bool
	// RTT is the round trip of one call to the target, server time included, for
	// the time estimate; 0 counts none, the calls ÷ rates alone (the CLI's
	// default is DefaultRTT).
	RTT time.Duration
	// Streams and Workers are the run's load.Config.Streams and Workers: the
	// calls the engine keeps in flight in each message phase (one per stream) and
	// each batch phase; 0 = not bounded.
	Streams, Workers int
	// AccountLimit is the edition's account cap (0 = none), for the edition
	// warning; the transformer enforces it.
	AccountLimit int
	// Now is the transformer's clock, for the retention warning; zero = no warning.
	Now time.Time
	// Seen sizes the sets of message ids the pass met (the duplicate-id rule),
	// one per message pass, and says where they spill: past a few hundred
	// thousand messages they go to disk, so that memory does not grow with the
	// messages (internal/seenset). The zero value takes the defaults.
	Seen seenset.Config
	// RoamingDays is the app's C2C roaming retention (spec §7.2): one-to-one
	// history older than that cannot be read back, which the pass warns about.
	// 0 means unlimited (no warning).
	RoamingDays int
	// Friends imports the friends (policies.friends: import): each accepted row
	// is one friend_import item in its user's stream. Otherwise friends are read
	// and counted as skipped by policy.
	Friends bool
}
