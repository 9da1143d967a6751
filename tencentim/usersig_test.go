package tencentim

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/secret"
)

const (
	testAppID = int64(1400000001)
	testKey   = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
	testAdmin = "administrator"
)

var testSignTime = time.Unix(1700000000, 0)

// decodeSigForTest undoes the UserSig encoding with its own code, independent of
// decodeSigDoc, and returns the JSON document as a generic map.
func decodeSigForTest(t *testing.T, sig string) map[string]any {
	t.Helper()
	std := strings.NewReplacer("*", "+", "-", "/", "_", "=").Replace(sig)
	raw, err := base64.StdEncoding.DecodeString(std)
	if err != nil {
		t.Fatalf("base64: %v", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("zlib: %v", err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatalf("json: %v", err)
	}
	return doc
}

// encodeSigForTest builds a UserSig from an arbitrary document, for tampering.
func encodeSigForTest(t *testing.T, doc any) string {
	t.Helper()
	js, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return encodeRawForTest(t, js)
}

func encodeRawForTest(t *testing.T, payload []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("+", "*", "/", "-", "=", "_").Replace(base64.StdEncoding.EncodeToString(buf.Bytes()))
}

func TestUserSigVector(t *testing.T) {
	const expire = 86400
	sig, err := GenUserSig(testAppID, secret.New(testKey), testAdmin, testSignTime, expire*time.Second)
	if err != nil {
		t.Fatal(err)
	}

	// The four lines of spec §2.2 step 2, each ending in \n, HMAC-SHA256 with the key
	// string's bytes, standard base64 (step 3).
	content := "TLS.identifier:" + testAdmin + "\n" +
		"TLS.sdkappid:" + strconv.FormatInt(testAppID, 10) + "\n" +
		"TLS.time:1700000000\n" +
		"TLS.expire:86400\n"
	mac := hmac.New(sha256.New, []byte(testKey))
	mac.Write([]byte(content))
	wantSig := base64.StdEncoding.EncodeToString(mac.Sum(nil))

	doc := decodeSigForTest(t, sig)
	want := map[string]any{
		"TLS.ver":        "2.0",
		"TLS.identifier": testAdmin,
		"TLS.sdkappid":   float64(testAppID), // a JSON number, not a string
		"TLS.time":       float64(1700000000),
		"TLS.expire":     float64(expire),
		"TLS.sig":        wantSig,
	}
	if len(doc) != len(want) {
		t.Errorf("document has keys %v, want exactly %d keys (no TLS.userbuf)", keys(doc), len(want))
	}
	for k, w := range want {
		t.Run(k, func(t *testing.T) {
			got, ok := doc[k]
			if !ok {
				t.Fatalf("missing %s", k)
			}
			if got != w {
				t.Errorf("%s = %#v (%T), want %#v (%T)", k, got, got, w, w)
			}
		})
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestUserSigRoundTrip(t *testing.T) {
	key := secret.New(testKey)
	for _, id := range []string{testAdmin, "a", "user_01-x", strings.Repeat("z", 32), "中文"} {
		t.Run(id, func(t *testing.T) {
			sig, err := GenUserSig(testAppID, key, id, testSignTime, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyUserSig(testAppID, key, id, sig, testSignTime.Add(30*time.Minute)); err != nil {
				t.Fatalf("verify: %v", err)
			}
			claims, hmacB64, err := DecodeUserSig(sig)
			if err != nil {
				t.Fatal(err)
			}
			want := UserSigClaims{Identifier: id, SDKAppID: testAppID, Time: testSignTime, Expire: time.Hour}
			if claims != want {
				t.Errorf("claims = %+v, want %+v", claims, want)
			}
			if !claims.Expires().Equal(testSignTime.Add(time.Hour)) {
				t.Errorf("Expires = %v", claims.Expires())
			}
			if hmacB64 == "" {
				t.Error("DecodeUserSig returned no signature")
			}
		})
	}
}

func TestVerifyUserSigFailures(t *testing.T) {
	key := secret.New(testKey)
	good, err := GenUserSig(testAppID, key, testAdmin, testSignTime, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	doc := decodeSigForTest(t, good)
	tampered := func(field string, v any) string {
		d := map[string]any{}
		for k, x := range doc {
			d[k] = x
		}
		d[field] = v
		return encodeSigForTest(t, d)
	}
	expiry := testSignTime.Add(time.Hour)

	tests := []struct {
		name     string
		appID    int64
		key      secret.Secret
		id       string
		sig      string
		now      time.Time
		want     error
		wantNone bool
	}{
		{name: "valid", appID: testAppID, key: key, id: testAdmin, sig: good, now: testSignTime, wantNone: true},
		{name: "valid at the last second", appID: testAppID, key: key, id: testAdmin, sig: good, now: expiry, wantNone: true},
		{name: "expired", appID: testAppID, key: key, id: testAdmin, sig: good, now: expiry.Add(time.Second), want: ErrSigExpired},
		{name: "wrong identifier", appID: testAppID, key: key, id: "someone", sig: good, now: testSignTime, want: ErrSigIdentifier},
		{name: "wrong sdkappid", appID: testAppID + 1, key: key, id: testAdmin, sig: good, now: testSignTime, want: ErrSigSDKAppID},
		{name: "wrong key", appID: testAppID, key: secret.New("other"), id: testAdmin, sig: good, now: testSignTime, want: ErrSigSignature},
		{name: "tampered signature", appID: testAppID, key: key, id: testAdmin, sig: tampered("TLS.sig", base64.StdEncoding.EncodeToString(make([]byte, 32))), now: testSignTime, want: ErrSigSignature},
		{name: "tampered expiry", appID: testAppID, key: key, id: testAdmin, sig: tampered("TLS.expire", 1e9), now: testSignTime, want: ErrSigSignature},
		{name: "tampered identifier", appID: testAppID, key: key, id: "mallory", sig: tampered("TLS.identifier", "mallory"), now: testSignTime, want: ErrSigSignature},
		{name: "userbuf present", appID: testAppID, key: key, id: testAdmin, sig: tampered("TLS.userbuf", "YWJj"), now: testSignTime, want: ErrSigMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyUserSig(tt.appID, tt.key, tt.id, tt.sig, tt.now)
			if tt.wantNone {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestUserSigMalformed(t *testing.T) {
	tests := []struct {
		name string
		sig  string
	}{
		{"empty", ""},
		{"not base64", "!!!"},
		{"base64 of non-zlib", base64.StdEncoding.EncodeToString([]byte("hello, world"))},
		{"zlib of non-json", encodeRawForTest(t, []byte("not json at all"))},
		{"json without TLS.sig", encodeSigForTest(t, map[string]any{"TLS.ver": "2.0", "TLS.identifier": testAdmin})},
		{"truncated", func() string {
			s, _ := GenUserSig(testAppID, secret.New(testKey), testAdmin, testSignTime, time.Hour)
			return s[:len(s)/2]
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyUserSig(testAppID, secret.New(testKey), testAdmin, tt.sig, testSignTime)
			if !errors.Is(err, ErrSigMalformed) {
				t.Errorf("VerifyUserSig err = %v, want ErrSigMalformed", err)
			}
			if _, _, err := DecodeUserSig(tt.sig); !errors.Is(err, ErrSigMalformed) {
				t.Errorf("DecodeUserSig err = %v, want ErrSigMalformed", err)
			}
		})
	}
}

// Spec §2.2 step 5: any zlib level is valid because the verifier inflates.
func TestUserSigZlibLevels(t *testing.T) {
	key := secret.New(testKey)
	for level := zlib.HuffmanOnly; level <= zlib.BestCompression; level++ {
		t.Run(strconv.Itoa(level), func(t *testing.T) {
			sig, err := genUserSigLevel(testAppID, key, testAdmin, testSignTime, time.Hour, level)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyUserSig(testAppID, key, testAdmin, sig, testSignTime); err != nil {
				t.Fatalf("level %d: %v", level, err)
			}
		})
	}
}

// Spec §2.2 step 6: '+'→'*', '/'→'-', '='→'_' on standard base64.
func TestUserSigAlphabet(t *testing.T) {
	key := secret.New(testKey)
	seen := map[rune]bool{}
	for i := range 64 {
		id := fmt.Sprintf("user-%d", i)
		sig, err := GenUserSig(testAppID, key, id, testSignTime.Add(time.Duration(i)*time.Second), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(sig, "+/=") {
			t.Fatalf("sig %q contains a standard base64 character that must be substituted", sig)
		}
		for _, r := range "*-_" {
			if strings.ContainsRune(sig, r) {
				seen[r] = true
			}
		}
		// The substitution is exactly the one above: re-encoding the decoded bytes
		// with it gives the same string back.
		raw, err := base64.StdEncoding.DecodeString(strings.NewReplacer("*", "+", "-", "/", "_", "=").Replace(sig))
		if err != nil {
			t.Fatal(err)
		}
		if again := strings.NewReplacer("+", "*", "/", "-", "=", "_").Replace(base64.StdEncoding.EncodeToString(raw)); again != sig {
			t.Fatalf("re-encoded %q != %q", again, sig)
		}
	}
	for _, r := range "*-_" {
		if !seen[r] {
			t.Errorf("no signature out of 64 used %q", r)
		}
	}
}

// Config holds the secret key; a Config printed directly or reached through a
// private field must not show it (the Secret type itself is tested in package secret).
type configHolder struct {
	Name   string
	nested struct{ cfg Config }
}

func TestConfigRedaction(t *testing.T) {
	key := secret.New(testKey)
	var h configHolder
	h.nested.cfg = Config{SDKAppID: 1, SecretKey: key, Admin: "admin"}
	cfg := Config{SDKAppID: testAppID, SecretKey: key, Admin: testAdmin, Region: "singapore"}

	outputs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		outputs["holder "+verb] = fmt.Sprintf(verb, h)
		outputs["holder ptr "+verb] = fmt.Sprintf(verb, &h)
		outputs["config "+verb] = fmt.Sprintf(verb, cfg)
		outputs["config ptr "+verb] = fmt.Sprintf(verb, &cfg)
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(out, testKey) || strings.Contains(out, testKey[:16]) {
				t.Errorf("output leaks the key: %s", out)
			}
		})
	}
}
