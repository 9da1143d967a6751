package transform

import (
	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// Transformer maps legacy records to TIM payloads, pass by pass, keeping the compact
// cross-record state the rules need (known users, seen ids, per-group facts).
//
// The validate and run pipelines call it in passes, each pass streaming one entity
// in the extract.Reader's order: User (pass 1), Group (2), Member (3), GroupMessage
// (4), DirectMessage (5); then Groups for the final group payloads. DirectMessage
// needs only pass 1. A Transformer is not safe for concurrent use.
//
// Cascades the pipeline must apply (accounting, design §4 rule 6):
//   - A Member result with OK=false and only the Warning RuleMemberOwnerRow is
//     "skipped by policy", not rejected: the owner is added by import_group.
//   - Groups may return OK=false for a group whose Group result was OK: under
//     GroupCreateTime "reject", a member or message dated at or before the group's
//     CreateTime rejects the group (RuleGroupCreateTimeConflict). That member or
//     message and every later one of the group is rejected with the same rule; the
//     GroupFinal's Members and Messages count the records of that group that were
//     returned OK before the conflict was found, which the pipeline must move from
//     valid to rejected.
type Transformer struct {
	cfg Config
}

// New validates cfg, applies its defaults and returns a Transformer.
func New(cfg Config) (*Transformer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Transformer{cfg: cfg}, nil
}

// UserResult is the outcome of one user.
type UserResult struct {
	Account tencentim.AccountImportRequest
	OK      bool
	Issues  []Issue
}

// GroupResult is the outcome of one group's profile checks. The final payload, with
// its CreateTime, comes from Groups after pass 4.
type GroupResult struct {
	GroupID string
	OK      bool
	Issues  []Issue
}

// MemberResult is the outcome of one member row.
type MemberResult struct {
	GroupID string
	Member  tencentim.ImportMember
	OK      bool
	Issues  []Issue
}

// GroupMessageResult is the outcome of one group message.
type GroupMessageResult struct {
	GroupID string
	Msg     tencentim.GroupMsg
	OK      bool
	Issues  []Issue
}

// DirectMessageResult is the outcome of one direct (C2C) message.
type DirectMessageResult struct {
	Msg    tencentim.ImportMsgRequest
	OK     bool
	Issues []Issue
}

// GroupFinal is one group's final import_group payload.
type GroupFinal struct {
	Legacy   extract.Origin
	LegacyID string
	Group    tencentim.ImportGroupRequest
	OK       bool
	Issues   []Issue
	// Members and Messages count the member rows and group messages returned OK
	// for this group (the owner, added by import_group, is not counted).
	Members  int
	Messages int
}

// Rewrite is one legacy id that was rewritten to a different target id.
type Rewrite struct {
	Entity         extract.Entity
	Legacy, Target string
}

// User checks one legacy user (pass 1) and returns its account payload.
func (t *Transformer) User(u extract.User) UserResult { return UserResult{} }

// Group checks one legacy group's profile (pass 2). Its CreateTime is final only
// after pass 4 (see Groups).
func (t *Transformer) Group(g extract.Group) GroupResult { return GroupResult{} }

// Member checks one member row (pass 3, in (group_id, joined_at, user_id) order).
func (t *Transformer) Member(m extract.Member) MemberResult { return MemberResult{} }

// GroupMessage checks one group message (pass 4, in (group_id, sent_at, id) order).
func (t *Transformer) GroupMessage(m extract.Message) GroupMessageResult {
	return GroupMessageResult{}
}

// DirectMessage checks one direct message (pass 5, in (conversation, sent_at, id)
// order).
func (t *Transformer) DirectMessage(m extract.Message) DirectMessageResult {
	return DirectMessageResult{}
}

// Groups returns the final payload of every group that passed pass 2, in legacy-id
// order (bytewise), with CreateTime clamped and the issues that caused.
func (t *Transformer) Groups() []GroupFinal { return nil }

// ImpliedAccounts returns the target ids of users referenced but absent from users,
// imported as bare accounts under UnknownUsers "import", sorted.
func (t *Transformer) ImpliedAccounts() []string { return nil }

// Rewrites returns every user and group id that was rewritten, in the order met.
func (t *Transformer) Rewrites() []Rewrite { return nil }

// UserID maps a legacy user id to its UserID under policy ("reject" or "rewrite").
func UserID(legacy string, policy string) (target string, ok bool) { return legacy, true }

// GroupID maps a legacy group id to its custom GroupId.
func GroupID(legacy, prefix, timType, policy string) (target string, ok bool) {
	return prefix + legacy, true
}

// GroupRandom is the import_group_msg Random of a legacy message id.
func GroupRandom(legacyMsgID string) uint32 { return 1 }

// C2CIdentity is the importmsg MsgSeq and MsgRandom of a legacy message id.
func C2CIdentity(legacyMsgID string, rankInSecond int) (msgSeq, msgRandom uint32) { return 0, 0 }
