package sandbox

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim"
)

// Config configures a Server. The zero value of every optional field is the
// permissive test default: no rate limits, no latency, no faults, no account limit,
// unlimited roaming period.
type Config struct {
	SDKAppID  int64
	SecretKey secret.Secret
	Admins    []string // identifiers allowed to call; at least one

	// Now is the server clock (UserSig expiry, "before now" rules, rate-limit
	// windows). nil: time.Now.
	Now func() time.Time

	// StrictTime rejects a group message whose SendTime equals the group's latest
	// message time (the stricter reading of A2, design §7).
	StrictTime bool
	// MaxGroupMsgBatch is the most messages import_group_msg accepts (A1); 0 means 7.
	MaxGroupMsgBatch int
	// DefaultMaxMemberCount is MaxMemberNum when import_group omits it (A10); 0 means 2000.
	DefaultMaxMemberCount int
	// AccountLimit answers 70398 past this many accounts (spec §3.3); 0 means unlimited.
	AccountLimit int

	// RateLimits is each command's QPS (spec §1.10); a call over it answers 60007
	// (design §7 A24). nil or empty: no limits. See DocumentedRateLimits and
	// ParseRateLimits.
	RateLimits map[tencentim.Command]float64
	// Latency is added before every /v4 answer, plus a uniform random extra in
	// [0, LatencyJitter). The wait happens outside the state lock.
	Latency       time.Duration
	LatencyJitter time.Duration
	// Faults are injected failures, checked in order after authentication and rate
	// limiting; the first that fires wins. See Fault and ParseFaults.
	Faults []Fault
	// Seed seeds every random choice (faults, jitter, omitted MsgSeq, assigned
	// group IDs), so that a run is reproducible.
	Seed int64

	// RoamingPeriod hides C2C messages older than now-RoamingPeriod from
	// admin_getroammsg (spec §7.2, item 38; the vendor default is 7 days).
	// 0 means unlimited.
	RoamingPeriod time.Duration
	// FriendLimit is the most friends per user, answering item 30010 beyond it
	// (spec §5.1 supplement); 0 means 3000.
	FriendLimit int
	// MaxRecentContacts is the most conversations kept per user, oldest dropped
	// first (spec §9 supplement: 100 by default on the vendor side); 0 means
	// unlimited, so that a rehearsal can verify every conversation.
	MaxRecentContacts int

	// StateFile, when it exists, is loaded by New (see Server.Load); Snapshot
	// writes the state there.
	StateFile string
	// Durable makes StateFile survive a crash: every call of a state-changing
	// command is written to a journal next to it (StateFile.journal.N) and synced
	// before it is answered, New replays that journal over the last snapshot, and
	// Snapshot and Close fold it into StateFile (journal.go). Requires StateFile.
	// Restart with the same Config: replay runs the recorded calls through the
	// same handlers.
	Durable bool
}

// Server is the emulator. It is an http.Handler (gateway.go); all state sits
// behind mu, which the gateway holds around each command handler.
type Server struct {
	cfg    Config
	routes map[tencentim.Command]handler
	limits *rateLimiter
	faults *faultInjector
	sigs   sigCache // verified UserSigs (gateway.go)

	rngMu sync.Mutex
	rng   *rand.Rand

	mu     sync.Mutex
	users  userStore  // accounts, profiles, friends, C2C messages, conversations
	groups groupStore // groups, members, group messages, topics

	journal *journal   // nil unless cfg.Durable; appended to under mu
	snapMu  sync.Mutex // one Snapshot or Close at a time
}

// New validates cfg and returns an empty Server, or one loaded from cfg.StateFile
// when that file exists; a durable one also replays its journal, then writes a
// snapshot. The caller of a durable Server calls Close when done with it.
func New(cfg Config) (*Server, error) {
	if cfg.SDKAppID <= 0 {
		return nil, errors.New("sandbox: sdkappid must be positive")
	}
	if cfg.SecretKey.IsZero() {
		return nil, errors.New("sandbox: secret key is required")
	}
	if len(cfg.Admins) == 0 {
		return nil, errors.New("sandbox: at least one admin identifier is required")
	}
	for _, a := range cfg.Admins {
		if !validUserID(a) {
			return nil, fmt.Errorf("sandbox: admin identifier %q is not a valid UserID", a)
		}
	}
	for cmd, qps := range cfg.RateLimits {
		if !(qps > 0) {
			return nil, fmt.Errorf("sandbox: rate limit of %s must be positive, got %v", cmd, qps)
		}
	}
	for i, f := range cfg.Faults {
		if err := f.validate(); err != nil {
			return nil, fmt.Errorf("sandbox: fault %d: %w", i+1, err)
		}
	}
	if cfg.Latency < 0 || cfg.LatencyJitter < 0 || cfg.RoamingPeriod < 0 {
		return nil, errors.New("sandbox: durations must not be negative")
	}
	if cfg.AccountLimit < 0 || cfg.FriendLimit < 0 || cfg.MaxRecentContacts < 0 {
		return nil, errors.New("sandbox: limits must not be negative")
	}
	s := &Server{
		cfg:    cfg,
		rng:    rand.New(rand.NewPCG(uint64(cfg.Seed), 0x1ee7c0de)),
		limits: newRateLimiter(cfg.RateLimits),
		faults: newFaultInjector(cfg.Faults),
	}
	s.routes = s.routeTable()
	s.resetState()
	if cfg.Durable {
		if cfg.StateFile == "" {
			return nil, errors.New("sandbox: a durable sandbox needs a state file")
		}
		if err := s.openJournal(); err != nil {
			return nil, err
		}
		return s, nil
	}
	if cfg.StateFile != "" {
		if _, err := os.Stat(cfg.StateFile); err == nil {
			if err := s.Load(cfg.StateFile); err != nil {
				return nil, err
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("sandbox: state file: %w", err)
		}
	}
	return s, nil
}

// routeTable merges the two halves of the API: userRoutes (accounts, profiles,
// friends, C2C, conversations) and groupRoutes (groups, members, group messages,
// topics).
func (s *Server) routeTable() map[tencentim.Command]handler {
	m := make(map[tencentim.Command]handler, len(userRoutes)+len(groupRoutes))
	for cmd, h := range userRoutes {
		m[cmd] = h
	}
	for cmd, h := range groupRoutes {
		if _, dup := m[cmd]; dup {
			panic("sandbox: command served twice: " + cmd.String())
		}
		m[cmd] = h
	}
	return m
}

// resetState empties every store; the caller holds s.mu or owns s exclusively.
func (s *Server) resetState() {
	s.users.init(s.cfg.MaxRecentContacts)
	s.groups.init()
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// The rand* helpers draw from the gateway's seeded generator (faults, jitter,
// omitted MsgSeq); they are safe to call with or without s.mu held.

func (s *Server) randUint32() uint32 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Uint32()
}

func (s *Server) randUint64() uint64 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Uint64()
}

func (s *Server) randFloat64() float64 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64()
}

func (s *Server) friendLimit() int {
	if s.cfg.FriendLimit > 0 {
		return s.cfg.FriendLimit
	}
	return 3000
}
