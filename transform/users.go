package transform

import (
	"slices"
	"strconv"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// UserResult is the outcome of one user. In every result type, the payload is the
// zero value when OK is false, and Issues lists repairs and warnings of OK records
// too.
type UserResult struct {
	Account tencentim.AccountImportRequest
	OK      bool
	Issues  []Issue
}

// User checks one legacy user (pass 1) and returns its account payload.
func (t *Transformer) User(u extract.User) UserResult {
	is := newIssues(extract.Users, u.Origin, u.ID, "")
	is.dropped(u.Dropped)
	target := u.ID
	idOK := true
	if problem := userIDProblem(u.ID); problem != "" {
		if rewritten, ok := UserID(u.ID, t.invalidIDs); ok {
			target = rewritten
			is.add(RuleUserIDRewritten, "user id %s %s; rewritten to %q (ids.invalid: rewrite)", shown(u.ID), userIDReason(problem, u.ID), target)
		} else {
			idOK = false
			is.add(problem, "user id %s %s", shown(u.ID), userIDReason(problem, u.ID))
		}
	} else if unusualUserID(u.ID) {
		is.add(RuleUserIDUnusualChars, "user id %s has characters outside [A-Za-z0-9_-]; TIM accepts printable ASCII but some vendor documents do not (design §7 A23)", shown(u.ID))
	}

	// A repeated legacy id stays whatever its first record made it; a rewrite that
	// lands on an earlier user's UserID is a rejection of this legacy id, so that
	// references to it do not resolve to the other user.
	repeated := !t.usersSeen.add(fingerprint(u.ID))
	if repeated {
		is.add(RuleUserIDDuplicate, "user id %s appears more than once; only its first record can be imported", shown(u.ID))
	} else if idOK && t.usersOK.has(fingerprint(target)) {
		is.add(RuleUserIDDuplicate, "user id %s maps to UserID %q, already taken by an earlier user", shown(u.ID), target)
	}

	acct := tencentim.AccountImportRequest{UserID: target}
	acct.Nick = t.limitText(&is, u.Nick, tencentim.MaxProfileValueBytes, "nick", "spec §3.4 (40601)", RuleUserNickTooLong, RuleUserNickTruncated)
	acct.FaceURL = t.limitText(&is, u.FaceURL, tencentim.MaxProfileValueBytes, "face URL", "spec §3.4 (40601)", RuleUserFaceURLTooLong, RuleUserFaceURLTruncated)

	if !is.rejected && t.accountLimit > 0 && t.accounts >= t.accountLimit {
		is.add(RuleAccountEditionLimit, "user %s would be account %d; the edition allows %d (spec §3.3, 70398)", shown(u.ID), t.accounts+1, t.accountLimit)
	}
	if is.rejected {
		if !repeated {
			t.usersRejected.add(fingerprint(u.ID))
		}
		return UserResult{Issues: is.list}
	}
	t.usersOK.add(fingerprint(target))
	t.noteNick(u.ID, acct.Nick)
	if t.selfMessages == PolicyToGroup {
		if t.selfNicks == nil {
			t.selfNicks = map[string]string{}
		}
		t.selfNicks[target] = acct.Nick
	}
	t.accounts++
	if target != u.ID {
		t.rewrites = append(t.rewrites, Rewrite{Entity: extract.Users, Legacy: u.ID, Target: target})
	}
	return UserResult{Account: acct, OK: true, Issues: is.list}
}

func userIDReason(rule, id string) string {
	switch rule {
	case RuleUserIDEmpty:
		return "is empty; TIM needs 1-32 bytes (spec §3.1)"
	case RuleUserIDTooLong:
		return "is " + strconv.Itoa(len(id)) + " bytes; TIM allows 32 (spec §3.1)"
	case RuleUserIDInvalidChars:
		return "has characters outside printable ASCII 0x21-0x7e (spec §3.1, design §7 A23)"
	default:
		return "starts with " + reservedUserPrefix + ", reserved for chatbot accounts (spec §3.1)"
	}
}

// userRef is the outcome of resolving a reference to a user.
type userRef int

const (
	refKnown    userRef = iota // an accepted or already implied account
	refImplied                 // to be imported as a bare account if the record is accepted
	refRejected                // the user was rejected in pass 1
	refUnknown                 // absent, and UnknownUsers is reject (or the id is invalid)
	refLimit                   // absent and implying it would pass the edition limit
)

// resolveUser resolves a reference to the legacy user id ref. pending holds the
// accounts the current record would imply, so that two references of one record
// count against the edition limit together.
func (t *Transformer) resolveUser(ref string, pending []string) (target string, r userRef) {
	// Rejected first: a legacy id in usersRejected was never accepted, and its
	// rewrite may equal another user's UserID.
	if t.usersRejected.has(fingerprint(ref)) {
		return "", refRejected
	}
	target, ok := UserID(ref, t.invalidIDs)
	if ok && t.usersOK.has(fingerprint(target)) {
		return target, refKnown
	}
	if t.unknownUsers != PolicyImport || !ok {
		return target, refUnknown
	}
	if t.implied.has(fingerprint(target)) || slices.Contains(pending, target) {
		return target, refKnown
	}
	if t.accountLimit > 0 && t.accounts+len(pending) >= t.accountLimit {
		return target, refLimit
	}
	return target, refImplied
}

// userRefIssue raises the issue of a failed reference; role names it ("sender").
func (t *Transformer) userRefIssue(is *issueList, r userRef, ref, role, unknownRule, rejectedRule, spec string) {
	switch r {
	case refRejected:
		is.add(rejectedRule, "%s %s was rejected in the users pass (%s)", role, shown(ref), spec)
	case refUnknown:
		if t.unknownUsers == PolicyImport {
			is.add(unknownRule, "%s %s is not in users and is not a valid UserID to import (%s)", role, shown(ref), spec)
		} else {
			is.add(unknownRule, "%s %s is not in users; accounts must be imported before use (%s; unknown_users: reject)", role, shown(ref), spec)
		}
	case refLimit:
		is.add(RuleAccountEditionLimit, "%s %s is not in users and importing it would pass the edition's %d accounts (spec §3.3, 70398)", role, shown(ref), t.accountLimit)
	}
}

// commitImplied records the accounts an accepted record implies.
func (t *Transformer) commitImplied(is *issueList, legacy, target []string) {
	for i, tg := range target {
		if !t.implied.add(fingerprint(tg)) {
			continue
		}
		t.impliedIDs = append(t.impliedIDs, tg)
		t.accounts++
		if tg != legacy[i] {
			t.rewrites = append(t.rewrites, Rewrite{Entity: extract.Users, Legacy: legacy[i], Target: tg})
		}
		is.add(RuleAccountImplied, "user %s is not in users; imported as a bare account %q (unknown_users: import)", shown(legacy[i]), tg)
	}
}
