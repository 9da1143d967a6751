package migration

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/internal/seenset"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/plan"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/transform"
)

// The glue between the mapping file and the pipeline's packages: the one place
// where mappings.File becomes an extract reader, a transform.Config and the
// validate options (style.md habit 9). validate and run both use it.

// Source kinds, as reports name them.
const (
	sourceCSV      = "csv"
	sourcePostgres = "postgres"
)

// SourceKind names the mapping's source.
func SourceKind(f *mappings.File) string {
	if f.Source.Postgres != nil {
		return sourcePostgres
	}
	return sourceCSV
}

// OpenReader opens the extract reader of the mapping's source, reporting skipped
// rows to opt.OnBadRow (nil ignores them) and applying policies.optional_fields
// (opt.RejectUnreadable). A configuration problem — a missing file or
// column, a bad query — is a usage error (exit 2); an unreachable database is not.
func OpenReader(ctx context.Context, f *mappings.File, opt extract.Options) (extract.Reader, error) {
	opt.RejectUnreadable = f.Policies.OptionalFields == mappings.OptionalFieldsReject
	var (
		r   extract.Reader
		err error
	)
	if cfg, ok := f.CSVConfig(); ok {
		r, err = extract.NewCSVReader(cfg, opt)
	} else if cfg, ok := f.PostgresConfig(); ok {
		r, err = extract.NewPostgresReader(ctx, cfg, opt)
	} else {
		return nil, configf("mapping: no source")
	}
	if errors.Is(err, extract.ErrConfig) {
		return nil, configf("source: %v", err)
	}
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	return r, nil
}

// TransformConfig maps the mapping's entity rules onto transform.Config; now is the
// migration's clock.
func TransformConfig(f *mappings.File, now time.Time) (transform.Config, error) {
	if f.DefaultRole != "" && f.DefaultRole != tencentim.RoleMember {
		// transform imports a member without a legacy role as Member; another
		// default would be silently ignored, so refuse it.
		return transform.Config{}, configf("mapping: default_role %s is not supported: members without a role are imported as Member", f.DefaultRole)
	}
	kinds := make(map[string]transform.KindRule, len(f.Messages.Kinds))
	for legacy, k := range f.Messages.Kinds {
		rule := transform.KindRule{Element: string(k.Element)}
		if k.HasIndex {
			rule.FaceIndex = k.Index
		}
		kinds[legacy] = rule
	}
	cfg := transform.Config{
		Now:              now,
		GroupTypes:       f.GroupTypes,
		DefaultGroupType: f.DefaultGroupType,
		Roles:            f.Roles,
		Kinds:            kinds,
		DefaultKind:      f.Messages.DefaultKind,
		UnknownKind:      f.Messages.UnknownKind,
		GroupRichMedia:   f.Messages.GroupRichMedia,
		URLTemplate:      f.Messages.URLTemplate,
		KeepLegacyID:     f.Messages.KeepLegacyID,
		Oversize:         f.Policies.Oversize,
		SelfMessages:     f.Policies.SelfMessages,
		InvalidIDs:       f.IDs.Invalid,
		UnknownUsers:     f.IDs.UnknownUsers,
		GroupIDPrefix:    f.IDs.GroupIDPrefix,
		LongNames:        f.Policies.LongNames,
		GroupCreateTime:  f.Policies.GroupCreateTime,
		SyncDefault:      f.Sync.Default,
		RealtimeAfter:    f.Sync.RealtimeAfter,
		AccountLimit:     f.Target.AccountLimit,
		GroupDMType:      f.GroupDMs.Type,
		GroupDMIDPrefix:  f.GroupDMs.IDPrefix,
	}
	if err := cfg.Validate(); err != nil {
		return cfg, configf("mapping: %v", err)
	}
	return cfg, nil
}

// NewTransformer builds the Transformer of the mapping.
func NewTransformer(f *mappings.File, now time.Time) (*transform.Transformer, error) {
	cfg, err := TransformConfig(f, now)
	if err != nil {
		return nil, err
	}
	t, err := transform.New(cfg)
	if err != nil {
		return nil, configf("mapping: %v", err)
	}
	return t, nil
}

// ValidateOptions carries the mapping's load settings into the dry run's plan. The
// accounts are planned as the engine sends them with UseMultiAccount (see
// load.Config): multiaccount_import for bare accounts, account_import for those
// with a profile; the time estimate with the calls in flight the run allows
// (load.concurrency for both the streams and the workers) and round trips of
// plan.DefaultRTT, which the caller may change.
func ValidateOptions(f *mappings.File, now time.Time) plan.ValidateOptions {
	var seen seenset.Config
	if f.Source.CSV != nil {
		// Where the on-disk sort spills, the message ids spill too.
		seen.Dir = f.Source.CSV.TempDir
	}
	return plan.ValidateOptions{
		Seen:              seen,
		Rates:             f.Load.Rates,
		RTT:               plan.DefaultRTT,
		Streams:           f.Load.Concurrency,
		Workers:           f.Load.Concurrency,
		GroupMsgBatch:     f.Load.GroupMsgBatch,
		RecentContactFlag: RecentContactFlag,
		AccountLimit:      f.Target.AccountLimit,
		Now:               now,
		RoamingDays:       f.Target.RoamingDays,
		Friends:           f.Policies.Friends == mappings.FriendsImport,
	}
}

// RecentContactFlag is the run's load.Config.RecentContactFlag: imported groups
// show in their members' conversation lists. The plan needs it too, as it sizes
// the import_group_msg requests the run sends.
const RecentContactFlag = true
