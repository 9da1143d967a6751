package load

import (
	"context"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/transform"
)

// ReplaySource is the Source of a real run: it reads the legacy source again and
// replays the transformer's passes, so a run holds no payloads in memory beyond
// the streams in flight. The transformer is deterministic (design §4), so a replay
// yields exactly the payloads the validate pass accepted; the decisions that need
// the whole dataset (each group's final CreateTime, the implied accounts) come from
// the validate pass's transformer.
//
// Each method opens its own reader and its own Transformer, replaying only the
// passes its decisions depend on: DirectMessages runs concurrently with the group
// phases and shares nothing with them.
type ReplaySource struct {
	open    func(ctx context.Context) (extract.Reader, error)
	cfg     transform.Config
	groups  []transform.GroupFinal
	groupOK map[string]bool // target GroupId → importable
	implied []string

	// members is the transformer of the Members pass, kept for GroupMessages,
	// which the engine calls right after it (Source contract).
	members *transform.Transformer
	reader  extract.Reader
}

// NewReplaySource builds the run's Source. open returns a fresh reader over the
// legacy source (the caller closes nothing: ReplaySource closes what it opens);
// validated is the transformer that ran Validate, whose final groups and implied
// accounts the replay uses.
func NewReplaySource(open func(ctx context.Context) (extract.Reader, error), cfg transform.Config, validated *transform.Transformer) *ReplaySource {
	s := &ReplaySource{open: open, cfg: cfg, groups: validated.Groups(), implied: validated.ImpliedAccounts(), groupOK: map[string]bool{}}
	for _, g := range s.groups {
		if g.OK {
			s.groupOK[g.Group.GroupID] = true
		}
	}
	return s
}

// Close releases the reader kept between Members and GroupMessages.
func (s *ReplaySource) Close() error {
	if s.reader != nil {
		err := s.reader.Close()
		s.reader = nil
		return err
	}
	return nil
}

func (s *ReplaySource) start(ctx context.Context) (extract.Reader, *transform.Transformer, error) {
	r, err := s.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	t, err := transform.New(s.cfg)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return r, t, nil
}

// replayUsers runs pass 1 for its side effects on t (the set of known users).
func replayUsers(ctx context.Context, r extract.Reader, t *transform.Transformer) error {
	return r.Users(ctx, func(u extract.User) error { t.User(u); return nil })
}

func replayGroups(ctx context.Context, r extract.Reader, t *transform.Transformer) error {
	return r.Groups(ctx, func(g extract.Group) error { t.Group(g); return nil })
}

func item(o extract.Origin, legacyID string) Item {
	return Item{Origin: o.String(), LegacyID: legacyID}
}

// Accounts yields every accepted user, then the implied accounts (design §3
// phase 1: every user any other record references).
func (s *ReplaySource) Accounts(ctx context.Context, fn func(Account) error) error {
	r, t, err := s.start(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	err = r.Users(ctx, func(u extract.User) error {
		res := t.User(u)
		if !res.OK {
			return nil
		}
		return fn(Account{Item: item(u.Origin, u.ID), Req: res.Account})
	})
	if err != nil {
		return err
	}
	for _, id := range s.implied {
		if err := fn(Account{Item: Item{Origin: "implied by references", LegacyID: id}, Req: tencentim.AccountImportRequest{UserID: id}}); err != nil {
			return err
		}
	}
	return nil
}

// Groups yields the final group payloads of the validate pass.
func (s *ReplaySource) Groups(ctx context.Context, fn func(Group) error) error {
	for _, g := range s.groups {
		if !g.OK {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(Group{Item: item(g.Legacy, g.LegacyID), Req: g.Group}); err != nil {
			return err
		}
	}
	return nil
}

// Members replays users, groups and members, and keeps the transformer and the
// reader for GroupMessages.
func (s *ReplaySource) Members(ctx context.Context, fn func(Member) error) error {
	r, t, err := s.start(ctx)
	if err != nil {
		return err
	}
	s.Close()
	s.reader, s.members = r, t
	if err := replayUsers(ctx, r, t); err != nil {
		return err
	}
	if err := replayGroups(ctx, r, t); err != nil {
		return err
	}
	return r.Members(ctx, func(m extract.Member) error {
		res := t.Member(m)
		if !res.OK || !s.groupOK[res.GroupID] {
			return nil
		}
		return fn(Member{Item: item(m.Origin, m.GroupID+"/"+m.UserID), GroupID: res.GroupID, M: res.Member})
	})
}

// GroupMessages continues the Members pass's transformer (the group message rules
// depend on the groups and members seen). When the engine skipped Members (a
// resumed run whose members phase an earlier run finished), it replays that pass
// itself, without yielding.
func (s *ReplaySource) GroupMessages(ctx context.Context, fn func(GroupMessage) error) error {
	if s.members == nil {
		if err := s.Members(ctx, func(Member) error { return nil }); err != nil {
			s.Close()
			return err
		}
	}
	r, t := s.reader, s.members
	defer s.Close()
	return r.GroupMessages(ctx, func(m extract.Message) error {
		res := t.GroupMessage(m)
		if !res.OK || !s.groupOK[res.GroupID] {
			return nil
		}
		return fn(GroupMessage{Item: item(m.Origin, m.ID), GroupID: res.GroupID, Msg: res.Msg})
	})
}

// Unread yields set_unread_msg_num for the members whose source had a non-zero
// unread count: import_group_msg resets every member's count to 0, so they are
// restored after the messages (spec §8.9, §8.10; design §3 phase 5).
func (s *ReplaySource) Unread(ctx context.Context, fn func(Unread) error) error {
	r, t, err := s.start(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := replayUsers(ctx, r, t); err != nil {
		return err
	}
	if err := replayGroups(ctx, r, t); err != nil {
		return err
	}
	return r.Members(ctx, func(m extract.Member) error {
		res := t.Member(m)
		if !res.OK || !s.groupOK[res.GroupID] || !m.HasUnread || m.Unread <= 0 {
			return nil
		}
		return fn(Unread{Item: item(m.Origin, m.GroupID+"/"+m.UserID), Req: tencentim.SetUnreadMsgNumRequest{
			GroupID: res.GroupID, MemberAccount: res.Member.MemberAccount, UnreadMsgNum: m.Unread,
		}})
	})
}

// DirectMessages replays users, then the direct messages.
func (s *ReplaySource) DirectMessages(ctx context.Context, fn func(DirectMessage) error) error {
	r, t, err := s.start(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := replayUsers(ctx, r, t); err != nil {
		return err
	}
	return r.DirectMessages(ctx, func(m extract.Message) error {
		res := t.DirectMessage(m)
		if !res.OK {
			return nil
		}
		return fn(DirectMessage{Item: item(m.Origin, m.ID), Req: res.Msg})
	})
}
