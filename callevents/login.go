package callevents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// The login: POST {base}/ws/v1/firehose/login with {"username","password","domain"} and the optional
// filters "accounts" and "events", answered by {"access_token":"<JWT>"}. The filters live in the
// token: every login of a source sends the same ones.

// LoginPath and EventsPath are the firehose's two paths.
const (
	LoginPath  = "/ws/v1/firehose/login"
	EventsPath = "/ws/v1/firehose/callEvents"
)

// Bounds of what a login reads.
const (
	maxLoginAnswer = 64 << 10 // a token answer
	maxErrorBody   = 4 << 10  // an error answer, of which the message keeps 512 bytes
	maxMessage     = 512
)

// credentials are what a login sends. Password never prints (secret).
type credentials struct {
	Username string
	Password secret
	Domain   string
	Accounts []string // nil: no filter (the caller's account and all its descendants)
	Events   []string // nil: every event
}

// token is an access token and what the client read from it.
type token struct {
	value    secret
	claims   tokenClaims
	obtained time.Time // when the login answered
	// claimsErr says why the claims could not be read (the token is still used: the server
	// decides); nil when they were.
	claimsErr error
}

// token prints as its claims only: fmt cannot reach secret's methods through an unexported field.
func (t token) String() string {
	return fmt.Sprintf("token{identity %q, exp %v}", t.claims.Identity, t.claims.Expiry)
}
func (t token) GoString() string              { return t.String() }
func (t token) Format(f fmt.State, verb rune) { f.Write([]byte(t.String())) }

// login performs one login. A status other than 200 is a *loginStatus with the server's message; a 200 without a token is an error; a transport error is returned as
// is, wrapped. No error's text holds the password.
func login(ctx context.Context, hc *http.Client, loginURL string, c credentials) (token, error) {
	body, err := json.Marshal(struct {
		Username string   `json:"username"`
		Password string   `json:"password"`
		Domain   string   `json:"domain"`
		Accounts []string `json:"accounts,omitempty"`
		Events   []string `json:"events,omitempty"`
	}{c.Username, string(c.Password), c.Domain, c.Accounts, c.Events})
	if err != nil {
		return token{}, fmt.Errorf("callevents: login: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, loginURL, bytes.NewReader(body))
	if err != nil {
		return token{}, scrubError(fmt.Errorf("callevents: login: %w", err), string(c.Password))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return token{}, netError(fmt.Errorf("callevents: login: %w", err), string(c.Password))
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return token{}, &loginStatus{
			code:       resp.StatusCode,
			message:    serverMessage(b, string(c.Password)),
			retryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
		}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxLoginAnswer+1))
	if err != nil {
		return token{}, scrubError(fmt.Errorf("callevents: login: reading the answer: %w", err), string(c.Password))
	}
	if len(b) > maxLoginAnswer {
		return token{}, errors.New("callevents: login: the answer is larger than 64 KiB")
	}
	var answer struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &answer); err != nil || answer.AccessToken == "" {
		// A 200 without a token (an error in the body, a portal's page) is a refusal too.
		return token{}, &loginStatus{code: resp.StatusCode, message: serverMessage(b, string(c.Password))}
	}
	t := token{value: secret(answer.AccessToken)}
	t.claims, t.claimsErr = readToken(answer.AccessToken)
	return t, nil
}

// loginStatus is a login answered with a status other than 200, or a 200 without a token. The
// source turns it into a *firehose.StatusError, or a fatal error.
type loginStatus struct {
	code       int
	message    string        // the server's, trimmed, without the password
	retryAfter time.Duration // from Retry-After; 0 when absent
}

func (e *loginStatus) Error() string {
	s := fmt.Sprintf("callevents: login: status %d %s", e.code, http.StatusText(e.code))
	if e.code == http.StatusOK {
		s = "callevents: login: the answer holds no access_token"
	}
	if e.message != "" {
		s += ": " + e.message
	}
	return s
}

// serverMessage picks the message out of an error body: the first string among message, error,
// error_description, detail and msg of a JSON object, else the body as text; the secrets taken out,
// trimmed to one printable line of at most 512 bytes.
func serverMessage(b []byte, secrets ...string) string {
	msg := string(b)
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) == nil {
		for _, k := range [...]string{"message", "error", "error_description", "detail", "msg"} {
			if s := str(m[k]); s != "" {
				msg = s
				break
			}
		}
	}
	// Scrub before trimming (a cut must not leave half a secret) and after (collapsed spaces).
	return scrub(trimMessage([]byte(scrub(msg, secrets...))), secrets...)
}

// trimMessage keeps a server message printable, on one line (runs of white space become one space)
// and at most 512 bytes long.
func trimMessage(b []byte) string {
	out := make([]byte, 0, min(len(b), maxMessage))
	space := false
	for _, r := range string(b) {
		switch {
		case r == ' ' || r == '\n' || r == '\r' || r == '\t':
			space = true
			continue
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			continue
		}
		if space && len(out) > 0 {
			out = append(out, ' ')
		}
		space = false
		if len(out)+utf8.RuneLen(r) > maxMessage {
			break
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}

// retryAfter reads Retry-After (seconds or an HTTP date); 0 when absent or invalid.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
