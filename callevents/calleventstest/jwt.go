package calleventstest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// The tokens: HS256 JWTs with exactly the claims the real firehose puts in them — identity
// ("<account id>:<account name>"), type ("access") and exp (epoch seconds) — and nothing else: no
// iat, nbf or jti. The filters of a login are not in the token; the server remembers them per token.

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// mintToken signs a token for the account that expires at exp. With subSecond the exp claim
// keeps milliseconds (a non-integer NumericDate, which RFC 7519 allows); else it is whole seconds.
func mintToken(key []byte, acct Account, exp time.Time, subSecond bool) string {
	var claims bytes.Buffer
	claims.WriteString(`{"identity":`)
	id, _ := json.Marshal(acct.ID + ":" + acct.Name)
	claims.Write(id)
	claims.WriteString(`,"type":"access","exp":`)
	if subSecond {
		claims.WriteString(strconv.FormatFloat(float64(exp.UnixMilli())/1000, 'f', -1, 64))
	} else {
		claims.WriteString(strconv.FormatInt(exp.Unix(), 10))
	}
	claims.WriteByte('}')
	signing := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(claims.Bytes())
	return signing + "." + base64.RawURLEncoding.EncodeToString(sign(key, signing))
}

func sign(key []byte, signing string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signing))
	return m.Sum(nil)
}

var (
	errTokenInvalid = errors.New("invalid token")
	errTokenExpired = errors.New("token expired")
)

// verifyToken checks the signature, the header's algorithm, the type claim and exp against now.
// It returns the expiry.
func verifyToken(key []byte, tok string, now time.Time) (time.Time, error) {
	h, rest, ok := strings.Cut(tok, ".")
	if !ok {
		return time.Time{}, errTokenInvalid
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return time.Time{}, errTokenInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, sign(key, h+"."+p)) {
		return time.Time{}, errTokenInvalid
	}
	hb, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return time.Time{}, errTokenInvalid
	}
	var hdr struct{ Alg string }
	if json.Unmarshal(hb, &hdr) != nil || hdr.Alg != "HS256" {
		return time.Time{}, errTokenInvalid
	}
	pb, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return time.Time{}, errTokenInvalid
	}
	var claims struct {
		Type string
		Exp  *float64
	}
	if json.Unmarshal(pb, &claims) != nil || claims.Type != "access" || claims.Exp == nil {
		return time.Time{}, errTokenInvalid
	}
	exp := expTime(*claims.Exp)
	if !now.Before(exp) {
		return exp, errTokenExpired
	}
	return exp, nil
}

// expTime turns a NumericDate into a time, to the millisecond.
func expTime(exp float64) time.Time {
	return time.UnixMilli(int64(math.Round(exp * 1000)))
}
