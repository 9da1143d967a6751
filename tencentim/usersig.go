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
	"time"

	"github.com/immigrate/immigrate/secret"
)

// UserSig generation and verification, exactly as the vendor's reference libraries
// do it (spec §2.2, tls-sig-api-v2): HMAC-SHA256 over four "TLS.*" lines, a JSON
// document, zlib, then base64 with '+'→'*', '/'→'-', '='→'_'.

// DefaultUserSigExpiry is the vendor's default validity, 180 days (spec §2.2).
const DefaultUserSigExpiry = 180 * 24 * time.Hour

// Sentinel errors of VerifyUserSig. The sandbox maps them to 70003, 70014, 70013,
// 70001 and 70009 (design §7).
var (
	ErrSigMalformed      = errors.New("usersig: cannot be decoded")
	ErrSigSDKAppID       = errors.New("usersig: sdkappid does not match")
	ErrSigIdentifier     = errors.New("usersig: identifier does not match")
	ErrSigExpired        = errors.New("usersig: expired")
	ErrSigSignature      = errors.New("usersig: signature does not match")
	errSigUserbufPresent = errors.New("usersig: unexpected userbuf")
)

var sigEncoding = strings.NewReplacer("+", "*", "/", "-", "=", "_")
var sigDecoding = strings.NewReplacer("*", "+", "-", "/", "_", "=")

// sigDoc is the JSON document inside a UserSig (spec §2.2 step 4).
type sigDoc struct {
	Version    string `json:"TLS.ver"`
	Identifier string `json:"TLS.identifier"`
	SDKAppID   int64  `json:"TLS.sdkappid"`
	Expire     int64  `json:"TLS.expire"`
	Time       int64  `json:"TLS.time"`
	Sig        string `json:"TLS.sig"`
	UserBuf    string `json:"TLS.userbuf,omitempty"`
}

func sigHMAC(key string, identifier string, sdkappid, signTime, expire int64) string {
	content := "TLS.identifier:" + identifier + "\n" +
		"TLS.sdkappid:" + strconv.FormatInt(sdkappid, 10) + "\n" +
		"TLS.time:" + strconv.FormatInt(signTime, 10) + "\n" +
		"TLS.expire:" + strconv.FormatInt(expire, 10) + "\n"
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(content))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// GenUserSig returns a UserSig for identifier, signed at now and valid for expire.
// The zlib level does not matter to a verifier; the default level is used.
func GenUserSig(sdkappid int64, key secret.Secret, identifier string, now time.Time, expire time.Duration) (string, error) {
	return genUserSigLevel(sdkappid, key, identifier, now, expire, zlib.DefaultCompression)
}

func genUserSigLevel(sdkappid int64, key secret.Secret, identifier string, now time.Time, expire time.Duration, level int) (string, error) {
	doc := sigDoc{
		Version:    "2.0",
		Identifier: identifier,
		SDKAppID:   sdkappid,
		Expire:     int64(expire / time.Second),
		Time:       now.Unix(),
	}
	doc.Sig = sigHMAC(key.Reveal(), identifier, sdkappid, doc.Time, doc.Expire)
	js, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, level)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(js); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return sigEncoding.Replace(base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// UserSigClaims are the fields a verified UserSig carries.
type UserSigClaims struct {
	Identifier string
	SDKAppID   int64
	Time       time.Time
	Expire     time.Duration
}

// Expires is the moment the UserSig stops being valid.
func (c UserSigClaims) Expires() time.Time { return c.Time.Add(c.Expire) }

// DecodeUserSig undoes the encoding and returns the claims without checking the
// signature. Errors wrap ErrSigMalformed.
func DecodeUserSig(sig string) (UserSigClaims, string, error) {
	doc, err := decodeSigDoc(sig)
	if err != nil {
		return UserSigClaims{}, "", err
	}
	return UserSigClaims{
		Identifier: doc.Identifier,
		SDKAppID:   doc.SDKAppID,
		Time:       time.Unix(doc.Time, 0),
		Expire:     time.Duration(doc.Expire) * time.Second,
	}, doc.Sig, nil
}

func decodeSigDoc(sig string) (sigDoc, error) {
	var doc sigDoc
	if sig == "" {
		return doc, fmt.Errorf("%w: empty", ErrSigMalformed)
	}
	raw, err := base64.StdEncoding.DecodeString(sigDecoding.Replace(sig))
	if err != nil {
		return doc, fmt.Errorf("%w: base64", ErrSigMalformed)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return doc, fmt.Errorf("%w: zlib", ErrSigMalformed)
	}
	// A UserSig document is a few hundred bytes; cap the inflate against zip bombs.
	js, err := io.ReadAll(io.LimitReader(zr, 64<<10))
	if err != nil {
		return doc, fmt.Errorf("%w: zlib", ErrSigMalformed)
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		return doc, fmt.Errorf("%w: json", ErrSigMalformed)
	}
	if doc.Sig == "" {
		return doc, fmt.Errorf("%w: no TLS.sig", ErrSigMalformed)
	}
	return doc, nil
}

// VerifyUserSig checks sig as the vendor's VerifyUserSig does (spec §2.2): sdkappid,
// identifier, expiry at now, absence of userbuf, then the HMAC recomputed from the
// decoded fields. It returns one of the ErrSig* sentinels (possibly wrapped).
func VerifyUserSig(sdkappid int64, key secret.Secret, identifier, sig string, now time.Time) error {
	doc, err := decodeSigDoc(sig)
	if err != nil {
		return err
	}
	if doc.SDKAppID != sdkappid {
		return ErrSigSDKAppID
	}
	if doc.Identifier != identifier {
		return ErrSigIdentifier
	}
	if now.Unix() > doc.Time+doc.Expire {
		return ErrSigExpired
	}
	if doc.UserBuf != "" {
		return fmt.Errorf("%w: %w", ErrSigMalformed, errSigUserbufPresent)
	}
	want := sigHMAC(key.Reveal(), doc.Identifier, doc.SDKAppID, doc.Time, doc.Expire)
	if !hmac.Equal([]byte(want), []byte(doc.Sig)) {
		return ErrSigSignature
	}
	return nil
}
