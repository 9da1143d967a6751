// Package crashtest holds the crash tests of `immigrate run` (design §4, §9): they
// build the immigrate binary, serve `immigrate sandbox` in separate processes, kill
// real `immigrate run` processes with SIGKILL at random moments, restart them until
// they finish, and compare the sandbox's final state with an uninterrupted run's.
// They also cover Ctrl-C, a fatal error, a refused resume and --fresh.
//
// `go test ./...` runs the short version (at least 10 kills per scenario). The long
// version, with at least 100 kills per scenario:
//
//	IMMIGRATE_CRASH_KILLS=100 go test -run TestCrash -v -timeout 60m ./cmd/immigrate/crashtest
//
// IMMIGRATE_CRASH_SEED fixes the random kill moments to reproduce a failure (the
// seed of every run is logged).
package crashtest
