package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim"
)

// runCLI runs the CLI in-process and returns its exit code and outputs. It is
// runCLIParallel: urfave/cli's setup writes package state, so any test may run
// in parallel with another that runs the CLI.
func runCLI(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	return runCLIWith(t, ctx, nil, args...)
}

func TestUsersigCommand(t *testing.T) {
	code, out, errOut := runCLI(t, context.Background(), "usersig", "--sdkappid", "1400000001", "--secret-key", "k3y-s3cret", "--identifier", "admin", "--expire", "1h")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	sig := strings.TrimSpace(out)
	if err := tencentim.VerifyUserSig(1400000001, secret.New("k3y-s3cret"), "admin", sig, time.Now()); err != nil {
		t.Fatalf("printed UserSig does not verify: %v", err)
	}
	if err := tencentim.VerifyUserSig(1400000001, secret.New("k3y-s3cret"), "admin", sig, time.Now().Add(2*time.Hour)); !errors.Is(err, tencentim.ErrSigExpired) {
		t.Fatalf("UserSig with --expire 1h still valid after 2h: %v", err)
	}
	if strings.Contains(errOut, "k3y-s3cret") {
		t.Fatalf("secret key on stderr: %q", errOut)
	}
}

func TestUsersigReadsKeyFromEnv(t *testing.T) {
	t.Setenv("TIM_SECRET_KEY", "from-env")
	code, out, errOut := runCLI(t, context.Background(), "usersig", "--sdkappid", "7")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if err := tencentim.VerifyUserSig(7, secret.New("from-env"), "administrator", strings.TrimSpace(out), time.Now()); err != nil {
		t.Fatalf("UserSig signed with $TIM_SECRET_KEY does not verify: %v", err)
	}
}

func TestExitCodes(t *testing.T) {
	t.Setenv("TIM_SECRET_KEY", "")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"unknown command", []string{"valdiate", "-c", "m.yaml"}, exitUsage},
		{"unknown flag", []string{"usersig", "--nope"}, exitUsage},
		{"missing required flag", []string{"usersig"}, exitUsage},
		{"no secret key", []string{"usersig", "--sdkappid", "1"}, exitUsage},
		{"non-loopback sandbox", []string{"sandbox", "--addr", "0.0.0.0:0"}, exitUsage},
		{"bad faults", []string{"sandbox", "--addr", "127.0.0.1:0", "--faults", "bogus"}, exitUsage},
		{"bad rate limits", []string{"sandbox", "--addr", "127.0.0.1:0", "--rate-limits", "nosuchapi=3"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, context.Background(), tt.args...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.want, errOut)
			}
		})
	}
}

func TestUnknownCommandNamesIt(t *testing.T) {
	code, _, errOut := runCLI(t, context.Background(), "valdiate")
	if code != exitUsage {
		t.Fatalf("exit %d, want %d (stderr %q)", code, exitUsage, errOut)
	}
	if !strings.Contains(errOut, `unknown command "valdiate"`) || !strings.Contains(errOut, "validate,") {
		t.Fatalf("stderr %q does not name the unknown command and the one meant", errOut)
	}
}

func TestSandboxCommandServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"immigrate", "sandbox", "--addr", "127.0.0.1:0"}, &bytes.Buffer{}, &stderr)
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("sandbox exit %d after a requested shutdown, stderr %q", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox did not stop after cancellation")
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:80": true, "localhost:1": true,
		"0.0.0.0:8080": false, ":8080": false, "10.0.0.1:80": false, "example.com:80": false, "garbage": false,
	} {
		if got := isLoopbackAddr(addr); got != want {
			t.Errorf("isLoopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestReadmeDocumentsEveryFlag keeps README.md's command table in step with the
// CLI: every flag of every command is named there, as `--flag…`.
func TestReadmeDocumentsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range newApp(io.Discard, io.Discard).Commands {
		for _, fl := range cmd.Flags {
			documented := false
			for _, name := range fl.Names() {
				dash := "--"
				if len(name) == 1 {
					dash = "-"
				}
				if regexp.MustCompile(`(^|[^-\w])` + dash + regexp.QuoteMeta(name) + `([^-\w]|$)`).Match(readme) {
					documented = true
				}
			}
			if !documented {
				t.Errorf("README.md does not document `immigrate %s --%s`", cmd.Name, fl.Names()[0])
			}
		}
	}
}
