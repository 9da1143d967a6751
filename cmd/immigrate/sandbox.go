package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// Defaults of the sandbox command, chosen so that a newcomer can follow the README
// without inventing credentials. They are not secrets of any real app.
const (
	defaultSandboxSDKAppID = 1400000000
	defaultSandboxKey      = "sandbox-secret-key"
	defaultSandboxAdmin    = "administrator"
)

func sandboxCommand() *cli.Command {
	return &cli.Command{
		Name:  "sandbox",
		Usage: "serve the TIM REST API emulator on loopback",
		Description: "Serves a local emulator of the Tencent Cloud Chat REST API, faithful to the vendor contract,\n" +
			"for rehearsals, demos and tests. Without --state, state is in memory only. With --state FILE it is\n" +
			"durable, like a real service's: every state-changing request is written to a journal next to FILE\n" +
			"(FILE.journal.N) and synced before it is answered, FILE gets a snapshot every --snapshot-interval\n" +
			"and on a clean shutdown, and a restart — after Ctrl-C or kill -9 — replays the journal over the\n" +
			"snapshot, so the sandbox keeps everything it confirmed. Restart it with the same options.\n" +
			"GET /_sandbox/state dumps everything imported.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Usage: "listen address (loopback only, unless --allow-remote)", Value: "127.0.0.1:8080"},
			&cli.BoolFlag{Name: "allow-remote", Usage: "allow a non-loopback listen address (plain HTTP!)"},
			&cli.Int64Flag{Name: "sdkappid", Usage: "SDKAppID the sandbox accepts", Value: defaultSandboxSDKAppID},
			&cli.StringFlag{Name: "secret-key", Usage: "secret key UserSigs must be signed with", Value: defaultSandboxKey, EnvVars: []string{"IMMIGRATE_SANDBOX_SECRET_KEY"}},
			&cli.StringSliceFlag{Name: "admin", Usage: "app admin identifier (repeatable)", Value: cli.NewStringSlice(defaultSandboxAdmin)},
			&cli.StringFlag{Name: "rate-limits", Usage: `"off", "documented" (spec §1.10), or "importmsg=200,import_group_msg=50"`, Value: "off"},
			&cli.DurationFlag{Name: "latency", Usage: "added to every answer (simulated round trip)"},
			&cli.DurationFlag{Name: "latency-jitter", Usage: "random extra latency up to this much"},
			&cli.StringFlag{Name: "faults", Usage: `fault injection, e.g. "code=60007:p=0.1,http502:p=0.05,reset:nth=50,drop:p=0.02"`},
			&cli.IntFlag{Name: "account-limit", Usage: "answer 70398 past this many accounts (100 = free edition; 0 = unlimited)"},
			&cli.BoolFlag{Name: "strict-time", Usage: "reject group messages that share their second with the group's latest (design §7 A2)"},
			&cli.StringFlag{Name: "state", Usage: "keep the state durably in this file and its journal: loaded on start, kept across crashes"},
			&cli.DurationFlag{Name: "snapshot-interval", Usage: "with --state, how often the journal is folded into the state file", Value: 30 * time.Second},
			&cli.Int64Flag{Name: "seed", Usage: "seed for fault injection and assigned IDs", Value: 1},
		},
		Action: runSandbox,
	}
}

func runSandbox(c *cli.Context) error {
	addr := c.String("addr")
	if !c.Bool("allow-remote") && !isLoopbackAddr(addr) {
		return usagef("sandbox: %s is not a loopback address; pass --allow-remote to serve it anyway", addr)
	}
	rates, err := sandbox.ParseRateLimits(c.String("rate-limits"))
	if err != nil {
		return usagef("sandbox: --rate-limits: %v", err)
	}
	faults, err := sandbox.ParseFaults(c.String("faults"))
	if err != nil {
		return usagef("sandbox: --faults: %v", err)
	}
	admins := c.StringSlice("admin")
	srv, err := sandbox.New(sandbox.Config{
		SDKAppID:      c.Int64("sdkappid"),
		SecretKey:     secret.New(c.String("secret-key")),
		Admins:        admins,
		RateLimits:    rates,
		Latency:       c.Duration("latency"),
		LatencyJitter: c.Duration("latency-jitter"),
		Faults:        faults,
		AccountLimit:  c.Int("account-limit"),
		StrictTime:    c.Bool("strict-time"),
		StateFile:     c.String("state"),
		Durable:       c.String("state") != "",
		Seed:          c.Int64("seed"),
	})
	if err != nil {
		return usagef("sandbox: %v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("sandbox: %w", err)
	}
	base := "http://" + ln.Addr().String()
	w := c.App.ErrWriter
	fmt.Fprintf(w, "sandbox: serving the TIM REST API at %s (sdkappid %d, admin %s)\n", base, c.Int64("sdkappid"), admins[0])
	fmt.Fprintf(w, "sandbox: get a UserSig with: immigrate usersig --sdkappid %d --identifier %s --secret-key \"$KEY\"\n", c.Int64("sdkappid"), admins[0])
	fmt.Fprintf(w, "sandbox: state dump at %s/_sandbox/state; Ctrl-C stops\n", base)

	path := c.String("state")
	if path != "" {
		fmt.Fprintf(w, "sandbox: state kept durably in %s (journal %s.journal.*)\n", path, path)
	}

	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	snapCtx, stopSnapshots := context.WithCancel(c.Context)
	snapDone := make(chan struct{})
	go func() {
		defer close(snapDone)
		if path != "" {
			snapshotEvery(snapCtx, srv, c.Duration("snapshot-interval"), w)
		}
	}()
	var serveErr error
	select {
	case err := <-errc:
		serveErr = fmt.Errorf("sandbox: %w", err)
	case <-c.Context.Done():
	}
	stopSnapshots()
	<-snapDone
	if serveErr == nil {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			serveErr = fmt.Errorf("sandbox: shutdown: %w", err)
		}
	}
	// Close writes the final snapshot; after a failed shutdown too, since every
	// request it journaled is in it.
	if err := srv.Close(); err != nil {
		return errors.Join(serveErr, fmt.Errorf("sandbox: save state: %w", err))
	}
	if serveErr != nil {
		return serveErr
	}
	if path != "" {
		fmt.Fprintf(w, "sandbox: state saved to %s\n", path)
	}
	// A clean, requested shutdown is success, not an interruption.
	return nil
}

// snapshotEvery folds the journal into the state file every interval until ctx
// ends. A failed snapshot is reported and retried at the next tick: the journal
// still holds everything.
func snapshotEvery(ctx context.Context, srv *sandbox.Server, interval time.Duration, w io.Writer) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := srv.Snapshot(); err != nil {
				fmt.Fprintf(w, "sandbox: %v\n", err)
			}
		}
	}
}

// isLoopbackAddr reports whether a listen address binds only to loopback.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
