package octave

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of a Config's zero fields.
const (
	// DefaultEndpoint is Octave's session host: POST /session, then the socket.
	DefaultEndpoint = "https://octave-ws.sierrawireless.io"
	// DefaultREST is Octave's REST host, used to gap-fill.
	DefaultREST = "https://octave-api.sierrawireless.io"
	// DefaultHeartbeat is how often {"type":"heartbeat"} (and a WebSocket ping) is sent: the
	// official flowthings Java client's 10 s.
	DefaultHeartbeat = 10 * time.Second
	// DefaultAckTimeout is how long a subscribe may wait for its reply before the connection is
	// given up (and a new one made).
	DefaultAckTimeout = 30 * time.Second
	// DefaultProbe is how long a socket may stay quiet before a probe checks the server is there.
	DefaultProbe = 15 * time.Second
	// DefaultPageSize is the REST limit asked for when gap-filling.
	DefaultPageSize = 100
	// DefaultSubscribeRetry and MaxSubscribeRetry bound the backoff of a subscribe refused with a
	// status other than 404 or 403 (doubling, with jitter).
	DefaultSubscribeRetry = 500 * time.Millisecond
	MaxSubscribeRetry     = 30 * time.Second
	// DefaultRESTTimeout bounds one REST request.
	DefaultRESTTimeout = 30 * time.Second
)

// Config configures the Octave source. Company and Token are required, and so is Streams. The
// token never appears in fmt output, logs or errors.
type Config struct {
	// Company, User and Token are the credentials of the Master Token screen. Leave User empty
	// with a restricted token: X-Auth-User is then not sent.
	Company string
	User    string
	Token   string

	// Streams lists the streams to consume, by id ("s…") or path ("/company/…"). Keep the pointer
	// to subscribe and unsubscribe while the source runs.
	Streams *Streams

	// Endpoint is the session host, "https://host[:port]" (ws and wss are derived from it).
	// Default DefaultEndpoint.
	Endpoint string
	// REST is the REST host for gap-fill. Default DefaultREST.
	REST string

	// GapFill turns on back-filling over REST whenever a stream's subscription is acknowledged
	// after a time without one (see the package documentation). Default off: then each
	// reconnect is reported as a gap (firehose.GapNoReplay).
	GapFill bool
	// PageSize is the REST page size asked for when gap-filling. Default DefaultPageSize; at least 2.
	PageSize int

	// Heartbeat is the interval of heartbeats and WebSocket pings. Default DefaultHeartbeat;
	// negative turns both off.
	Heartbeat time.Duration
	// AckTimeout bounds the wait for a subscribe's reply, and for a probe's. Default
	// DefaultAckTimeout.
	AckTimeout time.Duration
	// Probe is how long the server may send nothing before the source checks it is still there:
	// a subscribe to a stream no one has (s000000000000000000000000), whose refusal proves the
	// server alive; no reply within AckTimeout ends the connection. Pongs prove the socket
	// only. Default DefaultProbe; negative turns probes off.
	Probe time.Duration
	// SubscribeRetry is the first delay before a refused subscribe (a status other than 404 and
	// 403) is sent again; it doubles up to MaxSubscribeRetry. Default DefaultSubscribeRetry.
	SubscribeRetry time.Duration
	// RESTTimeout bounds each REST request. Default DefaultRESTTimeout.
	RESTTimeout time.Duration

	// HTTPClient, when set, makes the POST /session and REST requests; its Timeout must be 0 or
	// large. Default: a client of the source's own, with the engine's dialer and TLS config.
	HTTPClient *http.Client
}

// String describes the configuration without the token.
func (c Config) String() string {
	return fmt.Sprintf("octave.Config{Company: %q, User: %q, Token: [REDACTED], Endpoint: %q, REST: %q, GapFill: %t}",
		c.Company, c.User, c.Endpoint, c.REST, c.GapFill)
}

// GoString is String, so that %#v does not print the token either.
func (c Config) GoString() string { return c.String() }

// LogValue logs the configuration without the token.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("company", c.Company), slog.String("user", c.User), slog.String("token", "[REDACTED]"),
		slog.String("endpoint", c.Endpoint), slog.String("rest", c.REST), slog.Bool("gapFill", c.GapFill))
}

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.Company == "" {
		return c, errors.New("octave: Config.Company is empty")
	}
	if c.Token == "" {
		return c, errors.New("octave: Config.Token is empty")
	}
	for _, s := range []string{c.Company, c.User, c.Token} {
		if strings.ContainsAny(s, "\r\n\x00") {
			return c, errors.New("octave: a credential holds a line break or NUL")
		}
	}
	if c.Streams == nil {
		return c, errors.New("octave: Config.Streams is nil")
	}
	var err error
	if c.Endpoint, err = baseURL(c.Endpoint, DefaultEndpoint, "Endpoint"); err != nil {
		return c, err
	}
	if c.REST, err = baseURL(c.REST, DefaultREST, "REST"); err != nil {
		return c, err
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.PageSize < 2 {
		return c, fmt.Errorf("octave: Config.PageSize %d: want at least 2", c.PageSize)
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.Probe == 0 {
		c.Probe = DefaultProbe
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	if c.SubscribeRetry <= 0 {
		c.SubscribeRetry = DefaultSubscribeRetry
	}
	if c.RESTTimeout <= 0 {
		c.RESTTimeout = DefaultRESTTimeout
	}
	return c, nil
}

// baseURL checks an http(s) base URL and drops a trailing slash.
func baseURL(s, def, name string) (string, error) {
	if s == "" {
		return def, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("octave: Config.%s %q: want https://host[:port]", name, s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("octave: Config.%s %q: no query, fragment or user info", name, s)
	}
	return strings.TrimRight(s, "/"), nil
}
