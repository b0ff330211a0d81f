package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/firehose-go/firehose"
)

// ciscoSource holds the Cisco Spaces flags, as `firehose tail` has them.
type ciscoSource struct {
	endpoint, region string
	key              string
	transport        string
	partitions       string
	receiver         string
	from             string
	idle             time.Duration
}

func (c *ciscoSource) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.endpoint, "endpoint", "", "Cisco Spaces server `URL` (default "+firehose.DefaultEndpoint+")")
	fs.StringVar(&c.region, "region", "", "Cisco `REGION`: io, eu or sg (instead of --endpoint)")
	fs.StringVar(&c.key, "key", "", "API `KEY` (default $FIREHOSE_API_KEY)")
	fs.StringVar(&c.transport, "transport", "http", "`CHANNEL`: http, ws or grpc")
	fs.StringVar(&c.partitions, "partitions", "", "partition range `MIN-MAX` (default 1-12)")
	fs.StringVar(&c.receiver, "receiver", "", "be receiver `I/N`: I (0-based) of N (instead of --partitions)")
	fs.StringVar(&c.from, "from", "", "replay from `WHEN` when no checkpoint exists yet: epoch ms, RFC 3339, or a duration ago such as 10m (default: live)")
	fs.DurationVar(&c.idle, "idle-timeout", 0, "reconnect after this much silence (default 45s)")
}

func (c *ciscoSource) options(now time.Time, getenv func(string) string) ([]firehose.Option, firehose.Range, error) {
	rng := firehose.AllPartitions
	var opts []firehose.Option
	switch {
	case c.endpoint != "" && c.region != "":
		return nil, rng, errors.New("--endpoint and --region are mutually exclusive")
	case c.endpoint != "":
		opts = append(opts, firehose.WithEndpoint(c.endpoint))
	case c.region != "":
		opts = append(opts, firehose.WithRegion(firehose.Region(c.region)))
	}
	key := c.key
	if key == "" {
		key = getenv("FIREHOSE_API_KEY")
	}
	if key == "" {
		return nil, rng, errors.New("no API key: pass --key or set FIREHOSE_API_KEY")
	}
	opts = append(opts, firehose.WithAPIKey(key))
	switch t := firehose.Transport(c.transport); t {
	case firehose.TransportHTTP, firehose.TransportWebSocket, firehose.TransportGRPC:
		opts = append(opts, firehose.WithTransport(t))
	default:
		return nil, rng, fmt.Errorf("--transport %q: want http, ws or grpc", c.transport)
	}
	switch {
	case c.partitions != "" && c.receiver != "":
		return nil, rng, errors.New("--partitions and --receiver are mutually exclusive")
	case c.partitions != "":
		r, err := firehose.ParseRange(c.partitions)
		if err != nil {
			return nil, rng, fmt.Errorf("--partitions: %w", err)
		}
		rng = r
	case c.receiver != "":
		r, err := parseReceiver(c.receiver)
		if err != nil {
			return nil, rng, err
		}
		rng = r
	}
	if c.from != "" {
		ms, err := parseFrom(c.from, now)
		if err != nil {
			return nil, rng, err
		}
		opts = append(opts, firehose.WithStartMillis(ms))
	}
	if c.idle < 0 {
		return nil, rng, fmt.Errorf("--idle-timeout %v: want > 0", c.idle)
	}
	if c.idle > 0 {
		opts = append(opts, firehose.WithIdleTimeout(c.idle))
	}
	return opts, rng, nil
}

// parseReceiver parses "I/N": receiver I (0-based) of N.
func parseReceiver(s string) (firehose.Range, error) {
	a, b, ok := strings.Cut(s, "/")
	var i, n int
	var err error
	if ok {
		if i, err = strconv.Atoi(a); err == nil {
			n, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil {
		return firehose.Range{}, fmt.Errorf("--receiver %q: want I/N, such as 0/4", s)
	}
	r, err := firehose.Receiver(i, n)
	if err != nil {
		return firehose.Range{}, fmt.Errorf("--receiver %q: %w", s, err)
	}
	return r, nil
}

// parseFrom reads --from: epoch milliseconds, an RFC 3339 time, or a
// duration ago. It returns epoch milliseconds; "0" means live.
func parseFrom(s string, now time.Time) (int64, error) {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case ms == 0:
			return 0, nil
		case ms < 1e11:
			return 0, fmt.Errorf("--from %q: want epoch milliseconds (this looks like seconds)", s)
		case ms > now.Add(time.Minute).UnixMilli():
			return 0, fmt.Errorf("--from %q: in the future", s)
		}
		return ms, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		if t.After(now.Add(time.Minute)) || t.UnixMilli() < 1 {
			return 0, fmt.Errorf("--from %q: out of range", s)
		}
		return t.UnixMilli(), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d).UnixMilli(), nil
	}
	return 0, fmt.Errorf("--from %q: want epoch milliseconds, an RFC 3339 time or a duration ago such as 10m", s)
}
