package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/transform"
)

// spooled is one record as the engine gets it, the payload decoded.
type spooled struct {
	LegacyID, Stream string
	Payload          any
}

// payloadLog is the PayloadSink of a validate pass the spool is compared with.
type payloadLog map[load.Phase][]spooled

func (l payloadLog) Payload(e extract.Entity, legacyID string, p any) error {
	switch v := p.(type) {
	case tencentim.AccountImportRequest:
		l[load.PhaseAccounts] = append(l[load.PhaseAccounts], spooled{legacyID, "", v})
	case tencentim.ImportGroupRequest:
		l[load.PhaseGroups] = append(l[load.PhaseGroups], spooled{legacyID, v.GroupID, v})
	case MemberPayload:
		l[load.PhaseMembers] = append(l[load.PhaseMembers], spooled{legacyID, v.GroupID, v.Member})
		if v.Member.UnreadMsgNum > 0 {
			l[load.PhaseUnread] = append(l[load.PhaseUnread], spooled{legacyID, v.GroupID, tencentim.SetUnreadMsgNumRequest{
				GroupID: v.GroupID, MemberAccount: v.Member.MemberAccount, UnreadMsgNum: v.Member.UnreadMsgNum}})
		}
	case tencentim.SetUnreadMsgNumRequest: // the owner's
		l[load.PhaseUnread] = append(l[load.PhaseUnread], spooled{legacyID, v.GroupID, v})
	case GroupMessagePayload:
		l[load.PhaseGroupMessages] = append(l[load.PhaseGroupMessages], spooled{legacyID, v.GroupID, v.Msg})
	case load.GroupDM:
		l[load.PhaseGroupDMs] = append(l[load.PhaseGroupDMs], spooled{legacyID, v.Group.GroupID, v})
	case FriendPayload:
		l[load.PhaseFriends] = append(l[load.PhaseFriends], spooled{legacyID, v.From, v.Item})
	case tencentim.PortraitSetRequest:
		l[load.PhaseProfiles] = append(l[load.PhaseProfiles], spooled{legacyID, "", v})
	case tencentim.ImportMsgRequest:
		l[load.PhaseDirectMessages] = append(l[load.PhaseDirectMessages], spooled{legacyID, load.ConversationStream(v.FromAccount, v.ToAccount), v})
	default:
		return fmt.Errorf("unexpected payload %T of %s", p, e)
	}
	return nil
}

// spoolDataset is testDataset with more streams: a second group whose messages
// interleave in time with the first's, members with unread counts, and several
// conversations.
func spoolDataset() *memReader {
	r := testDataset()
	r.groups = append(r.groups, extract.Group{ID: "g4", OwnerID: "u4", Type: "public", Name: "Four", CreatedAt: at(-10), Origin: origin("groups.csv", 5)})
	r.members = append(r.members,
		extract.Member{GroupID: "g4", UserID: "u1", JoinedAt: at(1), Unread: 2, HasUnread: true, Origin: origin("members.csv", 7)},
		extract.Member{GroupID: "g4", UserID: "u5", JoinedAt: at(2), Unread: 0, HasUnread: true, Origin: origin("members.csv", 8)},
		extract.Member{GroupID: "g4", UserID: "ghost", JoinedAt: at(3), Origin: origin("members.csv", 9)},
	)
	for i := range 9 {
		r.gmsgs = append(r.gmsgs, text(fmt.Sprint(300+i), "g4", "u5", "", at(10+i), 40+i))
	}
	r.dmsgs = append(r.dmsgs,
		text("7", "", "u2", "u5", at(1), 8),
		text("8", "", "u5", "u2", at(1), 9),
		text("9", "", "ghost", "u2", at(2), 10),
	)
	// Profiles: two accepted (one with custom fields), one rejected (its account
	// stays accepted).
	r.users[1].Gender, r.users[1].Level = "f", "3"
	r.users[2].Custom = []extract.CustomField{{Name: "Kind", Value: "bot"}}
	r.users[3].Birthday = "not a date"
	// Both directions of a mutual friendship, a one-way friend, and a friend who
	// is not a user.
	r.friends = append([]extract.Friend(nil),
		extract.Friend{UserID: "u1", FriendID: "u2", Remark: "two", AddedAt: at(1), Origin: origin("friends.csv", 2)},
		extract.Friend{UserID: "u1", FriendID: "u5", Origin: origin("friends.csv", 3)},
		extract.Friend{UserID: "u2", FriendID: "u1", AddedAt: at(1), Origin: origin("friends.csv", 4)},
		extract.Friend{UserID: "u2", FriendID: "ghost", Origin: origin("friends.csv", 5)},
	)
	// Group DMs: one kept, one whose CreateTime is not before its first message
	// (clamped, or refused with its messages under group_create_time: reject),
	// one of two people (rejected), and their messages after the groups'.
	r.dms = []extract.GroupDM{
		{ID: "d1", Members: []string{"u1", "u2", "u5"}, CreatedAt: at(-5), Origin: origin("group_dms.csv", 2)},
		{ID: "d2", Members: []string{"u1", "u2"}, Origin: origin("group_dms.csv", 3)},
		{ID: "d3", Members: []string{"u3", "u4", "u5"}, CreatedAt: at(30), Origin: origin("group_dms.csv", 4)},
	}
	r.gmsgs = append(r.gmsgs,
		text("400", "d1", "u1", "", at(20), 60), text("401", "d1", "u5", "", at(21), 61),
		text("402", "d2", "u1", "", at(21), 62),
		text("403", "d3", "u4", "", at(25), 63), text("404", "d3", "u3", "", at(26), 64),
	)
	return r
}

