package secret

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

const testKey = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"

type holder struct {
	Name   string
	Key    Secret
	hidden Secret
	nested struct{ key Secret }
}

func TestRedaction(t *testing.T) {
	key := New(testKey)
	h := holder{Name: "x", Key: key, hidden: key}
	h.nested.key = key

	outputs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		outputs["secret "+verb] = fmt.Sprintf(verb, key)
		outputs["holder "+verb] = fmt.Sprintf(verb, h)
		outputs["holder ptr "+verb] = fmt.Sprintf(verb, &h)
	}
	for name, v := range map[string]any{"secret": key, "holder": h, "struct": struct{ SecretKey Secret }{key}} {
		js, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outputs["json "+name] = string(js)
	}
	txt, err := key.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	outputs["text"] = string(txt)

	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(out, testKey) || strings.Contains(out, testKey[:16]) {
				t.Errorf("output leaks the key: %s", out)
			}
		})
	}
	if got := fmt.Sprint(key); got != "[redacted]" {
		t.Errorf("Sprint = %q, want [redacted]", got)
	}
	if got, _ := json.Marshal(key); string(got) != `"[redacted]"` {
		t.Errorf("json = %s", got)
	}
	if key.Reveal() != testKey {
		t.Error("Reveal lost the key")
	}
	if !New("").IsZero() || !(Secret{}).IsZero() || key.IsZero() {
		t.Error("IsZero is wrong")
	}
	if (Secret{}).Reveal() != "" || fmt.Sprint(Secret{}) != "" {
		t.Error("zero Secret should reveal and print as empty")
	}
}
