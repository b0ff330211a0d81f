package octave

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Sessions (spec/dialects.md §2.2): POST {endpoint}/session with X-Auth-Company, X-Auth-Token and,
// for a master token, X-Auth-User (a restricted token omits it); no body. Success is 201 with
// {"head":{"ok":true,"status":201,…},"body":{"id":"<session id>"}}. The id opens one socket,
// {endpoint as ws/wss}/session/{id}/ws, and expires unless it is dialed at once: every connection
// creates a fresh one and never reuses it.

// maxAnswer bounds how much of an HTTP answer is read.
const maxAnswer = 1 << 20

// credentials are what Octave's headers carry. The token never appears in an error or in fmt
// output (String redacts it).
type credentials struct {
	company, user, token string
}

func (c credentials) String() string {
	return fmt.Sprintf("octave credentials{company: %q, user: %q, token: [REDACTED]}", c.company, c.user)
}

func (c credentials) GoString() string { return c.String() }

// setHeaders sets the auth headers; withCompany adds X-Auth-Company (the session host wants it;
// REST takes the company from the path, and the header is sent there too, harmlessly).
func (c credentials) setHeaders(h http.Header, withCompany bool) {
	if withCompany {
		h.Set("X-Auth-Company", c.company)
	}
	if c.user != "" {
		h.Set("X-Auth-User", c.user)
	}
	h.Set("X-Auth-Token", c.token)
}

// redact removes the token from text a server sent back (an echo of a bad header).
func (c credentials) redact(s string) string {
	if c.token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.token, "[REDACTED]")
}

// httpError is a refusal by the session host or the REST API: the HTTP status (or the head's when
// the HTTP status said success) and the server's message.
type httpError struct {
	op      string // "create session", "gap-fill"
	status  int
	message string
}

func (e *httpError) Error() string {
	s := fmt.Sprintf("octave: %s: status %d %s", e.op, e.status, http.StatusText(e.status))
	if e.message != "" {
		s += ": " + e.message
	}
	return s
}

// auth reports whether the status means the credentials were refused: 400 (what flowthings
// answered), 401 or 403.
func (e *httpError) auth() bool {
	switch e.status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		return true
	}
	return false
}

// head is the envelope's head as the HTTP APIs send it.
type head struct {
	OK     bool              `json:"ok"`
	Status int               `json:"status"`
	Errors []json.RawMessage `json:"errors"`
}

// message joins head.errors, or falls back to the raw body when it is not an envelope.
func (h *head) message(body []byte, parsed bool) string {
	if !parsed {
		return trimMessage(string(body))
	}
	var parts []string
	for _, e := range h.Errors {
		var s string
		if json.Unmarshal(e, &s) != nil {
			s = string(e)
		}
		parts = append(parts, s)
	}
	return trimMessage(strings.Join(parts, "; "))
}

// trimMessage keeps server text printable and short.
func trimMessage(s string) string {
	const max = 512
	if len(s) > max {
		s = s[:max]
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f || r == 0xfffd:
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// createSession posts for a session id. A refusal is an *httpError (auth() for bad credentials);
// a transport failure is returned as is (net/http's, with the URL, which carries no secret).
func createSession(ctx context.Context, hc *http.Client, endpoint string, cr credentials) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/session", nil)
	if err != nil {
		return "", fmt.Errorf("octave: create session: %w", err)
	}
	cr.setHeaders(req.Header, true)
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("octave: create session: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return "", fmt.Errorf("octave: create session: reading the answer: %w", err)
	}
	var env struct {
		Head head `json:"head"`
		Body struct {
			ID string `json:"id"`
		} `json:"body"`
	}
	parsed := json.Unmarshal(b, &env) == nil
	if resp.StatusCode/100 != 2 || (parsed && !env.Head.OK) {
		st := resp.StatusCode
		if st/100 == 2 && env.Head.Status != 0 {
			st = env.Head.Status // an error head inside a 2xx
		}
		return "", &httpError{op: "create session", status: st, message: cr.redact(env.Head.message(b, parsed))}
	}
	if !parsed || env.Body.ID == "" {
		return "", &httpError{op: "create session", status: resp.StatusCode, message: "no session id in the answer: " + cr.redact(trimMessage(string(b)))}
	}
	return env.Body.ID, nil
}

// socketURL is the WebSocket URL of a session: the endpoint's scheme turned to ws/wss.
func socketURL(endpoint, id string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	case "http":
		u.Scheme = "ws"
	case "ws", "wss":
	default:
		return "", errors.New("octave: endpoint scheme must be https or http")
	}
	return u.String() + "/session/" + url.PathEscape(id) + "/ws", nil
}
