package transform

import (
	"fmt"

	"github.com/immigrate/immigrate/extract"
)

// issueList collects the issues of one record. The record's legacy id is kept in
// parts and joined only when an issue is actually raised, so that the clean path
// allocates nothing for it.
type issueList struct {
	entity   extract.Entity
	origin   extract.Origin
	id, id2  string // legacy id; id2 non-empty for members ("group/user")
	list     []Issue
	rejected bool
}

func newIssues(entity extract.Entity, origin extract.Origin, id, id2 string) issueList {
	return issueList{entity: entity, origin: origin, id: id, id2: id2}
}

// add raises rule with a message; the severity comes from the catalog.
func (l *issueList) add(rule, format string, args ...any) {
	sev, ok := ruleSeverity[rule]
	if !ok {
		// Every rule must be in the catalog; a test walks the code paths, so this
		// only trips during development.
		panic("transform: rule " + rule + " is not in the catalog")
	}
	id := l.id
	if l.id2 != "" {
		id = l.id + "/" + l.id2
	}
	l.list = append(l.list, Issue{
		Entity:   l.entity,
		Origin:   l.origin,
		LegacyID: id,
		Rule:     rule,
		Severity: sev,
		Message:  fmt.Sprintf(format, args...),
	})
	if sev == Reject {
		l.rejected = true
	}
}

// dropped raises RuleFieldDropped for each optional field the reader left out.
func (l *issueList) dropped(fields []extract.DroppedField) {
	for _, f := range fields {
		l.add(RuleFieldDropped, "%s; imported without it (policies.optional_fields: repair)", f.Message)
	}
}

// Dropped returns the issues of the optional fields a reader left out of a record
// that the Transformer does not see (friends, which the migration skips); User,
// Group and Member raise them themselves. legacyID is the record's legacy id.
func Dropped(e extract.Entity, origin extract.Origin, legacyID string, fields []extract.DroppedField) []Issue {
	if len(fields) == 0 {
		return nil
	}
	is := newIssues(e, origin, legacyID, "")
	is.dropped(fields)
	return is.list
}
