package callevents

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Defaults of a Config left at its zero values.
const (
	// DefaultPort is the firehose's port when BaseURL names none.
	DefaultPort = "9443"
	// DefaultRefreshMargin is how long before a token's exp the source logs in again and moves to
	// a fresh socket. For short-lived tokens it shrinks to a third of the token's observed
	// lifetime.
	DefaultRefreshMargin = time.Minute
	// DefaultDrainGrace is how long the previous socket is still read after a fresh one has opened,
	// so that events already on their way over it are not lost; the duplicates both sockets carry
	// are dropped by the engine's duplicate window.
	DefaultDrainGrace = 2 * time.Second
)

// Config configures the call-event source. Username, Password, Domain and BaseURL are required.
type Config struct {
	// BaseURL is the firehose's host: "https://pbx.example.com", "pbx.example.com" or
	// "https://pbx.example.com:8443/prefix". Without a scheme it is https; without a port it is
	// DefaultPort (9443). http:// is accepted (then the socket is ws://), for local tests and
	// TLS-terminating sidecars. No user info, query or fragment.
	BaseURL string

	// Username, Password and Domain are the login's credentials; Domain is the account's realm or
	// name. The password never appears in logs, errors, Stats or fmt output.
	Username string
	Password string
	Domain   string

	// Accounts restricts the stream to these account ids; each must be the caller's own account or
	// one of its descendants, else the login is refused (fatal). Empty: the caller's account and
	// all its descendants. The slice is copied.
	Accounts []string
	// Events restricts the stream to these event names (CHANNEL_ANSWER, …). Empty: every event.
	// Every login of the source sends the same Accounts and Events. The client also drops an event
	// whose name the server sent outside this list (compared case-insensitively). The slice is
	// copied.
	Events []string

	// TokenInQuery sends the token as the "token" query parameter of the WebSocket URL instead of
	// the Authorization: Bearer header. Only for a WebSocket stack or proxy that cannot carry the
	// header: a URL ends up in proxy and server access logs, and so would the token. Default false.
	TokenInQuery bool

	// TLSConfig is the TLS configuration of the login and the socket, cloned before use. nil: the
	// client's (firehose.WithTLSConfig), else the system's defaults.
	TLSConfig *tls.Config
	// RootCAs, when set, is the pool of certificate authorities to trust instead of the system's:
	// the custom CA of an on-premises host. It is applied on top of the TLS configuration.
	RootCAs *x509.CertPool

	// PingInterval is how often a WebSocket ping is sent. Zero: a third of the client's idle
	// timeout (firehose.WithIdleTimeout, default 45 s).
	PingInterval time.Duration
	// PongWait is how long a ping may go unanswered while nothing at all arrives before the socket
	// is presumed half-open and left for a fresh one. Zero: half the client's idle timeout, so that
	// with the default PingInterval a half-open socket is left within the idle timeout. Pongs are
	// liveness: a socket that answers pings stays open through hours without events (nights
	// without calls), and time the caller spends on an event never counts against it.
	PongWait time.Duration

	// RefreshMargin is how long before exp the source logs in again; zero means
	// DefaultRefreshMargin. See DefaultRefreshMargin for short-lived tokens.
	RefreshMargin time.Duration
	// DrainGrace is how long the previous socket is still read after a token refresh; zero means
	// DefaultDrainGrace.
	DrainGrace time.Duration
}

// settings is a validated Config.
type settings struct {
	loginURL, eventsURL string
	creds               credentials
	tokenInQuery        bool
	tls                 *tls.Config
	rootCAs             *x509.CertPool
	pingInterval        time.Duration
	pongWait            time.Duration
	refreshMargin       time.Duration
	drainGrace          time.Duration
	events              map[string]bool // upper-cased Events; nil: no filter
}

// String never shows the password.
func (c Config) String() string {
	return fmt.Sprintf("callevents.Config{BaseURL: %q, Username: %q, Password: %s, Domain: %q, Accounts: %q, Events: %q, TokenInQuery: %t}",
		c.BaseURL, c.Username, redacted, c.Domain, c.Accounts, c.Events, c.TokenInQuery)
}

// GoString never shows the password.
func (c Config) GoString() string { return c.String() }

// Format never shows the password, whatever the verb.
func (c Config) Format(f fmt.State, _ rune) { f.Write([]byte(c.String())) }

func (c Config) validate() (*settings, error) {
	var errs []error
	if c.Username == "" {
		errs = append(errs, errors.New("Username is empty"))
	}
	if c.Password == "" {
		errs = append(errs, errors.New("Password is empty"))
	}
	if c.Domain == "" {
		errs = append(errs, errors.New("Domain is empty"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"PingInterval", c.PingInterval}, {"PongWait", c.PongWait}, {"RefreshMargin", c.RefreshMargin}, {"DrainGrace", c.DrainGrace}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s is negative (%v)", d.name, d.v))
		}
	}
	for _, a := range c.Accounts {
		if a == "" {
			errs = append(errs, errors.New("Accounts holds an empty id"))
			break
		}
	}
	for _, e := range c.Events {
		if e == "" {
			errs = append(errs, errors.New("Events holds an empty name"))
			break
		}
	}
	base, err := parseBaseURL(c.BaseURL)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("callevents: invalid Config: %w", errors.Join(errs...))
	}
	s := &settings{
		loginURL: base.String() + LoginPath,
		creds: credentials{
			Username: c.Username, Password: secret(c.Password), Domain: c.Domain,
			Accounts: slices.Clone(c.Accounts), Events: slices.Clone(c.Events),
		},
		tokenInQuery:  c.TokenInQuery,
		tls:           c.TLSConfig,
		rootCAs:       c.RootCAs,
		pingInterval:  c.PingInterval,
		pongWait:      c.PongWait,
		refreshMargin: c.RefreshMargin,
		drainGrace:    c.DrainGrace,
	}
	if len(s.creds.Accounts) == 0 {
		s.creds.Accounts = nil
	}
	if len(s.creds.Events) == 0 {
		s.creds.Events = nil
	} else {
		s.events = map[string]bool{}
		for _, e := range c.Events {
			s.events[strings.ToUpper(e)] = true
		}
	}
	if s.refreshMargin == 0 {
		s.refreshMargin = DefaultRefreshMargin
	}
	if s.drainGrace == 0 {
		s.drainGrace = DefaultDrainGrace
	}
	ws := *base
	ws.Scheme = map[string]string{"https": "wss", "http": "ws"}[base.Scheme]
	s.eventsURL = ws.String() + EventsPath
	return s, nil
}

// parseBaseURL reads BaseURL: https by default, port 9443 by default, a path prefix kept without
// its trailing slash.
func parseBaseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("BaseURL is empty")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("BaseURL: %w", err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("BaseURL: scheme %q, want https or http", u.Scheme)
	case u.User != nil:
		return nil, errors.New("BaseURL: user info is not allowed (the credentials go in Username and Password)")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, errors.New("BaseURL: a query or fragment is not allowed")
	case u.Hostname() == "":
		return nil, errors.New("BaseURL: no host")
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), DefaultPort)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}
