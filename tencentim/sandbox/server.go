package sandbox

import (
	"sync"
	"time"

	"github.com/immigrate/immigrate/tencentim"
)

// Config configures a Server. The zero value of every optional field is the
// permissive test default.
type Config struct {
	SDKAppID  int64
	SecretKey tencentim.Secret
	Admins    []string // identifiers allowed to call; at least one

	// Now is the server clock (UserSig expiry, "before now" rules). nil: time.Now.
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
}

// Server is the emulator. It is an http.Handler; all state sits behind mu.
type Server struct {
	cfg Config

	mu     sync.Mutex
	users  userStore  // accounts, profiles, friends, C2C messages, conversations
	groups groupStore // groups, members, group messages, topics
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}
