package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/migration"
)

// Exit codes (design §2; documented in the README).
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitRejected    = 3
	exitInterrupted = 130
)

// usageError marks a usage or configuration problem (exit code 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// errRejected reports that a command finished but some records were rejected
// (exit code 3). The command has already printed where the rejects are.
var errRejected = errors.New("finished, but records were rejected")

// newApp builds the CLI. Tests run it in-process with their own writers.
func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "immigrate",
		Usage: "migrate a legacy chat platform into Tencent Cloud Chat (TIM)",
		Description: "Reads users, groups, members and messages from PostgreSQL or CSV, validates them against\n" +
			"the TIM import contract, and imports them at the API's rate limits, resumably.",
		Writer:    stdout,
		ErrWriter: stderr,
		// Errors are printed and mapped to exit codes once, in run.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   onUsageError,
		HideVersion:    true,
		Action:         appAction,
		Commands: []*cli.Command{
			validateCommand(),
			generateCommand(),
			runCommand(),
			statusCommand(),
			verifyCommand(),
			sandboxCommand(),
			usersigCommand(),
			initCommand(),
		},
	}
	for _, cmd := range app.Commands {
		cmd.OnUsageError = onUsageError
	}
	return app
}

// appAction runs when no command matched: help without arguments, else a usage
// error naming the unknown command (urfave/cli's default action would answer
// "No help topic" with exit code 3, which README reserves for rejected records).
func appAction(c *cli.Context) error {
	if !c.Args().Present() {
		return cli.ShowAppHelp(c)
	}
	names := make([]string, 0, len(c.App.Commands))
	for _, cmd := range c.App.VisibleCommands() {
		names = append(names, cmd.Name)
	}
	return usagef("unknown command %q; the commands are %s", c.Args().First(), strings.Join(names, ", "))
}

// onUsageError marks flag-parsing failures as usage errors (exit code 2). Commands
// check their required flags themselves (usagef), because urfave/cli's
// required-flag error cannot be told apart from other errors.
func onUsageError(_ *cli.Context, err error, _ bool) error {
	return &usageError{err}
}

// run executes the CLI and maps its outcome to an exit code; the one place where
// errors become exit codes (style.md, restic's main).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := newApp(stdout, stderr).RunContext(ctx, args)
	return exitCode(ctx, err, stderr)
}

func exitCode(ctx context.Context, err error, stderr io.Writer) int {
	var (
		ue *usageError
		ce *migration.ConfigError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errRejected), errors.Is(err, errDifferent):
		fmt.Fprintln(stderr, "immigrate:", err)
		return exitRejected
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "immigrate: interrupted")
		return exitInterrupted
	case errors.As(err, &ue), errors.As(err, &ce), errors.Is(err, extract.ErrUnsorted):
		// A CSV file declared sorted that is not: the mapping's sorted is wrong.
		fmt.Fprintln(stderr, "immigrate:", err)
		return exitUsage
	default:
		fmt.Fprintln(stderr, "immigrate:", err)
		return exitError
	}
}

// outputDir is the command's --out, else the mapping's output, created if needed.
func outputDir(c *cli.Context, f *mappings.File) (string, error) {
	out := c.String("out")
	if out == "" {
		out = f.Output
	}
	return out, os.MkdirAll(out, 0o755)
}
