package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/extract/synth"
)

func generateCommand() *cli.Command {
	return &cli.Command{
		Name:  "generate",
		Usage: "write a synthetic legacy dataset (CSV + mappings, optionally loaded into PostgreSQL)",
		Description: "Generates a deterministic legacy chat dataset with a share of every kind of bad record, for\n" +
			"rehearsals and benchmarks. Writes one CSV file per entity, csv.yaml and postgres.yaml mappings,\n" +
			"schema.sql, and planted.jsonl (each planted bad record with the rule validate must give it).\n" +
			"With --pg it also loads the data into a new schema of that database with COPY.\n\n" +
			"Kinds of bad record (for --bad KIND=SHARE): " + strings.Join(synth.KindNames(), ", "),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "output directory (required)"},
			&cli.StringFlag{Name: "pg", Usage: "also load into this PostgreSQL database (connection URL)"},
			&cli.StringFlag{Name: "pg-schema", Usage: "schema to create for --pg", Value: "legacy"},
			&cli.BoolFlag{Name: "pg-replace", Usage: "drop an existing --pg-schema first"},
			&cli.Uint64Flag{Name: "seed", Usage: "random seed; the same flags give the same bytes", Value: 1},
			&cli.IntFlag{Name: "users", Value: 1000},
			&cli.IntFlag{Name: "groups", Value: 50},
			&cli.IntFlag{Name: "members-min", Usage: "members per group, owner included", Value: 2},
			&cli.IntFlag{Name: "members-max", Value: 50},
			&cli.IntFlag{Name: "group-messages", Value: 10000},
			&cli.IntFlag{Name: "direct-messages", Value: 10000},
			&cli.IntFlag{Name: "conversations", Usage: "one-to-one conversations (default: one per 40 direct messages)"},
			&cli.IntFlag{Name: "friends"},
			&cli.IntFlag{Name: "group-dms", Usage: "group DMs: conversations of 3-6 users without a group"},
			&cli.BoolFlag{Name: "profiles", Usage: "give users profile fields (gender, birthday, custom Kind and Active)"},
			&cli.Float64Flag{Name: "bad-share", Usage: "share of each kind of bad record (at least one of each when > 0)", Value: 0.01},
			&cli.StringSliceFlag{Name: "bad", Usage: "KIND=SHARE: override --bad-share for one kind (repeatable)"},
			&cli.TimestampFlag{Name: "start", Usage: "start of the data's time range", Layout: time.RFC3339},
			&cli.TimestampFlag{Name: "end", Usage: "end of the data's time range", Layout: time.RFC3339},
		},
		Action: runGenerate,
	}
}

func runGenerate(c *cli.Context) error {
	out := c.String("out")
	if out == "" {
		return usagef("generate: --out DIR is required")
	}
	cfg := synth.Config{
		Seed:           c.Uint64("seed"),
		Users:          c.Int("users"),
		Groups:         c.Int("groups"),
		MembersMin:     c.Int("members-min"),
		MembersMax:     c.Int("members-max"),
		GroupMessages:  c.Int("group-messages"),
		DirectMessages: c.Int("direct-messages"),
		Conversations:  c.Int("conversations"),
		Friends:        c.Int("friends"),
		GroupDMs:       c.Int("group-dms"),
		Profiles:       c.Bool("profiles"),
		BadShare:       c.Float64("bad-share"),
	}
	if t := c.Timestamp("start"); t != nil {
		cfg.Start = t.UTC()
	}
	if t := c.Timestamp("end"); t != nil {
		cfg.End = t.UTC()
	}
	for _, spec := range c.StringSlice("bad") {
		name, share, ok := strings.Cut(spec, "=")
		v, err := strconv.ParseFloat(share, 64)
		if !ok || err != nil {
			return usagef("generate: --bad %q: want KIND=SHARE", spec)
		}
		if cfg.KindShare == nil {
			cfg.KindShare = map[string]float64{}
		}
		cfg.KindShare[name] = v
	}
	if err := cfg.Validate(); err != nil {
		return usagef("generate: %v", err)
	}

	w := c.App.Writer
	sum, err := synth.WriteCSV(c.Context, cfg, out)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	fmt.Fprintf(w, "Wrote %s: %s planted bad records (planted.jsonl); mappings csv.yaml and postgres.yaml.\n", out, summarize(sum))
	if url := c.String("pg"); url != "" {
		schema := c.String("pg-schema")
		psum, err := synth.LoadPostgres(c.Context, cfg, synth.PostgresOptions{URL: url, Schema: schema, Replace: c.Bool("pg-replace")})
		if errors.Is(err, synth.ErrSchemaExists) {
			return usagef("generate: schema %s exists; pass --pg-replace to drop it first", schema)
		}
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		fmt.Fprintf(w, "Loaded schema %s: %s planted bad records (rows only a CSV file can hold are left out).\n", schema, summarize(psum))
		fmt.Fprintf(w, "Read it with postgres.yaml and IMMIGRATE_SOURCE_PG_URL set to the URL with search_path=%s.\n", schema)
	}
	return nil
}

func summarize(s synth.Summary) string {
	var parts []string
	for _, e := range extract.Entities() {
		if n, ok := s.Rows[e]; ok {
			parts = append(parts, fmt.Sprintf("%d %s", n, e))
		}
	}
	return strings.Join(slices.Clip(parts), ", ") + ", " + strconv.Itoa(s.Planted)
}
