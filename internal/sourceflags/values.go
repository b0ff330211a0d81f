package sourceflags

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/firehose-go/firehose"
)

// durationValue is a flag.Value for a time.Duration whose error says what a
// valid value looks like (the flag package's says only "parse error").
type durationValue time.Duration

func (d *durationValue) String() string { return time.Duration(*d).String() }

func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return errors.New("want a duration such as 5s, 1m30s or 250ms")
	}
	*d = durationValue(v)
	return nil
}

// Duration defines a duration flag on fs, like fs.DurationVar, whose error
// for a bad value says "want a duration such as 5s".
func Duration(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*durationValue)(p), name, usage)
}

// ParseReceiver parses "I/N": receiver I (0-based) of N.
func ParseReceiver(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		if i, err = strconv.Atoi(a); err == nil {
			n, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("--receiver %q: want I/N, such as 0/4", s)
	}
	if _, err := firehose.Receiver(i, n); err != nil {
		return 0, 0, fmt.Errorf("--receiver %q: want I/N with 0 <= I < N <= 12, such as 0/4 (%s)", s, trimPrefix(err))
	}
	return i, n, nil
}

// ParseFrom reads --from: epoch milliseconds, an RFC 3339 time, or a
// duration ago ("10m", "1h30m"). It returns epoch milliseconds; "0" means
// live.
func ParseFrom(s string, now time.Time) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case ms == 0:
			return 0, nil
		case ms < 0:
			return 0, fmt.Errorf("--from %q: want epoch milliseconds >= 0", s)
		case ms < 1e11: // before 1973: almost surely seconds
			return 0, fmt.Errorf("--from %q: want epoch milliseconds; this looks like seconds (try %s000)", s, s)
		case ms > now.Add(time.Minute).UnixMilli():
			return 0, fmt.Errorf("--from %q: in the future", s)
		}
		return ms, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		if t.After(now.Add(time.Minute)) {
			return 0, fmt.Errorf("--from %q: in the future", s)
		}
		if t.UnixMilli() < 1 {
			return 0, fmt.Errorf("--from %q: before 1970", s)
		}
		return t.UnixMilli(), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return 0, fmt.Errorf("--from %q: want a positive duration ago, such as 10m", s)
		}
		return now.Add(-d).UnixMilli(), nil
	}
	return 0, fmt.Errorf("--from %q: want epoch milliseconds, an RFC 3339 time or a duration ago such as 10m", s)
}
