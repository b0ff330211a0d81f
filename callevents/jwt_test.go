package callevents

import (
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"
)

// makeToken builds an unsigned-looking JWT around the claims JSON.
func makeToken(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(claims)) + ".c2lnbmF0dXJl"
}

func TestReadToken(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, tok string
		exp       time.Time
		identity  string
		err       bool
	}{
		{"whole seconds", makeToken(`{"identity":"a0a0:Test","type":"access","exp":1700000000}`), time.Unix(1700000000, 0), "a0a0:Test", false},
		{"a fraction", makeToken(`{"exp":1700000000.25}`), time.UnixMilli(1700000000250), "", false},
		{"a string", makeToken(`{"exp":"1700000000"}`), time.Unix(1700000000, 0), "", false},
		{"no exp", makeToken(`{"identity":"x:y"}`), time.Time{}, "x:y", false},
		{"padded payload", makeToken(`{"exp":1700000000}`) + "", time.Unix(1700000000, 0), "", false},
		{"two parts", "a.b", time.Time{}, "", true},
		{"not base64", "a.%%%.c", time.Time{}, "", true},
		{"not JSON", makeToken(`nope`), time.Time{}, "", true},
		{"exp not a number", makeToken(`{"exp":"soon"}`), time.Time{}, "", true},
		{"exp negative", makeToken(`{"exp":-1}`), time.Time{}, "", true},
		{"exp absurd", makeToken(`{"exp":1e300}`), time.Time{}, "", true},
		{"identity not a string", makeToken(`{"identity":7,"exp":1}`), time.Unix(1, 0), "", false},
	} {
		got, err := readToken(c.tok)
		if (err != nil) != c.err {
			t.Errorf("%s: error %v", c.name, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, errToken) {
				t.Errorf("%s: %v is not errToken", c.name, err)
			}
			continue
		}
		if !got.Expiry.Equal(c.exp) || got.Identity != c.identity {
			t.Errorf("%s: %v %q, want %v %q", c.name, got.Expiry, got.Identity, c.exp, c.identity)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	c := credentials{Username: "u", Password: "hunter2", Domain: "d"}
	tok := token{value: "eyJ.tok.sig"}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, v := range []any{c, &c, tok, c.Password} {
			if s := fmt.Sprintf(f, v); containsAny(s, "hunter2", "eyJ.tok.sig", "68756e74657232") {
				t.Errorf("%s of %T prints the secret: %s", f, v, s)
			}
		}
	}
}

func TestScrub(t *testing.T) {
	t.Parallel()
	s := scrub(`bad password p@ss w/rd, "p@ss w\/rd", p%40ss+w%2Frd and p@ss%20w%2Frd for tok.en`, "p@ss w/rd", "tok.en", "")
	if containsAny(s, "p@ss", "p%40ss", "tok.en") {
		t.Errorf("scrubbed: %s", s)
	}
	base := errors.New("dial tcp: token=tok.en refused")
	err := scrubError(base, "tok.en")
	if containsAny(err.Error(), "tok.en") || !errors.Is(err, base) || errors.Unwrap(err) != nil {
		t.Errorf("scrubError: %v (is %v)", err, errors.Is(err, base))
	}
	if clean := errors.New("clean"); scrubError(clean, "tok.en") != clean {
		t.Error("a clean error was wrapped")
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if sub != "" && len(s) >= len(sub) {
			for i := 0; i+len(sub) <= len(s); i++ {
				if s[i:i+len(sub)] == sub {
					return true
				}
			}
		}
	}
	return false
}
