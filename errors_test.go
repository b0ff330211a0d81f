package firehose

import (
	"errors"
	"net/http"
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

// TestRetryAfterZeroStillBacksOff: an explicit "Retry-After: 0" waits the
// backoff, so a server repeating it cannot drive a hot loop; without the header
// a 429 waits at least the 5 s floor.
func TestRetryAfterZeroStillBacksOff(t *testing.T) {
	cfg := defaultConfig()
	s := newStream(cfg, testSpec(cfg), nil, AllPartitions, &counters{})
	zero := &StatusError{Code: 429, retryAfterSet: true}
	if d := s.delay(zero); d <= 0 || d >= DefaultRateLimitFloor {
		t.Fatalf("Retry-After 0 waited %v, want the backoff", d)
	}
	if d := s.delay(&StatusError{Code: 429}); d < DefaultRateLimitFloor {
		t.Fatalf("429 without Retry-After waited %v, want >= %v", d, DefaultRateLimitFloor)
	}
	if d := s.delay(&StatusError{Code: 429, RetryAfter: time.Hour, retryAfterSet: true}); d != DefaultRetryAfterCap {
		t.Fatalf("Retry-After 1h waited %v, want the cap %v", d, DefaultRetryAfterCap)
	}
}
