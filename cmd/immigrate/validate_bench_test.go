package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/extract/synth"
	"github.com/immigrate/immigrate/internal/pgtest"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/migration"
	"github.com/immigrate/immigrate/plan"
)

// benchConfig is the dataset of the validate benchmarks: 200,000 messages, half in
// groups, half one-to-one, with the default 1 % of every kind of bad record.
var benchConfig = synth.Config{
	Seed: 1, Users: 20000, Groups: 400, MembersMin: 5, MembersMax: 100,
	GroupMessages: 100_000, DirectMessages: 100_000, BadShare: 0.01,
}

// benchValidate validates the mapping at path b.N times and reports messages/s
// (extract + transform + validate; run with -cpu 1 for the one-core figure).
func benchValidate(b *testing.B, path string) {
	f, err := mappings.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	var msgs int64
	b.ReportAllocs()
	for b.Loop() {
		tr, err := migration.NewTransformer(f, now)
		if err != nil {
			b.Fatal(err)
		}
		bad := &plan.BadRows{}
		r, err := migration.OpenReader(ctx, f, extract.Options{OnBadRow: bad.Report})
		if err != nil {
			b.Fatal(err)
		}
		opt := migration.ValidateOptions(f, now)
		opt.BadRows = bad
		res, err := plan.Validate(ctx, r, tr, opt)
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
		msgs = res.Counts("group_messages").Read + res.Counts("direct_messages").Read
	}
	b.ReportMetric(float64(msgs)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkValidateCSV(b *testing.B) {
	dir := b.TempDir()
	if _, err := synth.WriteCSV(context.Background(), benchConfig, dir); err != nil {
		b.Fatal(err)
	}
	benchValidate(b, filepath.Join(dir, "csv.yaml"))
}

func BenchmarkValidatePostgres(b *testing.B) {
	url, schema := pgtest.Schema(b)
	dir := b.TempDir()
	if _, err := synth.WriteCSV(context.Background(), benchConfig, dir); err != nil {
		b.Fatal(err)
	}
	if _, err := synth.LoadPostgres(context.Background(), benchConfig, synth.PostgresOptions{URL: url, Schema: schema}); err != nil {
		b.Fatal(err)
	}
	b.Setenv("IMMIGRATE_SOURCE_PG_URL", url)
	benchValidate(b, filepath.Join(dir, "postgres.yaml"))
}
