package load

import (
	"context"
	"math"

	"github.com/immigrate/immigrate/tencentim"
)

// The phase table: every phase of the migration described once (design §3). The
// engine runs each entry with one loop (runBatches or runStreams, engine_run.go);
// a new phase is one entry here, its send function, and the plan's records for it.
//
// The payload type of each phase (Record.Payload is its JSON):
//
//	accounts         tencentim.AccountImportRequest
//	groups           tencentim.ImportGroupRequest
//	topics           tencentim.ImportTopicRequest      (Stream: GroupId)
//	members          tencentim.ImportMember            (Stream: GroupId)
//	group_dms        load.GroupDM                      (Stream: GroupId)
//	group_messages   tencentim.GroupMsg                (Stream: GroupId, or TopicId for a topic's)
//	unread           tencentim.SetUnreadMsgNumRequest  (Stream: GroupId)
//	direct_messages  tencentim.ImportMsgRequest        (Stream: ConversationStream)
//	friends          tencentim.AddFriendItem           (Stream: From_Account)
//	profiles         tencentim.PortraitSetRequest
type phaseDef struct {
	phase Phase
	// entity is the legacy entity its rejects name (extract.Entity values, as in
	// the validate rejects); noun names its records in messages.
	entity, noun string
	// after is the phase that must finish before this one starts; "" for the first.
	after Phase
	// apis are the APIs the phase calls: its in-flight level is sized from their
	// rates (Engine.phaseInflight).
	apis []tencentim.Command
	// streams: a message phase. Each stream's records go in order, one call in
	// flight per stream, many streams in parallel; the checkpoint keeps a mark per
	// stream. Otherwise a batch phase: batches go out in parallel, one mark for the
	// phase.
	streams bool
	// groupScoped: records of a group the target refused are rejected without a
	// call (Stream is the GroupId).
	groupScoped bool
	// cut is where a batch closes: batch phases group the records of one key (and
	// one stream) up to the batcher's bounds; message phases cut each stream with
	// the batcher of the stream (the key is ignored).
	cut func(cfg *Config, r Record) (key string, b batcher, err error)
	// size is a record's share of the batcher's capacity; nil counts 0.
	size func(r Record) int
	// send makes the call(s) for one batch of one stream and records every
	// record's outcome. It returns an error only to stop the run.
	send func(e *Engine, ctx context.Context, stream string, batch []Record) error
}

// phaseTable lists the phases in display order. It is set by init, as the
// engine's methods it names refer back to it.
var phaseTable []phaseDef

