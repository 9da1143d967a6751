package load

import (
	"context"

	"github.com/immigrate/immigrate/tencentim"
)

// ---- profiles (spec §4.1) ----

// setProfile sets one account's profile fields. A resend after a lost answer, or
// a redo after a crash, is harmless: portrait_set writes the same values again
// (design §4 rules 1 and 4). The request is judged whole (spec §4.1 has no
// per-item results): a record-level code rejects the profile as target.<code>
// (40003 account not imported, 40009 a custom tag the app has not declared,
// 40601/40605/40610 a value the target refused); retryable answers are retried by
// call like every phase's, and a fatal one stops the run.
func (e *Engine) setProfile(ctx context.Context, r Record) error {
	req, err := decode[tencentim.PortraitSetRequest](PhaseProfiles, r)
	if err != nil {
		return err
	}
	err = e.call(ctx, PhaseProfiles, tencentim.CmdPortraitSet, func(ctx context.Context) error {
		_, err := exchange[tencentim.PortraitSetResponse](ctx, e.client, tencentim.CmdPortraitSet, &req)
		return err
	}, nil)
	switch {
	case err == nil:
		e.confirm(PhaseProfiles, "", r.Item, OutcomeImported)
		return nil
	case stops(ctx, err):
		return err
	}
	return e.rejectErr(PhaseProfiles, "", r.Item, err)
}
