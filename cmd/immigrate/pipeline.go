package main

import (
	"context"
	"fmt"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/transform"
)

// pipeline is the mapping file turned into what validate and run need: a way to
// open the legacy source and the transformer's configuration.
type pipeline struct {
	file *mappings.File
	tcfg transform.Config
}

func newPipeline(f *mappings.File, now time.Time) (*pipeline, error) {
	kinds := make(map[string]transform.KindRule, len(f.Messages.Kinds))
	for legacy, k := range f.Messages.Kinds {
		kinds[legacy] = transform.KindRule{Element: string(k.Element), FaceIndex: k.Index}
	}
	tcfg := transform.Config{
		Now:              now,
		GroupTypes:       f.GroupTypes,
		DefaultGroupType: f.DefaultGroupType,
		Roles:            f.Roles,
		Kinds:            kinds,
		DefaultKind:      f.Messages.DefaultKind,
		UnknownKind:      f.Messages.UnknownKind,
		GroupRichMedia:   f.Messages.GroupRichMedia,
		InvalidIDs:       f.IDs.Invalid,
		GroupIDPrefix:    f.IDs.GroupIDPrefix,
		LongNames:        f.Policies.LongNames,
		GroupCreateTime:  f.Policies.GroupCreateTime,
		SyncDefault:      f.Sync.Default,
		RealtimeAfter:    f.Sync.RealtimeAfter,
		AccountLimit:     f.Target.AccountLimit,
	}
	if err := tcfg.Validate(); err != nil {
		return nil, usagef("mapping: %v", err)
	}
	return &pipeline{file: f, tcfg: tcfg}, nil
}

// openReader opens a fresh reader over the legacy source.
func (p *pipeline) openReader(ctx context.Context, opt extract.Options) (extract.Reader, error) {
	if cfg, ok := p.file.CSVConfig(); ok {
		r, err := extract.NewCSVReader(cfg, opt)
		if err != nil {
			return nil, fmt.Errorf("open csv source: %w", err)
		}
		return r, nil
	}
	if cfg, ok := p.file.PostgresConfig(); ok {
		r, err := extract.NewPostgresReader(ctx, cfg, opt)
		if err != nil {
			return nil, fmt.Errorf("open postgres source: %w", err)
		}
		return r, nil
	}
	return nil, usagef("mapping: no source")
}