func decodeAs(ph load.Phase, raw []byte) (any, error) {
	unmarshal := func(v any) (any, error) {
		err := json.Unmarshal(raw, v)
		return reflect.ValueOf(v).Elem().Interface(), err
	}
	switch ph {
	case load.PhaseAccounts:
		return unmarshal(new(tencentim.AccountImportRequest))
	case load.PhaseGroups:
		return unmarshal(new(tencentim.ImportGroupRequest))
	case load.PhaseMembers:
		return unmarshal(new(tencentim.ImportMember))
	case load.PhaseGroupMessages:
		return unmarshal(new(tencentim.GroupMsg))
	case load.PhaseUnread:
		return unmarshal(new(tencentim.SetUnreadMsgNumRequest))
	case load.PhaseDirectMessages:
		return unmarshal(new(tencentim.ImportMsgRequest))
	case load.PhaseFriends:
		return unmarshal(new(tencentim.AddFriendItem))
	case load.PhaseGroupDMs:
		return unmarshal(new(load.GroupDM))
	case load.PhaseProfiles:
		return unmarshal(new(tencentim.PortraitSetRequest))
	}
	return nil, fmt.Errorf("no phase %s", ph)
}

// TestSpoolMatchesValidate: a run must send exactly what the validate pass
// accepted, in the same order, from the spool alone, with the decisions that need
// the whole dataset — final groups, implied accounts, groups that fell at the end —
// applied; and the spool keeps the validate rejects.
func TestSpoolMatchesValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*transform.Config)
	}{
		{"defaults", nil},
		{"groups whose CreateTime cannot be clamped are refused with their records", func(c *transform.Config) {
			c.GroupCreateTime = transform.PolicyReject
		}},
		{"unknown users imported as bare accounts", func(c *transform.Config) {
			c.UnknownUsers = transform.PolicyImport
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := replayConfig(tt.mod)
			log := payloadLog{}
			var rejects rejectList
			validated := newReplayTransformer(t, cfg)
			want, err := runValidate(t, spoolDataset(), validated, ValidateOptions{Payloads: log, Rejects: &rejects, Friends: true})
			if err != nil {
				t.Fatalf("validate: %v", err)
			}
			dir := filepath.Join(t.TempDir(), "plan")
			var built rejectList
			data, br := spoolDataset(), &BadRows{}
			data.onBadRow = br.Report
			res, err := Build(t.Context(), data, newReplayTransformer(t, cfg), ValidateOptions{Rejects: &built, BadRows: br, Friends: true}, dir, Meta{MappingHash: "h"})
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if !reflect.DeepEqual(res, want) {
				t.Errorf("Build's result differs from Validate's:\n got %+v\nwant %+v", res, want)
			}
			sp, err := OpenSpool(dir)
			if err != nil {
				t.Fatal(err)
			}
			if m := sp.Meta(); m.MappingHash != "h" || !reflect.DeepEqual(m.Result, want) {
				t.Errorf("meta: hash %q, result equal %v", m.MappingHash, reflect.DeepEqual(m.Result, want))
			}

			// What the engine must get: the accepted payloads of the groups that
			// stayed, then the implied accounts.
			groupOK := map[string]bool{}
			for _, g := range log[load.PhaseGroups] {
				groupOK[g.Stream] = true
			}
			for _, g := range log[load.PhaseGroupDMs] {
				groupOK[g.Stream] = true
			}
			for _, ph := range []load.Phase{load.PhaseMembers, load.PhaseGroupMessages, load.PhaseUnread} {
				var kept []spooled
				for _, r := range log[ph] {
					if groupOK[r.Stream] {
						kept = append(kept, r)
					}
				}
				log[ph] = kept
			}
			for _, id := range validated.ImpliedAccounts() {
				log[load.PhaseAccounts] = append(log[load.PhaseAccounts], spooled{id, "", tencentim.AccountImportRequest{UserID: id}})
			}
			for _, ph := range load.Phases() {
				var got []spooled
				err := sp.Source().Records(t.Context(), ph, func(r load.Record) error {
					if r.Origin == "" {
						t.Errorf("%s %s has no origin", ph, r.LegacyID)
					}
					if ph == load.PhaseGroupMessages && !strings.HasPrefix(r.Origin, "group.csv:") {
						t.Errorf("group message %s has origin %q", r.LegacyID, r.Origin)
					}
					v, err := decodeAs(ph, r.Payload)
					got = append(got, spooled{r.LegacyID, r.Stream, v})
					return err
				})
				if err != nil {
					t.Fatalf("%s: %v", ph, err)
				}
				if !reflect.DeepEqual(got, log[ph]) {
					t.Errorf("%s:\n got %+v\nwant %+v", ph, got, log[ph])
				}
				if ph != load.PhaseAccounts && ph != load.PhaseTopics && len(log[ph]) == 0 {
					t.Errorf("degenerate case: no %s", ph)
				}
			}

			var spooledRejects rejectList
			if err := sp.Rejects(t.Context(), func(r load.Reject) error { spooledRejects = append(spooledRejects, r); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(rejects) == 0 || !reflect.DeepEqual(spooledRejects, rejects) || !reflect.DeepEqual(built, rejects) {
				t.Errorf("rejects: validate %d, Build passed on %d, spool kept %d", len(rejects), len(built), len(spooledRejects))
			}
		})
	}
}

// TestBuildFailureKeepsThePreviousSpool: a pass that fails (here: the reject sink)
// leaves the sealed spool that was there, and no half-written one.
func TestBuildFailureKeepsThePreviousSpool(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plan")
	cfg := replayConfig(nil)
	if _, err := Build(t.Context(), spoolDataset(), newReplayTransformer(t, cfg), ValidateOptions{}, dir, Meta{MappingHash: "first"}); err != nil {
		t.Fatal(err)
	}
	_, err := Build(t.Context(), spoolDataset(), newReplayTransformer(t, cfg), ValidateOptions{Rejects: &failingSink{after: 1}}, dir, Meta{MappingHash: "second"})
	if err == nil {
		t.Fatal("Build with a failing sink succeeded")
	}
	sp, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if h := sp.Meta().MappingHash; h != "first" {
		t.Errorf("spool is %q after a failed Build, want the first one", h)
	}
	if _, err := os.Stat(dir + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed Build left %s.tmp: %v", dir, err)
	}
	if _, err := OpenSpool(filepath.Join(t.TempDir(), "none")); !errors.Is(err, ErrNoSpool) {
		t.Errorf("OpenSpool of an empty dir: %v, want ErrNoSpool", err)
	}
}
