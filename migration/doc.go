// Package migration is one migration of a mapping file, as the commands run it:
// the mapping turned into a source reader, a transformer and validate options; the
// plan a run imports (reused from an earlier run while the source is unchanged,
// else written by one validate pass); the checkpoint a run begins, resumes and
// ends on; and the target it imports into. cmd/immigrate only parses flags and
// prints.
package migration

import "fmt"

// ConfigError is a usage or configuration problem: the mapping, a flag or the
// source's layout is wrong (exit code 2). The message says what to fix.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func configf(format string, args ...any) error {
	return &ConfigError{fmt.Errorf(format, args...)}
}
