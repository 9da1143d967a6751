package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/extract/synth"
	"github.com/immigrate/immigrate/internal/pgtest"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/migration"
	"github.com/immigrate/immigrate/plan"
	"github.com/immigrate/immigrate/report"
)

var update = flag.Bool("update", false, "rewrite testdata/demo (dataset and golden validate report)")

// demoConfig is the demo dataset of testdata/demo; TestDemoUpToDate keeps the
// committed files equal to what it generates. testdata/demo/README.md gives the
// same as a command line.
var demoConfig = synth.Config{
	Seed: 1, Users: 40, Groups: 6, MembersMin: 3, MembersMax: 15,
	GroupMessages: 2000, DirectMessages: 2500, Friends: 30, GroupDMs: 8, BadShare: 0.001, Profiles: true,
}

// demoNow is the validation clock of the golden report.
const demoNow = "2026-01-01T00:00:00Z"

// repoRoot makes the test run from the repository root, so that paths in reports
// read as a user would type them.
func repoRoot(t *testing.T) {
	t.Helper()
	t.Chdir(filepath.Join("..", ".."))
}

// generatedFiles are the files of testdata/demo the generator writes; the others
// (README.md, the golden reports) are kept by hand or by the validate test.
func generatedFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		switch filepath.Base(n) {
		case "README.md", report.ValidateMarkdownFile, report.ValidateJSONFile:
			continue
		}
		out = append(out, filepath.Base(n))
	}
	return out
}

func TestDemoUpToDate(t *testing.T) {
	repoRoot(t)
	dir := t.TempDir()
	if _, err := synth.WriteCSV(context.Background(), demoConfig, dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range generatedFiles(t, dir) {
		t.Run(name, func(t *testing.T) {
			got, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "demo", name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/immigrate -run TestDemoUpToDate -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from what the generator writes: regenerate it with -update", path)
			}
		})
	}
}

// readJSONL reads a JSON-lines file into values of T.
func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var v T
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

// reportJSON is the part of report.json the tests read.
type reportJSON struct {
	Rejected int64               `json:"rejected"`
	Result   plan.ValidateResult `json:"result"`
}

// TestValidateDemo is issue 3's "done when": validate on the demo config exits 3;
// every planted bad record is in rejects.jsonl with its rule and origin, and
// nothing else is; the accounting holds in report.json; the report matches the
// golden files.
func TestValidateDemo(t *testing.T) {
	repoRoot(t)
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, context.Background(), "validate", "-c", "testdata/demo/csv.yaml", "--out", out, "--now", demoNow)
	if code != exitRejected {
		t.Fatalf("exit %d, want %d (rejected); stderr:\n%s", code, exitRejected, stderr)
	}
	if !strings.Contains(stdout, "## Records") || !strings.Contains(stdout, "would be rejected") {
		t.Errorf("stdout lacks the summary:\n%s", stdout)
	}

	planted := readJSONL[synth.Planted](t, "testdata/demo/planted.jsonl")
	rejects := readJSONL[load.Reject](t, filepath.Join(out, report.RejectsFileName))
	var rep reportJSON
	data, err := os.ReadFile(filepath.Join(out, report.ValidateJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}

	t.Run("planted rejects", func(t *testing.T) {
		type key struct{ entity, origin, rule string }
		got := map[key]load.Reject{}
		for _, rj := range rejects {
			k := key{rj.Entity, rj.Origin, rj.Rule}
			if _, dup := got[k]; dup {
				t.Errorf("record rejected twice: %+v", rj)
			}
			got[k] = rj
		}
		want := 0
		for _, p := range planted {
			if p.Severity != synth.SeverityReject {
				continue
			}
			want++
			k := key{string(p.Entity), p.Origin, p.Rule}
			rj, ok := got[k]
			if !ok {
				t.Errorf("planted %s not in rejects.jsonl", p)
				continue
			}
			// A bad row carries the legacy id it could read: all but a ragged
			// row, whose fields do not line up with the header.
			if rj.LegacyID != p.LegacyID && !(rj.LegacyID == "" && p.Rule == extract.RuleRaggedRow) {
				t.Errorf("planted %s rejected with legacy id %q", p, rj.LegacyID)
			}
			delete(got, k)
		}
		for _, rj := range got {
			t.Errorf("reject of a record that was not planted bad: %+v", rj)
		}
		if want == 0 || rep.Rejected != int64(want) {
			t.Errorf("report.json says %d rejected, %d planted rejects", rep.Rejected, want)
		}
	})

	t.Run("planted repairs and warnings", func(t *testing.T) {
		counts := map[string]int64{}
		for _, is := range rep.Result.Issues {
			counts[string(is.Entity)+" "+is.Rule] += is.Count
		}
		wantMin := map[string]int64{}
		for _, p := range planted {
			if p.Severity != synth.SeverityReject {
				wantMin[string(p.Entity)+" "+p.Rule]++
			}
		}
		for k, n := range wantMin {
			if counts[k] < n {
				t.Errorf("%s: %d issues in report.json, %d planted", k, counts[k], n)
			}
		}
	})

	t.Run("accounting", func(t *testing.T) {
		if len(rep.Result.Entities) < 5 {
			t.Fatalf("report.json has %d entities", len(rep.Result.Entities))
		}
		for _, c := range rep.Result.Entities {
			if c.Read != c.Valid+c.Rejected+c.Skipped || c.Repaired > c.Valid || c.Read == 0 {
				t.Errorf("%s: read %d, valid %d (repaired %d), rejected %d, skipped %d", c.Entity, c.Read, c.Valid, c.Repaired, c.Rejected, c.Skipped)
			}
		}
	})

	t.Run("golden", func(t *testing.T) {
		for _, name := range []string{report.ValidateMarkdownFile, report.ValidateJSONFile} {
			got, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "demo", name)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (run with -update if intended); got:\n%s", path, got)
			}
		}
	})
}

