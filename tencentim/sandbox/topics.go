package sandbox

import (
	"fmt"
	"strings"

	"github.com/immigrate/immigrate/tencentim"
)

// Topic field limits (spec §8.4, §8.11).
const (
	maxTopicNameBytes   = 30
	maxTopicCustomBytes = 3000
)

// handleImportTopic serves import_topic (spec §8.11, §14 items 85-87).
func handleImportTopic(s *Server, c *call) (any, *apiError) {
	gr, err := s.groups.liveArg(c.fields)
	if err != nil {
		return nil, err
	}
	bad := codeGroupBadParam
	if typ, err := c.str("Type", false, bad, bad); err != nil {
		return nil, err
	} else if typ != "" && typ != tencentim.GroupCommunity {
		return nil, errf(bad, "Type must be Community") // spec §8.11: only Community
	}
	if !gr.supportTopic {
		// item 85 (REC): 11000 for any group without topics, community or not.
		return nil, errf(codeGroupNoTopics, "the group does not support topics")
	}
	tp := &topic{}
	if tp.id, err = c.str("TopicId", false, bad, bad); err != nil {
		return nil, err
	}
	// A20: the table says TopicName is required, a sample comment says optional;
	// the table wins.
	if tp.name, err = c.str("TopicName", true, bad, bad); err != nil {
		return nil, err
	}
	if tp.name == "" {
		return nil, errf(bad, "TopicName is empty")
	}
	// A20: From_Account is typed uint64 in the table but is a UserID everywhere
	// else; it is read as a string and must be an imported account.
	if tp.from, err = c.str("From_Account", false, bad, codeAccountType); err != nil {
		return nil, err
	}
	if tp.from != "" && !s.users.exists(tp.from) {
		return nil, errf(bad, "From_Account "+tp.from+" is not an imported account")
	}
	for _, lim := range []struct {
		field string
		dst   *string
		max   int
	}{
		{"TopicName", &tp.name, maxTopicNameBytes},
		{"CustomString", &tp.custom, maxTopicCustomBytes},
		{"FaceUrl", &tp.faceURL, tencentim.MaxGroupFaceURLBytes},
		{"Notification", &tp.notif, tencentim.MaxGroupNotifBytes},
		{"Introduction", &tp.intro, tencentim.MaxGroupIntroBytes},
	} {
		if lim.field != "TopicName" {
			if *lim.dst, err = c.str(lim.field, false, bad, bad); err != nil {
				return nil, err
			}
		}
		if len(*lim.dst) > lim.max {
			return nil, errf(bad, fmt.Sprintf("%s is longer than %d bytes", lim.field, lim.max)) // item 87
		}
	}
	now := c.now.Unix()
	if tp.createTime, err = c.int64("CreateTime", false, bad, bad); err != nil {
		return nil, err
	}
	switch {
	case tp.createTime == 0:
		tp.createTime = now
	case tp.createTime < gr.createTime || tp.createTime > now:
		// A topic cannot predate its community, and a future one would refuse
		// every message (import_group_msg requires SendTime after it).
		return nil, errf(bad, "CreateTime must lie between the group's CreateTime and now")
	}
	if tp.id == "" {
		tp.id = s.newTopicID(c, gr)
	} else {
		// spec §8.3: a custom topic ID is {GroupId}@TOPIC#_{custom part}.
		custom, ok := strings.CutPrefix(tp.id, gr.id+topicIDInfix)
		if !ok || custom == "" || !printableTopicPart(custom) {
			return nil, errf(bad, "TopicId must be "+gr.id+topicIDInfix+" followed by printable ASCII")
		}
		if _, used := gr.topics[tp.id]; used {
			return nil, errf(codeGroupIDTaken, "topic ID "+tp.id+" is already in use") // item 86
		}
	}
	if gr.topics == nil {
		gr.topics = make(map[string]*topic)
	}
	gr.topics[tp.id] = tp
	return &tencentim.ImportTopicResponse{TopicID: tp.id}, nil
}

// printableTopicPart applies the custom group ID's character rule (A36) to the
// custom part of a topic ID, whose own rules the seeds do not give, with the
// same 48-byte bound.
func printableTopicPart(s string) bool {
	return printableGroupID(s)
}
