package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/immigrate/immigrate/verify"
)

// File names of the verify report, in the output directory.
const (
	VerifyMarkdownFile = "verify.md"
	VerifyJSONFile     = "verify.json"
	VerifyHTMLFile     = "verify.html"
)

// VerifyMeta says what a verify report is about.
type VerifyMeta struct {
	Mapping string        // the mapping file, as the user named it
	Target  string        // where the target is, e.g. its endpoint
	Plan    string        // the plan compared with
	Started time.Time     // when verify started
	Elapsed time.Duration // how long it took
}

// verifyJSON is verify.json. Field names are stable: programs read them.
type verifyJSON struct {
	Version int            `json:"version"`
	Kind    string         `json:"kind"`
	Mapping string         `json:"mapping,omitempty"`
	Target  string         `json:"target,omitempty"`
	Plan    string         `json:"plan,omitempty"`
	Started time.Time      `json:"started"`
	Elapsed time.Duration  `json:"elapsed_ns"`
	OK      bool           `json:"ok"`
	Result  *verify.Result `json:"result"`
}

// maxMarkdownFindings is how many findings verify.md and the page list; verify.json
// has every finding kept.
const maxMarkdownFindings = 1000

// WriteVerifyFiles writes verify.md, verify.json and verify.html into dir, each
// atomically (a temporary file renamed over it), so that a reader never sees half
// a report and an interrupted verify leaves the previous one whole.
func WriteVerifyFiles(dir string, res *verify.Result, meta VerifyMeta) error {
	for name, write := range map[string]func(io.Writer) error{
		VerifyMarkdownFile: func(w io.Writer) error { return WriteVerifyMarkdown(w, res, meta) },
		VerifyJSONFile:     func(w io.Writer) error { return WriteVerifyJSON(w, res, meta) },
		VerifyHTMLFile:     func(w io.Writer) error { return WriteVerifyHTML(w, res, meta) },
	} {
		if err := writeFileAtomic(filepath.Join(dir, name), write); err != nil {
			return err
		}
	}
	return nil
}

// writeFileAtomic writes path through a temporary file in the same directory,
// synced, then renamed over path.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename, there is nothing to remove
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// WriteVerifyJSON writes verify.json.
func WriteVerifyJSON(w io.Writer, res *verify.Result, meta VerifyMeta) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(verifyJSON{Version: 1, Kind: "verify", Mapping: meta.Mapping, Target: meta.Target, Plan: meta.Plan,
		Started: meta.Started.UTC(), Elapsed: meta.Elapsed, OK: res.OK(), Result: res})
}

// verdict is the report's first sentence.
func verdict(res *verify.Result) string {
	var expected, missing, different, beyond, rejected int64
	for _, c := range res.Entities {
		expected, missing, different, beyond = expected+c.Expected, missing+c.Missing, different+c.Different, beyond+c.BeyondRetention
		rejected += c.Rejected
	}
	s := fmt.Sprintf("%d of %d records are in the target as the import sent them", expected-missing-different-beyond, expected)
	if res.OK() {
		s = "Everything matches: " + s
	} else {
		s = fmt.Sprintf("%d missing, %d different: %s", missing, different, s)
	}
	if rejected > 0 {
		s += fmt.Sprintf("; %d records the runs rejected (rejects.jsonl) are not in the target, as expected", rejected)
	}
	if beyond > 0 {
		s += fmt.Sprintf("; %d one-to-one messages are beyond the roaming retention and could not be read back", beyond)
	}
	return s + "."
}

func sampleText(res *verify.Result) string {
	if res.Sample >= 100 {
		return "every user, group and conversation"
	}
	return fmt.Sprintf("a %g %% sample of users, groups and conversations (by a hash of their ids: the same sample every time)", res.Sample)
}

