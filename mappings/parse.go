package mappings

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Defaults applied by Parse.
const (
	DefaultAdmin  = "administrator"
	DefaultOutput = "immigrate-out"
	// CheckpointFile is the SQLite file's name inside Output when no checkpoint
	// is configured.
	CheckpointFile = "checkpoint.db"
)

// Load reads the mapping file at path, expands ${ENV} references from the
// process environment, and returns the validated effective configuration (see
// Parse). It does not require the files the mapping refers to to exist: the
// extractor checks them.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mappings: %w", err)
	}
	return Parse(data, path, os.LookupEnv)
}

// Parse reads a mapping file's content. name is used in error messages and its
// directory resolves relative paths; env looks up ${NAME} references (nil: any
// reference is an error). It parses strictly — unknown keys, repeated keys and
// values of the wrong type are errors naming their line — applies the defaults,
// then runs Validate. Every problem found is returned, joined; each is an *Error.
func Parse(data []byte, name string, env func(string) (string, bool)) (*File, error) {
	root, err := parseDocument(data, name)
	if err != nil {
		return nil, err
	}
	lines := make(map[string]int)
	structural := &errorList{file: name, lines: lines}
	checkTree(root, reflect.TypeOf(rawFile{}), "", structural, lines)
	// The walk above is the strict check with good messages; KnownFields is the
	// backstop, so that nothing the walk might miss is silently ignored. After
	// structural problems the values are still decoded and converted, leniently
	// (the walk has already reported every key and shape the decoder would
	// refuse), so that one run reports wrong values along with wrong keys.
	var raw rawFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(structural.err() == nil)
	if err := dec.Decode(&raw); err != nil && structural.err() == nil {
		return nil, decodeError(name, err)
	}
	dir := "."
	if name != "" {
		dir = filepath.Dir(name)
	}
	c := &converter{errorList: errorList{file: name, lines: lines}, env: env, dir: dir}
	f := c.file(&raw)
	if err := errors.Join(structural.err(), c.err()); err != nil {
		return nil, err
	}
	f.name, f.lines = name, lines
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// parseDocument returns the root mapping node of the single YAML document.
func parseDocument(data []byte, name string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: "the mapping file is empty"}
		}
		return nil, syntaxError(name, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(name, err)
	default:
		return nil, &Error{File: name, Line: extra.Line, Msg: "only one YAML document is allowed (remove the second ---)"}
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, &Error{File: name, Msg: "the mapping file is empty"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: root.Line, Msg: "the mapping file must be a mapping of keys, got " + kindName(root)}
	}
	return root, nil
}

// decodeError turns the decoder's error, whose messages already carry
// "line N", into *Error values.
func decodeError(name string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return syntaxError(name, err)
	}
	errs := make([]error, 0, len(te.Errors))
	for _, m := range te.Errors {
		e := &Error{File: name, Msg: m}
		if rest, ok := strings.CutPrefix(m, "line "); ok {
			if n, msg, ok := strings.Cut(rest, ": "); ok {
				if ln, err := strconv.Atoi(n); err == nil {
					e.Line, e.Msg = ln, msg
				}
			}
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}
