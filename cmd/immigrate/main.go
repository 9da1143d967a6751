// Command immigrate migrates a legacy chat platform into Tencent Cloud Chat through
// its REST import APIs. See the README for the commands and exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C cancels the run, which then saves its checkpoint; restoring
	// the default handling lets a second Ctrl-C end the process at once if saving
	// hangs.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
