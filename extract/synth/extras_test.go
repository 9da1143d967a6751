package synth

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/mappings"
)

// TestWriteCSVExtras: with topic groups, rich and split messages the export
// reads back in stream order through its mapping, with topics and topic
// messages, attachments, replies, edits, reactions and texts over 12,000 bytes
// under policies.oversize: split; the files the extras do not touch keep their
// bytes.
func TestWriteCSVExtras(t *testing.T) {
	ctx := context.Background()
	base := small
	base.Groups = 40 // enough community groups without planted records
	cfg := base
	cfg.TopicGroups, cfg.Rich, cfg.SplitMessages = 2, true, 6
	dir, plain := t.TempDir(), t.TempDir()
	if _, err := WriteCSV(ctx, cfg, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteCSV(ctx, base, plain); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{usersFile, membersFile, friendsFile} {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(plain, name))
		if string(a) != string(b) || len(a) == 0 {
			t.Errorf("%s differs with the extras", name)
		}
	}
	f, err := mappings.Load(filepath.Join(dir, "csv.yaml"))
	if err != nil {
		t.Fatalf("generated csv.yaml: %v", err)
	}
	if f.Policies.Oversize != mappings.OversizeSplit {
		t.Errorf("policies.oversize %q, want split", f.Policies.Oversize)
	}
	csvCfg, _ := f.CSVConfig()
	r, err := extract.NewCSVReader(csvCfg, extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	topicGroups := map[string]bool{}
	if err := r.Groups(ctx, func(g extract.Group) error {
		if g.SupportTopic {
			topicGroups[g.ID] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	topics := 0
	if err := r.Topics(ctx, func(tp extract.Topic) error {
		if !topicGroups[tp.GroupID] {
			t.Errorf("topic %s of %s, which does not support topics", tp.ID, tp.GroupID)
		}
		topics++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	tally := func(m extract.Message) error {
		if m.TopicID != "" {
			count["topic"]++
		}
		if m.Attachments != "" {
			count["attachments"]++
		}
		if m.ReplyTo != "" {
			count["reply_to"]++
		}
		if !m.EditedAt.IsZero() {
			count["edited_at"]++
		}
		if m.Reactions != "" {
			count["reactions"]++
		}
		if len(m.Text) > 12000 && m.Kind == "text" && strings.Contains(m.Text, "\n") {
			count["long"]++
		}
		return nil
	}
	if err := r.GroupMessages(ctx, tally); err != nil {
		t.Fatalf("group messages read back: %v", err)
	}
	if err := r.DirectMessages(ctx, tally); err != nil {
		t.Fatalf("direct messages read back: %v", err)
	}
	if len(topicGroups) != 2 || topics != 4 {
		t.Errorf("%d topic groups with %d topics, want 2 with 4", len(topicGroups), topics)
	}
	for _, k := range []string{"topic", "attachments", "reply_to", "edited_at", "reactions"} {
		if count[k] < 5 {
			t.Errorf("%d messages with %s, want several", count[k], k)
		}
	}
	if count["long"] < 3 || count["long"] > 12 {
		t.Errorf("%d texts over 12,000 bytes, want about %d", count["long"], cfg.SplitMessages)
	}
}
