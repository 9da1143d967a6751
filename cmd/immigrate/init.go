package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/internal/atomicfile"
	"github.com/immigrate/immigrate/mappings"
)

// presetSourceVar is the variable every preset reads its source URL from, so
// that a written mapping never holds the URL (it may hold a password).
const presetSourceVar = "IMMIGRATE_SOURCE_PG_URL"

func initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "write a starting mapping for a known legacy platform (a preset)",
		Description: "Writes the preset NAME (mappings/presets/NAME.yaml, embedded in the binary) to --out.\n" +
			"With --pg it first checks, on that database, that every entity query of the preset runs\n" +
			"(its tables and columns exist and fit) and counts its rows; the URL itself is not written:\n" +
			"the mapping reads it from $" + presetSourceVar + ".",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "preset", Usage: "the preset to write (see --list)"},
			&cli.BoolFlag{Name: "list", Usage: "list the presets and exit"},
			&cli.StringFlag{Name: "pg", Usage: "a PostgreSQL URL of the source database to check the preset against"},
			&cli.StringFlag{Name: "out", Usage: "the mapping file to write (default: NAME.yaml)"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite --out if it exists"},
		},
		Action: initAction,
	}
}

func initAction(c *cli.Context) error {
	w := c.App.Writer
	if c.Bool("list") {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, name := range mappings.PresetNames() {
			data, _ := mappings.Preset(name)
			fmt.Fprintf(tw, "%s\t%s\n", name, mappings.PresetSummary(data))
		}
		return tw.Flush()
	}
	name := c.String("preset")
	if name == "" {
		return usagef("init: --preset NAME is required; the presets are %s (--list describes them)", strings.Join(mappings.PresetNames(), ", "))
	}
	data, err := mappings.Preset(name)
	if err != nil {
		return usagef("init: %w", err)
	}
	out := c.String("out")
	if out == "" {
		out = name + ".yaml"
	}
	if !c.Bool("force") {
		if _, err := os.Lstat(out); err == nil {
			return usagef("init: %s exists; --force overwrites it", out)
		}
	}

	var problems []extract.EntityProbe
	if pg := c.String("pg"); pg != "" {
		cfg, err := presetSource(name, data, pg)
		if err != nil {
			return err
		}
		probes, err := extract.ProbePostgres(c.Context, cfg)
		if err != nil {
			return fmt.Errorf("init: check the preset against --pg: %w", err)
		}
		fmt.Fprintf(w, "checked preset %s against the --pg database:\n", name)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "entity\trows\t\n")
		for _, p := range probes {
			if p.Err != nil {
				fmt.Fprintf(tw, "%s\tquery fails\t\n", p.Entity)
				problems = append(problems, p)
				continue
			}
			fmt.Fprintf(tw, "%s\t%d\t\n", p.Entity, p.Rows)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if err := writeMapping(out, data, c.Bool("force")); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	fmt.Fprintf(w, "wrote %s (preset %s)\n", out, name)
	printNextSteps(w, out, data)
	if len(problems) > 0 {
		var msgs []string
		for _, p := range problems {
			msgs = append(msgs, "  "+p.Err.Error())
		}
		return usagef("init: %d of the preset's entity queries do not run on the --pg database; edit them in %s:\n%s",
			len(problems), out, strings.Join(msgs, "\n"))
	}
	return nil
}

// presetSource is the preset's PostgreSQL source with its URL the --pg one.
// The preset's other variables (the target's credentials, …) need not be set:
// only the entity queries matter here.
func presetSource(name string, data []byte, pg string) (extract.PostgresConfig, error) {
	lookup := func(v string) (string, bool) {
		if v == presetSourceVar {
			return pg, true
		}
		if s, ok := os.LookupEnv(v); ok {
			return s, true
		}
		return "1400000000", true // fits a number or a string; not used here
	}
	f, err := mappings.Parse(data, name+".yaml", lookup)
	if err != nil {
		return extract.PostgresConfig{}, fmt.Errorf("init: preset %s: %w", name, err)
	}
	cfg, ok := f.PostgresConfig()
	if !ok || cfg.URL != pg {
		return extract.PostgresConfig{}, usagef("init: preset %s does not read a PostgreSQL source from ${%s}", name, presetSourceVar)
	}
	return cfg, nil
}

// writeMapping writes data to path: atomically over an existing file with
// force, else only if no file is there (O_EXCL, so a file created meanwhile is
// not overwritten either).
func writeMapping(path string, data []byte, force bool) error {
	if force {
		return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		})
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return &usageError{fmt.Errorf("%s exists; --force overwrites it", path)}
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// printNextSteps names the variables the written mapping reads, which of them
// are not set yet, and the command to run next.
func printNextSteps(w io.Writer, out string, data []byte) {
	vars := mappings.EnvReferences(data)
	if len(vars) > 0 {
		fmt.Fprintln(w, "it reads these environment variables (export them before validate; the file holds no secret):")
		for _, v := range vars {
			state := "set"
			if _, ok := os.LookupEnv(v); !ok {
				state = "NOT SET"
			}
			hint := ""
			if v == presetSourceVar {
				hint = " (the source database URL, e.g. the --pg URL)"
			}
			fmt.Fprintf(w, "  %s: %s%s\n", v, state, hint)
		}
	}
	fmt.Fprintf(w, "next: read its header, then: immigrate validate -c %s\n", out)
}
