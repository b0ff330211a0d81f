package calleventstest

import (
	"time"

	"github.com/gorilla/websocket"
)

// The paths and defaults of a Server built without options.
const (
	// LoginPath answers POST with {"access_token": <JWT>}.
	LoginPath = "/ws/v1/firehose/login"
	// EventsPath answers a WebSocket upgrade with the stream of call events.
	EventsPath = "/ws/v1/firehose/callEvents"

	// DefaultTokenTTL is the lifetime of a token (the sister Contact Center channel says
	// expires_in 86400).
	DefaultTokenTTL = 24 * time.Hour
	// DefaultSigningKey is the HS256 key the tokens are signed with.
	DefaultSigningKey = "calleventstest-signing-key"
	// DefaultExpiryClose is the close code sent on a socket when its token expires
	// (1008, policy violation).
	DefaultExpiryClose = websocket.ClosePolicyViolation
	// DefaultForeignStatus answers a login whose accounts filter names an account outside the
	// caller's subtree.
	DefaultForeignStatus = 403
	// DefaultQueue is how many messages a socket may fall behind before the server cuts it.
	DefaultQueue = 8192
)

// An Option configures a Server. A nil Option is ignored.
type Option func(*config)

type config struct {
	accounts      []Account
	ttl           time.Duration
	key           []byte
	subSecond     bool
	expiryClose   int
	foreignStatus int
	loginDelay    time.Duration
	loginFailN    int
	loginFailCode int
	shape         Shape
	wrap          Wrap
	dupEvery      int
	resend        int
	rate          float64
	tls           bool
	queue         int
}

func defaultConfig() config {
	return config{
		accounts:      DefaultAccounts(),
		ttl:           DefaultTokenTTL,
		key:           []byte(DefaultSigningKey),
		expiryClose:   DefaultExpiryClose,
		foreignStatus: DefaultForeignStatus,
		queue:         DefaultQueue,
	}
}

// WithAccounts replaces the account tree (default DefaultAccounts). The slice is copied.
func WithAccounts(accts ...Account) Option {
	return func(c *config) { c.accounts = append([]Account(nil), accts...) }
}

// WithTokenTTL sets how long a token lives from its login. Default DefaultTokenTTL (24 h). The exp
// claim is in whole seconds, rounded up, unless WithSubSecondExpiry is given; the server enforces
// exactly the exp it wrote. Zero or negative mints tokens that are expired at once.
func WithTokenTTL(d time.Duration) Option {
	return func(c *config) { c.ttl = d }
}

// WithSubSecondExpiry writes exp with milliseconds (1700000000.25: RFC 7519 allows a non-integer
// NumericDate), so tests can use token lifetimes well under a second. Default off: whole seconds,
// like the real tokens.
func WithSubSecondExpiry() Option {
	return func(c *config) { c.subSecond = true }
}

// WithSigningKey sets the HS256 key. Default DefaultSigningKey.
func WithSigningKey(key string) Option {
	return func(c *config) { c.key = []byte(key) }
}

// WithExpiryClose sets what happens to an open socket when its token expires: the server sends a
// close frame with this code and the reason "token expired", then closes the connection. Default
// DefaultExpiryClose (1008). 0 keeps sockets open past their token's expiry (the real server's
// behaviour is not documented either way); a negative code cuts the TCP connection without a close
// frame.
func WithExpiryClose(code int) Option {
	return func(c *config) { c.expiryClose = code }
}

// WithForeignAccountStatus sets the status of a login whose accounts filter names an account that is
// neither the caller's nor a descendant of it (the real status is undocumented: 400 or 403).
// Default DefaultForeignStatus (403).
func WithForeignAccountStatus(code int) Option {
	return func(c *config) { c.foreignStatus = code }
}

// WithLoginDelay makes every login wait d before it answers (a slow login). Default 0. See also
// Server.SetLoginDelay.
func WithLoginDelay(d time.Duration) Option {
	return func(c *config) { c.loginDelay = max(d, 0) }
}

// WithLoginFailures makes the first n logins answer status (e.g. 503) with a JSON error body, before
// any credential check. Default none. See also Server.FailLogins.
func WithLoginFailures(n, status int) Option {
	return func(c *config) { c.loginFailN, c.loginFailCode = max(n, 0), status }
}

// WithShape sets the payload shape of published events. Default ShapeKazoo. See Server.SetShape.
func WithShape(s Shape) Option {
	return func(c *config) { c.shape = s }
}

// WithWrap sets the envelope around published events. Default WrapNone (the bare object). See
// Server.SetWrap.
func WithWrap(w Wrap) Option {
	return func(c *config) { c.wrap = w }
}

// WithDuplicates sends every n-th published event (by publish order) twice in a row to each socket
// it goes to. Default 0: none. See Server.SetDuplicates.
func WithDuplicates(every int) Option {
	return func(c *config) { c.dupEvery = max(every, 0) }
}

// WithResendOnConnect makes every new socket first receive the last n published events that match
// its token (as a server that flushes a short buffer on connect would), before live ones: so a
// reconnecting client sees events it already had. Default 0.
func WithResendOnConnect(n int) Option {
	return func(c *config) { c.resend = max(n, 0) }
}

// WithRate publishes eventsPerSecond synthetic events from the moment the server starts until Close:
// calls (CHANNEL_CREATE, CHANNEL_ANSWER, CHANNEL_DESTROY, one call id per triple) spread over the
// accounts in turn. Default 0: only what Publish sends. Non-positive, NaN or absurd rates mean none.
func WithRate(eventsPerSecond float64) Option {
	return func(c *config) {
		if eventsPerSecond > 0 && eventsPerSecond < 1e7 {
			c.rate = eventsPerSecond
		} else {
			c.rate = 0
		}
	}
}

// WithTLS serves HTTPS and WSS with a fresh self-signed certificate for 127.0.0.1, ::1 and localhost.
// Server.Certificate returns it, Server.CertPool holds it and Server.Client trusts it. Default off.
func WithTLS() Option {
	return func(c *config) { c.tls = true }
}

// WithQueue sets how many messages a socket may have waiting before the server gives up on it and
// cuts the connection (a client that stopped reading). Default DefaultQueue. Values below 1 mean 1.
func WithQueue(n int) Option {
	return func(c *config) { c.queue = max(n, 1) }
}
