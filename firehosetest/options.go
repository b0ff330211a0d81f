package firehosetest

import (
	"strings"
	"time"
)

// Defaults of a Server built without options.
const (
	// EventsPath is the one path the server streams on; every other path answers 404.
	EventsPath = "/api/partners/v1/firehose/events"

	// DefaultAPIKey is the key the server accepts in the X-API-Key header.
	DefaultAPIKey = "test-key"

	// DefaultSeed seeds the event log.
	DefaultSeed int64 = 1

	// DefaultKeepAlive is how long a stream stays silent before the server sends a KEEP_ALIVE
	// (Cisco: "every 15 seconds when no other events are sent").
	DefaultKeepAlive = 15 * time.Second

	// DefaultReplayWindow is how far back fromTimestamp can reach ("within the preceding hour").
	DefaultReplayWindow = time.Hour

	// DefaultOversize is the length of an Oversized injected line when Inject.Size is 0:
	// one byte more than the client's default maximum event size (8 MiB).
	DefaultOversize = 8<<20 + 1
)

// The channel names accepted by WithChannels and reported in Request.Transport.
const (
	ChannelHTTP = "http"
	ChannelWS   = "ws"
	ChannelGRPC = "grpc"
)

// An Option configures a Server. A nil Option is ignored.
type Option func(*config)

type config struct {
	apiKey       string
	seed         int64
	historyN     int
	historySpan  time.Duration
	rate         float64
	keepAlive    time.Duration
	replayWindow time.Duration
	tls          bool
	http2        bool
	cloud        bool
	channels     map[string]bool
	inMemory     bool
	script       []Conn
	unknownTypes bool
	chaosSeed    int64
	chaosEvery   int
}

func defaultConfig() config {
	return config{
		apiKey:       DefaultAPIKey,
		seed:         DefaultSeed,
		keepAlive:    DefaultKeepAlive,
		replayWindow: DefaultReplayWindow,
		cloud:        true,
		channels:     map[string]bool{ChannelHTTP: true, ChannelWS: true, ChannelGRPC: true},
	}
}

// WithAPIKey sets the key the server accepts in the X-API-Key header (gRPC: the x-api-key metadata).
// A missing or different key is answered with 401. Default DefaultAPIKey ("test-key").
// The empty string turns the check off: every request is accepted, with or without a key.
func WithAPIKey(key string) Option {
	return func(c *config) { c.apiKey = key }
}

// WithSeed seeds the event log: two servers with the same seed, history, rate and start time
// hold the same events byte for byte. Default DefaultSeed (1).
func WithSeed(seed int64) Option {
	return func(c *config) { c.seed = seed }
}

// WithHistory puts n events in the log before the server starts: their emission times are spread
// evenly over span, the last one at the start. Default 0 events. n ≤ 0 means none; a negative span
// counts as 0 (all of them emitted at the start). Only a request with fromTimestamp sees them, and
// only those inside the replay window.
func WithHistory(n int, span time.Duration) Option {
	return func(c *config) {
		c.historyN = max(n, 0)
		c.historySpan = max(span, 0)
	}
}

// WithRate makes the log grow by eventsPerSecond live events after the start, evenly spaced: event k
// (0-based) after the history is emitted (k+1)/eventsPerSecond seconds after the start. They are made
// on demand from their index, so any rate costs nothing until served. Default 0: no live events.
// Zero, negative, NaN or infinite rates mean none.
func WithRate(eventsPerSecond float64) Option {
	return func(c *config) {
		if eventsPerSecond > 0 && eventsPerSecond < 1e12 {
			c.rate = eventsPerSecond
		} else {
			c.rate = 0
		}
	}
}

// WithKeepAlive sets the silence after which a stream gets a KEEP_ALIVE event. Default
// DefaultKeepAlive (15 s). Zero or negative turns keep-alives off.
func WithKeepAlive(d time.Duration) Option {
	return func(c *config) { c.keepAlive = max(d, 0) }
}