func phases() []phaseDef {
	return []phaseDef{
		{
			phase: PhaseAccounts, entity: "users", noun: "accounts",
			apis: []tencentim.Command{tencentim.CmdAccountImport, tencentim.CmdMultiAccountImport},
			cut:  cutAccounts,
			send: (*Engine).sendAccounts,
		},
		{
			phase: PhaseGroups, entity: "groups", noun: "groups", after: PhaseAccounts,
			apis: []tencentim.Command{tencentim.CmdImportGroup},
			cut:  one,
			send: func(e *Engine, ctx context.Context, _ string, b []Record) error { return e.importGroup(ctx, b[0]) },
		},
		{
			// Topics of topic-enabled communities (spec §8.11): after their group,
			// before any message is imported into them.
			phase: PhaseTopics, entity: "topics", noun: "topics", after: PhaseGroups,
			apis:        []tencentim.Command{tencentim.CmdImportTopic},
			groupScoped: true,
			cut:         one,
			send:        func(e *Engine, ctx context.Context, _ string, b []Record) error { return e.importTopic(ctx, b[0]) },
		},
		{
			phase: PhaseMembers, entity: "group_members", noun: "members", after: PhaseTopics,
			apis:        []tencentim.Command{tencentim.CmdImportGroupMember},
			groupScoped: true,
			cut: func(_ *Config, r Record) (string, batcher, error) {
				return r.Stream, counted(tencentim.MaxGroupMemberBatch), nil // spec §8.8
			},
			send: (*Engine).importMembers,
		},
		{
			// Group DMs (load/groupdms.go): a group and its members per record,
			// before any group message, as the group DMs' messages are group
			// messages.
			phase: PhaseGroupDMs, entity: "group_dms", noun: "group DMs", after: PhaseMembers,
			apis: []tencentim.Command{tencentim.CmdImportGroup, tencentim.CmdImportGroupMember},
			cut:  one,
			send: func(e *Engine, ctx context.Context, _ string, b []Record) error { return e.importGroupDM(ctx, b[0]) },
		},
		{
			phase: PhaseGroupMessages, entity: "group_messages", noun: "messages", after: PhaseGroupDMs,
			apis:    []tencentim.Command{tencentim.CmdImportGroupMsg},
			streams: true, groupScoped: true,
			cut: func(cfg *Config, r Record) (string, batcher, error) {
				return r.Stream, GroupMsgBatcher(r.Stream, cfg.GroupMsgBatch, cfg.RecentContactFlag), nil
			},
			size: func(r Record) int { return GroupMsgSize(r.Payload) },
			send: (*Engine).importGroupMsgs,
		},
		{
			phase: PhaseUnread, entity: "group_members", noun: "unread counts", after: PhaseGroupMessages,
			apis:        []tencentim.Command{tencentim.CmdSetUnreadMsgNum},
			groupScoped: true,
			cut:         one,
			send:        func(e *Engine, ctx context.Context, _ string, b []Record) error { return e.setUnread(ctx, b[0]) },
		},
		{
			// One-to-one messages need only the accounts and are most of the calls:
			// they never wait for the group phases (design §3).
			phase: PhaseDirectMessages, entity: "direct_messages", noun: "messages", after: PhaseAccounts,
			apis:    []tencentim.Command{tencentim.CmdImportMsg},
			streams: true,
			cut:     one,
			send: func(e *Engine, ctx context.Context, key string, b []Record) error {
				return e.importDirect(ctx, key, b[0])
			},
		},
		{
			// One user's friend list is one stream: the vendor advises importing a
			// user's friends in batches, one at a time, as concurrent writes to one
			// list fail with 30008 (spec §5.1, §1.9).
			phase: PhaseFriends, entity: "friends", noun: "friends", after: PhaseAccounts,
			apis:    []tencentim.Command{tencentim.CmdFriendImport},
			streams: true,
			cut: func(*Config, Record) (string, batcher, error) {
				return "", counted(MaxFriendImportBatch), nil
			},
			send: (*Engine).importFriends,
		},
		{
			// A user's standard and custom profile fields beyond Nick and FaceUrl
			// (which account_import sets): one portrait_set call per account, as
			// its From_Account names one user (spec §4.1).
			phase: PhaseProfiles, entity: "profiles", noun: "profiles", after: PhaseAccounts,
			apis: []tencentim.Command{tencentim.CmdPortraitSet},
			cut:  one,
			send: func(e *Engine, ctx context.Context, _ string, b []Record) error { return e.setProfile(ctx, b[0]) },
		},
	}
}

// one cuts batches of one record.
func one(*Config, Record) (string, batcher, error) { return "", counted(1), nil }

// counted is a batcher of at most n records of any size.
func counted(n int) batcher { return batcher{max: n, capacity: math.MaxInt} }

// phaseOrder is the display order of the phases; a phase's index here indexes the
// counters of Progress.
// It is filled by init: the table refers to the engine, whose counters refer back
// to it.
var phaseOrder []Phase

func init() {
	phaseTable = phases()
	for _, d := range phaseTable {
		phaseOrder = append(phaseOrder, d.phase)
	}
}

// def returns the table entry of ph (nil for an unknown phase).
func def(ph Phase) *phaseDef {
	if i := ph.index(); i >= 0 {
		return &phaseTable[i]
	}
	return nil
}