func isExtractRule(rule string) bool {
	return strings.HasPrefix(rule, "csv.") || strings.HasPrefix(rule, "field.")
}

func TestValidateUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\nnope: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing-file.yaml")
	if err := os.WriteFile(missing, []byte(strings.Replace(demoMapping(t), "dir: .", "dir: "+dir, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file declared sorted that is not: the mapping is wrong, so exit 2.
	unsorted := filepath.Join(dir, "unsorted")
	for name, data := range map[string]string{
		"users.csv":         "id\nu1\nu2\n",
		"groups.csv":        "id,owner_id,type,name\ng1,u1,Public,G1\ng2,u1,Public,G2\n",
		"group_members.csv": "group_id,user_id\ng2,u2\ng1,u2\n",
		"unsorted.yaml": "version: 1\nsource: {csv: {dir: .}}\ntarget: {sandbox: embedded}\nentities:\n" +
			"  users: {file: users.csv}\n  groups: {file: groups.csv}\n  group_members: {file: group_members.csv, sorted: true}\n",
	} {
		if err := os.MkdirAll(unsorted, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(unsorted, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		args []string
		want int
		say  string
	}{
		{"no config", []string{"validate"}, exitUsage, "-c FILE"},
		{"declared sorted but not", []string{"validate", "-c", filepath.Join(unsorted, "unsorted.yaml"), "--out", dir}, exitUsage, "group_members.csv:3"},
		{"mapping missing", []string{"validate", "-c", filepath.Join(dir, "none.yaml")}, exitUsage, "none.yaml"},
		{"mapping invalid", []string{"validate", "-c", bad}, exitUsage, "line 2"},
		{"bad now", []string{"validate", "-c", "../../testdata/demo/csv.yaml", "--now", "yesterday"}, exitUsage, "RFC 3339"},
		{"source files missing", []string{"validate", "-c", missing, "--out", dir}, exitUsage, "users.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, context.Background(), tt.args...)
			if code != tt.want || !strings.Contains(stderr, tt.say) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tt.want, tt.say)
			}
		})
	}
}

func demoMapping(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../testdata/demo/csv.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestValidateCleanDataExitsZero(t *testing.T) {
	dir := t.TempDir()
	cfg := demoConfig
	cfg.BadShare = 0
	if _, err := synth.WriteCSV(context.Background(), cfg, dir); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLI(t, context.Background(), "validate", "-c", filepath.Join(dir, "csv.yaml"), "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d on a dataset without bad records; stderr %s\n%s", code, stderr, stdout)
	}
	data, err := os.ReadFile(filepath.Join(out, report.RejectsFileName))
	if err != nil || len(data) != 0 {
		t.Errorf("rejects.jsonl = %q, %v; want it empty", data, err)
	}
	if !strings.Contains(stdout, "every record can be imported") {
		t.Errorf("stdout:\n%s", stdout)
	}
}

func TestValidateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, stderr := runCLI(t, ctx, "validate", "-c", "../../testdata/demo/csv.yaml", "--out", t.TempDir())
	if code != exitInterrupted {
		t.Errorf("exit %d, want %d; stderr %q", code, exitInterrupted, stderr)
	}
}

