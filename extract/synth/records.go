package synth

import "time"

// The generator's legacy rows, one type per source table. The CSV and PostgreSQL
// writers render them; a row is reused by the generator after the writer returns.

// defect is a flaw only a text file can have; such rows are left out of PostgreSQL.
type defect uint8

const (
	defectNone      defect = iota
	defectRagged           // the row has fewer fields than the header
	defectBadTime          // the time cell does not parse
	defectBadUTF8          // the text cell is not UTF-8
	defectBadNumber        // a number cell does not parse
)

// plant says that a row is a planted bad record.
type plant struct {
	kind     *Kind
	legacyID string
}

type userRow struct {
	id, nick, face string
	created        time.Time
	// Profile fields (Config.Profiles): "" and the zero time when absent.
	gender, kind, active string
	birthday             time.Time
	plant                plant
}

type groupRow struct {
	id, owner, typ, name, intro, notice, face string
	maxMembers                                int // 0: empty / NULL
	created                                   time.Time
	plant                                     plant
	supportTopic                              bool // Config.TopicGroups (extras.go)
}

type memberRow struct {
	group, user, role string
	joined            time.Time
	unread            int
	hasUnread         bool
	defect            defect
	plant             plant
}

type messageRow struct {
	id                       int64
	group, sender, recipient string // group for group messages, recipient for direct
	sent                     time.Time
	kind, text, payload      string
	url, fileName            string
	size                     int64
	width, height, duration  int
	hasMedia                 bool // an attachment row exists (PostgreSQL)
	defect                   defect
	plant                    plant
	// Extras (extras.go): rich fields and the topic.
	attachments, replyTo, reactions, topic string
	edited                                 time.Time
}

type topicRow struct {
	id, group, name, creator string
	created                  time.Time
}

type friendRow struct {
	user, friend, remark string
	added                time.Time
}
