package migration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// Target is the TIM application a run imports into: a client, and for
// `sandbox: embedded` the in-process emulator behind it.
type Target struct {
	Client  *tencentim.Client
	Sandbox *sandbox.Server // nil unless embedded
	Close   func() error
}

// OpenTarget builds the client of the mapping's target. For the embedded sandbox
// it starts the emulator on a loopback port first, with a secret key made up for
// this run when the mapping gives none.
func OpenTarget(f *mappings.File) (*Target, error) {
	cfg := tencentim.Config{
		SDKAppID:  f.Target.SDKAppID,
		SecretKey: f.Target.SecretKey,
		Admin:     f.Target.Admin,
		Region:    f.Target.Region,
		Endpoint:  f.Target.Endpoint,
		Timeout:   f.Target.Timeout,
	}
	// The two message phases each keep load.concurrency calls in flight, and a
	// batch phase (accounts, groups, members, unread) as many again, all at once:
	// a pool of only load.concurrency connections would queue them, and at a
	// 200 ms round trip cap the whole run below the APIs' combined rate.
	cfg.MaxConns = 3 * f.Load.Concurrency
	if f.Target.Sandbox != mappings.SandboxEmbedded {
		c, err := tencentim.NewClient(cfg)
		if err != nil {
			return nil, configf("target: %v", err)
		}
		return &Target{Client: c, Close: func() error { return nil }}, nil
	}
	if cfg.SecretKey.IsZero() {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		cfg.SecretKey = secret.New(hex.EncodeToString(b[:]))
	}
	srv, err := sandbox.New(sandbox.Config{
		SDKAppID:     cfg.SDKAppID,
		SecretKey:    cfg.SecretKey,
		Admins:       []string{cfg.Admin},
		AccountLimit: f.Target.AccountLimit,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded sandbox: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("embedded sandbox: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	cfg.Endpoint = "http://" + ln.Addr().String()
	cfg.Region = ""
	c, err := tencentim.NewClient(cfg)
	if err != nil {
		hs.Close()
		return nil, fmt.Errorf("embedded sandbox: %w", err)
	}
	return &Target{Client: c, Sandbox: srv, Close: func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}}, nil
}

// WriteSandboxHolds says what the embedded sandbox holds after the run.
func (tg *Target) WriteSandboxHolds(w io.Writer) {
	st := tg.Sandbox.State()
	msgs, c2c := 0, 0
	for _, g := range st.Groups {
		msgs += len(g.Messages)
	}
	for _, conv := range st.C2C {
		c2c += len(conv.Messages)
	}
	fmt.Fprintf(w, "\nembedded sandbox now holds %d accounts, %d groups, %d group messages, %d one-to-one messages\n",
		len(st.Accounts), len(st.Groups), msgs, c2c)
}