// ---- the same data through CSV and PostgreSQL ----

// payloadHashes digests every accepted payload per entity, in order.
type payloadHashes map[extract.Entity]hash.Hash

func (p payloadHashes) Payload(e extract.Entity, legacyID string, v any) error {
	h := p[e]
	if h == nil {
		h = sha256.New()
		p[e] = h
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "%s\x00%s\n", legacyID, b)
	return nil
}

func (p payloadHashes) sums() map[extract.Entity]string {
	out := map[extract.Entity]string{}
	for e, h := range p {
		out[e] = fmt.Sprintf("%x", h.Sum(nil))
	}
	return out
}

// validateLib runs the dry run of a mapping file through the library, collecting
// payload digests.
func validateLib(t *testing.T, path string, now time.Time) (*plan.ValidateResult, map[extract.Entity]string) {
	t.Helper()
	f, err := mappings.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := migration.NewTransformer(f, now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bad := &plan.BadRows{}
	r, err := migration.OpenReader(ctx, f, extract.Options{OnBadRow: bad.Report})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	hashes := payloadHashes{}
	opt := migration.ValidateOptions(f, now)
	opt.BadRows, opt.Payloads = bad, hashes
	res, err := plan.Validate(ctx, r, tr, opt)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return res, hashes.sums()
}

// withoutOrigins blanks every origin, the one thing that must differ between
// sources, and the messages of the reader's bad rows, which name the source
// column the way an origin names the source row ("sender_id (column from_user)").
func withoutOrigins(res *plan.ValidateResult) *plan.ValidateResult {
	c := *res
	c.Issues = slices.Clone(res.Issues)
	for i := range c.Issues {
		c.Issues[i].Examples = slices.Clone(c.Issues[i].Examples)
		for j := range c.Issues[i].Examples {
			c.Issues[i].Examples[j].Origin = ""
			if isExtractRule(c.Issues[i].Rule) {
				c.Issues[i].Examples[j].Message = ""
			}
		}
	}
	noOrigin := func(s *plan.Stream) *plan.Stream {
		if s == nil {
			return nil
		}
		c := *s
		c.Origin = ""
		return &c
	}
	c.Plan.Phases = slices.Clone(res.Plan.Phases)
	for i := range c.Plan.Phases {
		c.Plan.Phases[i].LongestStream = noOrigin(c.Plan.Phases[i].LongestStream)
	}
	c.Plan.Critical.Stream = noOrigin(c.Plan.Critical.Stream)
	return &c
}

// withoutCSVOnly removes from a CSV result the records only a text file can hold
// (ragged rows, invalid UTF-8, unparsable cells), which the PostgreSQL loader
// leaves out: their rules only they produce.
func withoutCSVOnly(res *plan.ValidateResult, planted []synth.Planted) *plan.ValidateResult {
	c := *res
	c.Entities = slices.Clone(res.Entities)
	csvOnlyRules := map[string]bool{}
	for _, p := range planted {
		if !p.CSVOnly {
			continue
		}
		csvOnlyRules[p.Rule] = true
		for i := range c.Entities {
			if c.Entities[i].Entity == p.Entity {
				c.Entities[i].Read--
				c.Entities[i].Rejected--
			}
		}
	}
	c.Issues = slices.DeleteFunc(slices.Clone(res.Issues), func(rs plan.RuleSummary) bool { return csvOnlyRules[rs.Rule] })
	return &c
}

func TestValidateCSVAndPostgresAgree(t *testing.T) {
	url, schema := pgtest.Schema(t)
	repoRoot(t)
	ctx := context.Background()
	if _, err := synth.LoadPostgres(ctx, demoConfig, synth.PostgresOptions{URL: url, Schema: schema}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IMMIGRATE_SOURCE_PG_URL", url)
	now, _ := time.Parse(time.RFC3339, demoNow)

	csvRes, csvPayloads := validateLib(t, "testdata/demo/csv.yaml", now)
	pgRes, pgPayloads := validateLib(t, "testdata/demo/postgres.yaml", now)

	t.Run("payloads", func(t *testing.T) {
		if len(csvPayloads) < 5 {
			t.Fatalf("payloads of %d entities", len(csvPayloads))
		}
		for e, sum := range csvPayloads {
			if pgPayloads[e] != sum {
				t.Errorf("%s: payloads differ between CSV and PostgreSQL", e)
			}
		}
	})
	t.Run("report", func(t *testing.T) {
		planted := readJSONL[synth.Planted](t, "testdata/demo/planted.jsonl")
		want, _ := json.MarshalIndent(withoutOrigins(withoutCSVOnly(csvRes, planted)), "", "  ")
		got, _ := json.MarshalIndent(withoutOrigins(pgRes), "", "  ")
		if !bytes.Equal(got, want) {
			t.Errorf("PostgreSQL report differs from the CSV one beyond origins:\n%s", lineDiff(string(want), string(got)))
		}
	})
	t.Run("cli", func(t *testing.T) {
		out := t.TempDir()
		code, _, stderr := runCLI(t, ctx, "validate", "-c", "testdata/demo/postgres.yaml", "--out", out, "--now", demoNow)
		if code != exitRejected {
			t.Fatalf("exit %d; stderr %s", code, stderr)
		}
		if strings.Contains(stderr, "postgres://") {
			t.Errorf("the connection URL leaked: %s", stderr)
		}
	})
}

// lineDiff shows the first lines where two texts differ.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < max(len(al), len(bl)) && len(out) < 20; i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("%d: csv %q\n%d:  pg %q", i+1, x, i+1, y))
		}
	}
	return strings.Join(out, "\n")
}

