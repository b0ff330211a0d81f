package firehose

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{"0", 0, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, c := range cases {
		if d, ok := parseRetryAfter(c.in, now); d != c.want || ok != c.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", c.in, d, ok, c.want, c.ok)
		}
	}
}

func TestStatusErrorClass(t *testing.T) {
	for code, fatal := range map[int]bool{400: true, 401: true, 403: true, 404: true, 405: false, 429: false, 500: false, 503: false} {
		err := error(&StatusError{Transport: "http", Code: code, Message: "m"})
		if errors.Is(err, ErrFatal) != fatal {
			t.Errorf("status %d: fatal = %v, want %v", code, !fatal, fatal)
		}
	}
	e := &StatusError{Transport: "grpc", Code: 401, GRPCCode: "UNAUTHENTICATED", Message: "bad key"}
	if got := e.Error(); got != "firehose: grpc: status UNAUTHENTICATED: bad key" {
		t.Errorf("Error() = %q", got)
	}
}

// TestRetryAfter: a 429 never waits less than the 5 s floor, whatever its
// Retry-After says (0, a past date), and never more than the cap (a value so
// large it would overflow a Duration included); a 503 with Retry-After waits
// what it says.
func TestRetryAfter(t *testing.T) {
	cfg := defaultConfig()
	s := newStream(cfg, testSpec(cfg), nil, AllPartitions, &counters{})
	now := time.Now()
	for _, tc := range []struct {
		status  int
		header  string
		atLeast time.Duration
		atMost  time.Duration
	}{
		{429, "", DefaultRateLimitFloor, DefaultRetryAfterCap},
		{429, "0", DefaultRateLimitFloor, DefaultRetryAfterCap},
		{429, now.Add(-time.Hour).UTC().Format(http.TimeFormat), DefaultRateLimitFloor, DefaultRetryAfterCap},
		{429, "7", 7 * time.Second, DefaultRetryAfterCap},
		{429, "3600", DefaultRetryAfterCap, DefaultRetryAfterCap},
		{429, "9999999999", DefaultRetryAfterCap, DefaultRetryAfterCap},
		{429, "99999999999999999999", DefaultRateLimitFloor, DefaultRetryAfterCap}, // unparsable: as absent
		{503, "20", 20 * time.Second, DefaultRetryAfterCap},
		{503, "9999999999", DefaultRetryAfterCap, DefaultRetryAfterCap},
		{503, "", 0, DefaultBackoffMax},
	} {
		se := &StatusError{Code: tc.status}
		se.RetryAfter, se.retryAfterSet = parseRetryAfter(tc.header, now)
		if d := s.delay(se); d < tc.atLeast || d > tc.atMost {
			t.Errorf("%d Retry-After %q: waited %v, want %v..%v", tc.status, tc.header, d, tc.atLeast, tc.atMost)
		}
	}
}

// A server's status body reaches StatusError.Message printable and short:
// terminal escapes and control characters are gone before anyone prints it.
func TestTrimMessage(t *testing.T) {
	for in, want := range map[string]string{
		"  bad key\r\n":                       "bad key",
		"\x1b[31mdenied\x1b[0m\x1b]0;pwn\x07": "denied",
		strings.Repeat("x", 600):              strings.Repeat("x", 512),
	} {
		if got := trimMessage([]byte(in)); got != want {
			t.Errorf("trimMessage(%q) = %q, want %q", in, got, want)
		}
	}
}