// WriteVerifyMarkdown writes verify.md.
func WriteVerifyMarkdown(w io.Writer, res *verify.Result, meta VerifyMeta) error {
	var b bytes.Buffer
	b.WriteString("# immigrate verify\n\n")
	fmt.Fprintf(&b, "Mapping `%s`, target %s, plan `%s`. Verified %s, started %s, took %s.\n\n",
		meta.Mapping, meta.Target, meta.Plan, sampleText(res), meta.Started.UTC().Format(time.RFC3339), meta.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "**%s**\n\n", verdict(res))
	b.WriteString("## Entities\n\nexpected = present + missing + different + beyond retention; rejected are records the runs rejected (rejects.jsonl) that the target does not hold, not expected.\n\n")
	t := newTable("entity", "expected ", "present ", "missing ", "different ", "beyond retention ", "rejected ")
	for _, c := range res.Entities {
		t.add(string(c.Entity), num(c.Expected), num(c.Present), num(c.Missing), num(c.Different), num(c.BeyondRetention), num(c.Rejected))
	}
	if err := t.write(&b); err != nil {
		return err
	}
	if len(res.Warnings) > 0 {
		b.WriteString("\n## Warnings\n\n")
		for _, s := range res.Warnings {
			fmt.Fprintf(&b, "- %s\n", s)
		}
	}
	b.WriteString("\n## Findings\n\n")
	if len(res.Findings) == 0 {
		b.WriteString("None.\n")
	} else {
		if n := len(res.Findings); n > maxMarkdownFindings || res.FindingsDropped > 0 {
			fmt.Fprintf(&b, "The first %d of %d; %s has %d.\n\n", min(n, maxMarkdownFindings), int64(n)+res.FindingsDropped, VerifyJSONFile, n)
		}
		ft := newTable("entity", "finding", "origin", "legacy id", "target", "detail")
		for _, f := range res.Findings[:min(len(res.Findings), maxMarkdownFindings)] {
			ft.add(string(f.Entity), findingName(f), f.Origin, f.LegacyID, f.Target, f.Detail)
		}
		if err := ft.write(&b); err != nil {
			return err
		}
	}
	if len(res.Calls) > 0 {
		b.WriteString("\n## Calls\n\n")
		ct := newTable("API", "calls ")
		for _, n := range slices.Sorted(maps.Keys(res.Calls)) {
			ct.add(n, num(res.Calls[n]))
		}
		if err := ct.write(&b); err != nil {
			return err
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func findingName(f verify.Finding) string {
	if len(f.Fields) == 0 {
		return f.Kind
	}
	return f.Kind + ": " + strings.Join(f.Fields, ", ")
}

// verifyBar is one entity's bar in the page's chart: present, beyond retention,
// different and missing as shares of the expected records.
type verifyBar struct {
	Entity                              string
	Counts                              verify.Counts
	Present, Beyond, Different, Missing float64 // widths in px
	BeyondX, DifferentX, MissingX       float64
}

// WriteVerifyHTML writes verify.html: the verdict, a bar per entity and the tables,
// as inline SVG and HTML: no scripts, nothing downloaded.
func WriteVerifyHTML(w io.Writer, res *verify.Result, meta VerifyMeta) error {
	const width = 600.0
	var bars []verifyBar
	for _, c := range res.Entities {
		b := verifyBar{Entity: string(c.Entity), Counts: c}
		if c.Expected > 0 {
			unit := width / float64(c.Expected)
			b.Present, b.Beyond = float64(c.Present)*unit, float64(c.BeyondRetention)*unit
			b.Different, b.Missing = float64(c.Different)*unit, float64(c.Missing)*unit
		}
		b.BeyondX = b.Present
		b.DifferentX = b.BeyondX + b.Beyond
		b.MissingX = b.DifferentX + b.Different
		bars = append(bars, b)
	}
	findings := res.Findings[:min(len(res.Findings), maxMarkdownFindings)]
	return verifyHTML.Execute(w, map[string]any{
		"Meta": meta, "Started": meta.Started.UTC().Format(time.RFC3339), "Elapsed": meta.Elapsed.Round(time.Millisecond).String(),
		"Verdict": verdict(res), "OK": res.OK(), "Sample": sampleText(res), "Bars": bars, "W": width, "H": 28 * len(bars),
		"Warnings": res.Warnings, "Findings": findings, "More": len(res.Findings) - len(findings) + int(res.FindingsDropped),
	})
}

var verifyHTML = template.Must(template.New("verify").Funcs(template.FuncMap{
	"name": findingName,
	"y":    func(i int) int { return 28 * i },
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>immigrate verify</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th:first-child,td:first-child{text-align:left}td.l{text-align:left}.ok{color:#2ca02c}.bad{color:#d62728}</style>
</head><body>
<h1>immigrate verify</h1>
<p>Mapping <code>{{.Meta.Mapping}}</code>, target {{.Meta.Target}}, plan <code>{{.Meta.Plan}}</code>. Verified {{.Sample}}; started {{.Started}}, took {{.Elapsed}}.</p>
<p class="{{if .OK}}ok{{else}}bad{{end}}"><strong>{{.Verdict}}</strong></p>
<h2>Entities</h2>
<svg width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" style="overflow:visible;margin-left:9em">
{{range $i, $b := .Bars}}<g transform="translate(0,{{y $i}})"><text x="-8" y="15" font-size="12" text-anchor="end">{{$b.Entity}}</text>
<rect width="{{$b.Present}}" height="20" fill="#2ca02c"><title>present {{$b.Counts.Present}}</title></rect>
<rect x="{{$b.BeyondX}}" width="{{$b.Beyond}}" height="20" fill="#bbbbbb"><title>beyond retention {{$b.Counts.BeyondRetention}}</title></rect>
<rect x="{{$b.DifferentX}}" width="{{$b.Different}}" height="20" fill="#ff7f0e"><title>different {{$b.Counts.Different}}</title></rect>
<rect x="{{$b.MissingX}}" width="{{$b.Missing}}" height="20" fill="#d62728"><title>missing {{$b.Counts.Missing}}</title></rect></g>
{{end}}</svg>
<p><span style="color:#2ca02c">&#9632;</span> present <span style="color:#bbbbbb">&#9632;</span> beyond retention <span style="color:#ff7f0e">&#9632;</span> different <span style="color:#d62728">&#9632;</span> missing</p>
<table><tr><th>entity</th><th>expected</th><th>present</th><th>missing</th><th>different</th><th>beyond retention</th><th>rejected</th></tr>
{{range .Bars}}<tr><td>{{.Entity}}</td><td>{{.Counts.Expected}}</td><td>{{.Counts.Present}}</td><td>{{.Counts.Missing}}</td><td>{{.Counts.Different}}</td><td>{{.Counts.BeyondRetention}}</td><td>{{.Counts.Rejected}}</td></tr>
{{end}}</table>
{{if .Warnings}}<h2>Warnings</h2><ul>{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Findings</h2>
{{if .Findings}}<table><tr><th>entity</th><th>finding</th><th>origin</th><th>legacy id</th><th>target</th><th>detail</th></tr>
{{range .Findings}}<tr><td>{{.Entity}}</td><td class="l">{{name .}}</td><td class="l">{{.Origin}}</td><td class="l">{{.LegacyID}}</td><td class="l">{{.Target}}</td><td class="l">{{.Detail}}</td></tr>
{{end}}</table>{{if .More}}<p>{{.More}} more in verify.json.</p>{{end}}{{else}}<p>None.</p>{{end}}
</body></html>
`))
