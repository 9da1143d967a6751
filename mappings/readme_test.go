package mappings

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestReadmeDocumentsEveryKey keeps README.md in step with the parser: every key
// the file format accepts must appear in it, in backquotes.
func TestReadmeDocumentsEveryKey(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	var walk func(reflect.Type, string)
	walk = func(rt reflect.Type, path string) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Map {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || rt == scalarType {
			return
		}
		fields, names := yamlFields(rt)
		for _, n := range names {
			p := joinPath(path, n)
			keys = append(keys, p)
			walk(fields[n], p)
		}
	}
	walk(reflect.TypeOf(rawFile{}), "")
	if len(keys) < 40 {
		t.Fatalf("found only %d keys; the walk is broken", len(keys))
	}
	for _, k := range keys {
		t.Run(k, func(t *testing.T) {
			leaf := k[strings.LastIndexByte(k, '.')+1:]
			doc := string(readme)
			// A key is documented as `key`, or as the end of a path like `kinds.<kind>.element`.
			if !strings.Contains(doc, "`"+leaf+"`") && !strings.Contains(doc, "."+leaf+"`") {
				t.Errorf("README.md does not document %s", k)
			}
		})
	}
	for _, e := range Elements() {
		if !strings.Contains(string(readme), "| `"+string(e)+"` |") {
			t.Errorf("README.md has no row for element %s", e)
		}
	}
}
