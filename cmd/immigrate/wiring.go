package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/mappings"
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

// sourceKind names the mapping's source.
func sourceKind(f *mappings.File) string {
	if f.Source.Postgres != nil {
		return sourcePostgres
	}
	return sourceCSV
}

// openReader opens the extract reader of the mapping's source, reporting skipped
// rows to onBadRow (nil ignores them). A configuration problem — a missing file or
// column, a bad query — is a usage error (exit 2); an unreachable database is not.
func openReader(ctx context.Context, f *mappings.File, onBadRow func(extract.BadRow)) (extract.Reader, error) {
	opt := extract.Options{OnBadRow: onBadRow}
	var (
		r   extract.Reader
		err error
	)
	if cfg, ok := f.CSVConfig(); ok {
		r, err = extract.NewCSVReader(cfg, opt)
	} else if cfg, ok := f.PostgresConfig(); ok {
		r, err = extract.NewPostgresReader(ctx, cfg, opt)
	} else {
		return nil, usagef("mapping: no source")
	}
	if errors.Is(err, extract.ErrConfig) {
		return nil, usagef("source: %v", err)
	}
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	return r, nil
}

// transformConfig maps the mapping's entity rules onto transform.Config; now is the
// migration's clock.
func transformConfig(f *mappings.File, now time.Time) (transform.Config, error) {
	if f.DefaultRole != "" && f.DefaultRole != tencentim.RoleMember {
		// transform imports a member without a legacy role as Member; another
		// default would be silently ignored, so refuse it.
		return transform.Config{}, usagef("mapping: default_role %s is not supported: members without a role are imported as Member", f.DefaultRole)
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
		InvalidIDs:       f.IDs.Invalid,
		UnknownUsers:     f.IDs.UnknownUsers,
		GroupIDPrefix:    f.IDs.GroupIDPrefix,
		LongNames:        f.Policies.LongNames,
		GroupCreateTime:  f.Policies.GroupCreateTime,
		SyncDefault:      f.Sync.Default,
		RealtimeAfter:    f.Sync.RealtimeAfter,
		AccountLimit:     f.Target.AccountLimit,
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usagef("mapping: %v", err)
	}
	return cfg, nil
}

// newTransformer builds the Transformer of the mapping.
func newTransformer(f *mappings.File, now time.Time) (*transform.Transformer, error) {
	cfg, err := transformConfig(f, now)
	if err != nil {
		return nil, err
	}
	t, err := transform.New(cfg)
	if err != nil {
		return nil, usagef("mapping: %v", err)
	}
	return t, nil
}

// validateOptions carries the mapping's load settings into the dry run's plan. The
// accounts are planned as the engine sends them with UseMultiAccount (see
// load.Config): multiaccount_import for bare accounts, account_import for those
// with a profile.
func validateOptions(f *mappings.File, now time.Time) load.ValidateOptions {
	return load.ValidateOptions{
		Rates:             f.Load.Rates,
		GroupMsgBatch:     f.Load.GroupMsgBatch,
		RecentContactFlag: recentContactFlag,
		AccountLimit:      f.Target.AccountLimit,
		Now:               now,
	}
}

// recentContactFlag is the run's load.Config.RecentContactFlag: imported groups
// show in their members' conversation lists. The plan needs it too, as it sizes
// the import_group_msg requests the run sends.
const recentContactFlag = true