// WithReplayWindow sets how long events stay available: an event whose recordTimestamp is older than
// now−d is gone, and a fromTimestamp older than that is served from the window's start, silently
// (like a clamp; Cisco documents no error for it). Default DefaultReplayWindow (1 h). Zero or
// negative means no window: the whole log stays available.
func WithReplayWindow(d time.Duration) Option {
	return func(c *config) { c.replayWindow = max(d, 0) }
}

// WithTLS serves HTTPS with a fresh self-signed certificate for 127.0.0.1, ::1, localhost and
// firehosetest.invalid, like httptest.NewTLSServer. Server.Certificate returns it and Server.Client
// trusts it. Default off. HTTP/1.1 only unless WithHTTP2 is given too.
func WithTLS() Option {
	return func(c *config) { c.tls = true }
}

// WithHTTP2 implies WithTLS and offers "h2" by ALPN, so a client with ForceAttemptHTTP2 (and
// Server.Client) negotiates HTTP/2; Request.Proto then reads "HTTP/2.0". Default off.
func WithHTTP2() Option {
	return func(c *config) { c.tls, c.http2 = true, true }
}

// WithCloud says whether the key belongs to a cloud activation (true, the default): then any
// replicaId parameter is refused with 400 "replicaId is not supported for cloud activations".
// false makes it an on-prem activation that accepts a replicaId (a non-negative integer).
func WithCloud(cloud bool) Option {
	return func(c *config) { c.cloud = cloud }
}

// WithChannels lists the channels enabled for the key: ChannelHTTP ("http"), ChannelWS ("ws") and
// ChannelGRPC ("grpc"), case-insensitive; other names are ignored. A request on a channel not listed
// is refused with 403. Default: all three. No names at all disables every channel.
func WithChannels(channels ...string) Option {
	return func(c *config) {
		c.channels = map[string]bool{}
		for _, ch := range channels {
			c.channels[strings.ToLower(ch)] = true
		}
	}
}

// WithInMemory serves on an in-memory listener built on net.Pipe instead of a TCP port: no socket is
// opened, Server.URL is "http://firehosetest.invalid" (https with TLS), and only Server.DialContext
// (used by Server.Client) reaches the server. It exists for testing/synctest, where loopback sockets
// never block durably and fake time could not advance: create and Close the server inside the bubble.
// Default off.
func WithInMemory() Option {
	return func(c *config) { c.inMemory = true }
}

// WithScript injects faults: conns[i] rules the i-th connection attempt (0-based, counting every
// attempt on any transport, rejected ones included); attempts beyond the script are served normally
// (or by WithChaos). The slice is copied. Default: no script.
func WithScript(conns ...Conn) Option {
	return func(c *config) {
		c.script = make([]Conn, len(conns))
		for i, cn := range conns {
			cn.Inject = append([]Inject(nil), cn.Inject...)
			c.script[i] = cn
		}
	}
}

// WithUnknownTypes mixes events of a type the EventType enum does not know (SPACE_OCCUPANCY, with a
// spaceOccupancy payload) into the log, about 2% of it, plus one among the first events (see Log).
// They are real log events, so a client must deliver them. Default false.
func WithUnknownTypes(on bool) Option {
	return func(c *config) { c.unknownTypes = on }
}

// WithChaos gives every connection attempt the script does not cover a random fault, deterministic
// from seed and the attempt's number: after a random count of events around every (between every/2
// and 3·every/2) the connection is cut, between lines or in the middle of one (rarely it ends
// cleanly instead); about half of the connections re-send a burst of duplicates first, and about a
// quarter get a malformed line somewhere before the cut. every ≤ 0 turns it off (the default).
func WithChaos(seed int64, every int) Option {
	return func(c *config) { c.chaosSeed, c.chaosEvery = seed, max(every, 0) }
}