// TestDryRunIsValidate: `immigrate run --dry-run` and `immigrate validate` share one
// path: the same exit code, the same output (but for the clock) and the same
// rejects.jsonl; neither writes a plan or a checkpoint.
func TestDryRunIsValidate(t *testing.T) {
	clock := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
	var stdouts, rejects []string
	var codes []int
	for _, args := range [][]string{{"validate"}, {"run", "--dry-run"}} {
		out := t.TempDir()
		code, stdout, stderr := runCLI(t, context.Background(), append(args, "-c", "../../testdata/demo/csv.yaml", "--out", out)...)
		if stderr != "" && code != exitRejected {
			t.Fatalf("%v: exit %d, stderr %s", args, code, stderr)
		}
		codes = append(codes, code)
		stdouts = append(stdouts, clock.ReplaceAllString(strings.ReplaceAll(stdout, out, "OUT"), "<time>"))
		b, err := os.ReadFile(filepath.Join(out, report.RejectsFileName))
		if err != nil {
			t.Fatal(err)
		}
		// Both read the clock (run has no --now): rejects that quote it may
		// straddle a second.
		rejects = append(rejects, clock.ReplaceAllString(string(b), "<time>"))
		for _, name := range []string{migration.PlanDir, "checkpoint.db"} {
			if _, err := os.Stat(filepath.Join(out, name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%v wrote %s (%v)", args, name, err)
			}
		}
	}
	if codes[0] != exitRejected || codes[1] != codes[0] {
		t.Errorf("exit codes %v, want %d for both", codes, exitRejected)
	}
	if stdouts[0] != stdouts[1] {
		t.Errorf("outputs differ:\n%s", lineDiff(stdouts[0], stdouts[1]))
	}
	if rejects[0] != rejects[1] || rejects[0] == "" {
		t.Errorf("rejects.jsonl differ (or are empty): %d and %d bytes", len(rejects[0]), len(rejects[1]))
	}
}

// TestValidateRefusesBadQueries: a query the reader cannot read as the mapping
// says is a configuration error (exit 2) naming the entity and the reason, found
// before any record is read (issue 13): a users query returning ARRAY[id] as the id,
// and one ending in ORDER BY …;.
func TestValidateRefusesBadQueries(t *testing.T) {
	url, schema := pgtest.Schema(t)
	ctx := context.Background()
	if _, err := synth.LoadPostgres(ctx, demoConfig, synth.PostgresOptions{URL: url, Schema: schema}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IMMIGRATE_SOURCE_PG_URL", url)
	for _, tc := range []struct{ name, query, want string }{
		{"array id", "SELECT ARRAY[id] AS id, nickname AS nick, created_at FROM users",
			`users query: column "id" (field id) has type text[]; an id must be text`},
		{"ORDER BY", "SELECT id, nickname AS nick, created_at FROM users ORDER BY created_at;",
			"users query has an ORDER BY at its top level: the reader orders the rows by the entity's stream order"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mapping := filepath.Join(dir, "m.yaml")
			if err := os.WriteFile(mapping, []byte(`version: 1
source:
  postgres:
    url: "${IMMIGRATE_SOURCE_PG_URL}"
target:
  sandbox: embedded
  sdkappid: 1400000000
  admin: administrator
entities:
  users:
    query: `+tc.query+`
`), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runCLI(t, ctx, "validate", "-c", mapping, "--out", filepath.Join(dir, "out"))
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q\nwant it to contain %q", stderr, tc.want)
			}
		})
	}
}
