package mappings

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// Error is one problem in a mapping file. Parse, Load and Validate return every
// problem they find, joined with errors.Join; callers take them apart with
// errors.As (the first) or by unwrapping the join (all of them).
type Error struct {
	File string // the mapping file's name as given to Parse/Load; may be empty
	Line int    // 1-based line in the file; 0 when unknown (e.g. a File built in code)
	Path string // the key path, e.g. "target.sdkappid" or "entities.users.columns.nick"
	Msg  string // what is wrong and, where cheap, what would be right
}

// Error renders "csv.yaml: line 12: target.sdkappid: must be > 0".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors returns the individual *Error values inside err (a single *Error or a
// join of them, as Parse, Load and Validate return), in order.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		var e *Error
		if errors.As(err, &e) && e == err {
			out = append(out, e)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				walk(inner)
			}
			return
		}
		if errors.As(err, &e) {
			out = append(out, e)
		}
	}
	walk(err)
	return out
}

// errorList collects problems while a file is converted or validated.
type errorList struct {
	file  string
	lines map[string]int
	errs  []error
}

// add records a problem at path, taking the line from the key-path index. A key
// that is absent (say, a required one) is reported at its nearest present parent,
// so the error still points into the file.
func (l *errorList) add(path, msg string) {
	l.errs = append(l.errs, &Error{File: l.file, Line: l.lineOf(path), Path: path, Msg: msg})
}

func (l *errorList) lineOf(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if n, ok := l.lines[p]; ok {
			return n
		}
	}
	return 0
}

// parentPath strips the last key of a path built by joinPath.
func parentPath(p string) string {
	if strings.HasSuffix(p, "\"]") {
		if i := strings.LastIndex(p, "[\""); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// addAt records a problem at an explicit line (used where the line is more precise
// than the key's, e.g. inside a multi-line value).
func (l *errorList) addAt(line int, path, msg string) {
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Path: path, Msg: msg})
}

func (l *errorList) err() error { return errors.Join(l.errs...) }

// yamlLine pulls the line number out of a go.yaml.in/yaml syntax error
// ("yaml: line 3: did not find expected key"), which is a plain string.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func syntaxError(file string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: n, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}
