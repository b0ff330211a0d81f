package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/firehose-go/firehose"
)

// cisco is the Cisco Spaces Partner Firehose, with the flags of
// `firehose tail`.
type cisco struct {
	endpoint, region string
	key              string
	transport        string
	partitions       string
	receiver         string
	from             string
	idle             time.Duration

	rng firehose.Range // set by options
}

func (c *cisco) name() string { return "cisco" }

func (c *cisco) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.endpoint, "endpoint", "", "server `URL` (default "+firehose.DefaultEndpoint+")")
	fs.StringVar(&c.region, "region", "", "Cisco `REGION`: io, eu or sg (instead of --endpoint)")
	fs.StringVar(&c.key, "key", "", "API `KEY` (default $FIREHOSE_API_KEY)")
	fs.StringVar(&c.transport, "transport", "http", "`CHANNEL`: http, ws or grpc")
	fs.StringVar(&c.partitions, "partitions", "", "partition range `MIN-MAX` (default 1-12)")
	fs.StringVar(&c.receiver, "receiver", "", "be receiver `I/N`: I (0-based) of N (instead of --partitions)")
	fs.StringVar(&c.from, "from", "", "on the first start, replay from `WHEN`: epoch ms, RFC 3339 or a duration ago such as 10m\n(default: live; the checkpoint wins once there is one)")
	fs.DurationVar(&c.idle, "idle-timeout", 0, "reconnect after this much silence (default 45s)")
}

func (c *cisco) options(now time.Time, getenv func(string) string) ([]firehose.Option, error) {
	var opts []firehose.Option
	switch {
	case c.endpoint != "" && c.region != "":
		return nil, errors.New("--endpoint and --region are mutually exclusive")
	case c.endpoint != "":
		opts = append(opts, firehose.WithEndpoint(c.endpoint))
	case c.region != "":
		opts = append(opts, firehose.WithRegion(firehose.Region(c.region)))
	}
	if c.key == "" {
		c.key = getenv("FIREHOSE_API_KEY")
	}
	if c.key == "" {
		return nil, errors.New("no API key: pass --key or set FIREHOSE_API_KEY")
	}
	opts = append(opts, firehose.WithAPIKey(c.key))
	switch t := firehose.Transport(c.transport); t {
	case firehose.TransportHTTP, firehose.TransportWebSocket, firehose.TransportGRPC:
		opts = append(opts, firehose.WithTransport(t))
	default:
		return nil, fmt.Errorf("--transport %q: want http, ws or grpc", c.transport)
	}
	c.rng = firehose.AllPartitions
	switch {
	case c.partitions != "" && c.receiver != "":
		return nil, errors.New("--partitions and --receiver are mutually exclusive")
	case c.partitions != "":
		r, err := firehose.ParseRange(c.partitions)
		if err != nil {
			return nil, fmt.Errorf("--partitions: %w", err)
		}
		c.rng = r
		opts = append(opts, firehose.WithPartitions(r.Min, r.Max))
	case c.receiver != "":
		i, n, err := parseReceiver(c.receiver)
		if err != nil {
			return nil, err
		}
		c.rng, _ = firehose.Receiver(i, n)
		opts = append(opts, firehose.WithReceiver(i, n))
	}
	if c.from != "" {
		ms, err := parseFrom(c.from, now)
		if err != nil {
			return nil, err
		}
		opts = append(opts, firehose.WithStartMillis(ms))
	}
	if c.idle < 0 {
		return nil, fmt.Errorf("--idle-timeout %v: want > 0", c.idle)
	}
	if c.idle > 0 {
		opts = append(opts, firehose.WithIdleTimeout(c.idle))
	}
	return opts, nil
}

// checkpointName is cisco/HOST/RANGE: the region code, or the endpoint's
// host (and port) — the same firehose and range resume the same position.
func (c *cisco) checkpointName() string {
	where := string(firehose.RegionGlobal)
	switch {
	case c.region != "":
		where = c.region
	case c.endpoint != "":
		if u, err := url.Parse(c.endpoint); err == nil && u.Host != "" {
			where = u.Host
		} else {
			where = c.endpoint
		}
	}
	return "cisco/" + where + "/" + c.rng.String()
}

// parseReceiver parses "I/N": receiver I (0-based) of N.
func parseReceiver(s string) (i, n int, err error) {
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
		return 0, 0, fmt.Errorf("--receiver %q: %w", s, err)
	}
	return i, n, nil
}

// parseFrom reads --from: epoch milliseconds ("0": live), an RFC 3339 time,
// or a duration ago. It returns epoch milliseconds.
func parseFrom(s string, now time.Time) (int64, error) {
	s = strings.TrimSpace(s)
	future := now.Add(time.Minute).UnixMilli()
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case ms == 0:
			return 0, nil
		case ms < 1e11:
			return 0, fmt.Errorf("--from %q: want epoch milliseconds (this looks like seconds, or is negative)", s)
		case ms > future:
			return 0, fmt.Errorf("--from %q: in the future", s)
		}
		return ms, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		if ms := t.UnixMilli(); ms < 1 || ms > future {
			return 0, fmt.Errorf("--from %q: before 1970 or in the future", s)
		}
		return t.UnixMilli(), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d).UnixMilli(), nil
	}
	return 0, fmt.Errorf("--from %q: want epoch milliseconds, an RFC 3339 time or a duration ago such as 10m", s)
}
