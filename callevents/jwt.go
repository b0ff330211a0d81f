package callevents

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// The token is a JWT whose claims are identity ("<account id>:<account name>"), type ("access") and
// exp. The client cannot verify it (the key is the server's) and does not need to: it only reads exp
// to log in again before the token runs out.

// errToken is the error for a token whose claims cannot be read.
var errToken = errors.New("callevents: the access token is not a readable JWT")

// tokenClaims are the claims the source reads.
type tokenClaims struct {
	// Expiry is exp; zero when the token has none.
	Expiry time.Time
	// Identity is the identity claim, "<account id>:<account name>"; it names no secret.
	Identity string
}

// readToken decodes a JWT's claims without verifying its signature. exp may be an integer or a
// fraction of seconds (RFC 7519 NumericDate), or a string holding one.
func readToken(tok string) (tokenClaims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return tokenClaims{}, errToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return tokenClaims{}, errToken
	}
	var c struct {
		Exp      json.RawMessage `json:"exp"`
		Identity any             `json:"identity"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return tokenClaims{}, errToken
	}
	var out tokenClaims
	if id, ok := c.Identity.(string); ok {
		out.Identity = id
	}
	if s := str(c.Exp); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 || v > 1e12 {
			return tokenClaims{}, errToken
		}
		out.Expiry = time.UnixMilli(int64(math.Floor(v * 1000)))
	}
	return out, nil
}
