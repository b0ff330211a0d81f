package octavetest

import (
	"net/http"
	"time"
)

// Defaults of a Server built without options.
const (
	// DefaultCompany, DefaultUser and DefaultToken are the credentials the server accepts.
	DefaultCompany = "test-co"
	DefaultUser    = "test-user"
	DefaultToken   = "test-token"

	// DefaultCapacity is a stream's capacity when WithStream or AddStream is given a negative one:
	// Octave's default (its maximum is 100,000).
	DefaultCapacity = 1000

	// DefaultSessionExpiry is how long a session id stays valid without a socket. Octave only says
	// ids "expire if there is no active connection"; the length is not documented.
	DefaultSessionExpiry = 10 * time.Second

	// DefaultRefuseStatus answers the dial of an unknown, expired or used session id.
	DefaultRefuseStatus = http.StatusNotFound

	// DefaultAuthStatus answers bad credentials: the flowthings server behind Octave answered 400
	// where 403 was expected.
	DefaultAuthStatus = http.StatusBadRequest

	// DefaultPageLimit is the REST limit when the request has none; DefaultMaxPageLimit is the
	// largest the server honours (a larger limit is cut to it, silently).
	DefaultPageLimit    = 20
	DefaultMaxPageLimit = 1000

	// SessionPath is where sessions are created (POST); a socket is at SessionPath/{id}/ws.
	SessionPath = "/session"
	// RESTPrefix is where the REST API lives: RESTPrefix/{company}/event/{streamId} and
	// RESTPrefix/{company}/event?path=….
	RESTPrefix = "/v5.0"

	// AckMessage is the message of every successful reply, word for word from Octave's page.
	AckMessage = "Your request has been processed successfully."
	// NotFoundMessage is the error of a reply about an unknown stream (flowthings' text).
	NotFoundMessage = "The requested resource could not be located at this address."

	// HeartbeatCloseCode is the close code of a socket closed by WithHeartbeatTimeout.
	HeartbeatCloseCode = 1001
)

// An Option configures a Server. A nil Option is ignored.
type Option func(*config)

type config struct {
	company, user, token string
	capacity             int
	streams              []streamSpec
	sessionExpiry        time.Duration
	refuseStatus         int
	authStatus           int
	ackDelay             time.Duration
	heartbeatTimeout     time.Duration
	pageLimit            int
	maxPageLimit         int
	rate                 float64
	rateStreams          []string
	script               []Conn
	rejects              []Reject
	restFailures         []int
}

type streamSpec struct {
	path     string
	capacity int
}

func defaultConfig() config {
	return config{
		company:       DefaultCompany,
		user:          DefaultUser,
		token:         DefaultToken,
		capacity:      DefaultCapacity,
		sessionExpiry: DefaultSessionExpiry,
		refuseStatus:  DefaultRefuseStatus,
		authStatus:    DefaultAuthStatus,
		pageLimit:     DefaultPageLimit,
		maxPageLimit:  DefaultMaxPageLimit,
	}
}

// WithCredentials sets the company, user and token the server accepts: POST /session must carry
// X-Auth-Company, X-Auth-User and X-Auth-Token; REST requests X-Auth-User and X-Auth-Token, with
// the company in the path. An empty user makes the token a restricted one: requests must then omit
// X-Auth-User, and one that sends it is refused like bad credentials. Defaults DefaultCompany,
// DefaultUser and DefaultToken.
func WithCredentials(company, user, token string) Option {
	return func(c *config) { c.company, c.user, c.token = company, user, token }
}

// WithAuthStatus sets the status that answers bad credentials, on POST /session and on REST:
// 400 (the default, as flowthings did), 401 or 403; any other value means 400. The body is an
// Octave envelope with head.ok false and the reason in head.errors.
func WithAuthStatus(status int) Option {
	return func(c *config) {
		switch status {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
			c.authStatus = status
		default:
			c.authStatus = http.StatusBadRequest
		}
	}
}

// WithCapacity sets the capacity of streams created with a negative one. Default DefaultCapacity.
// A negative value means DefaultCapacity.
func WithCapacity(n int) Option {
	return func(c *config) {
		if n < 0 {
			n = DefaultCapacity
		}
		c.capacity = n
	}
}

// WithStream creates a stream when the server starts, as AddStream does. It may be given more than
// once; streams are created in order.
func WithStream(path string, capacity int) Option {
	return func(c *config) { c.streams = append(c.streams, streamSpec{path, capacity}) }
}

// WithSessionExpiry sets how long a session id can wait for its socket: a dial later than that is
// refused (WithRefuseStatus). Default DefaultSessionExpiry. Zero or negative: ids never expire
// (they are still refused once used).
func WithSessionExpiry(d time.Duration) Option {
	return func(c *config) { c.sessionExpiry = max(d, 0) }
}

// WithRefuseStatus sets the status that refuses the upgrade of an unknown, expired or already used
// session id: 404 (the default) or 403; any other value means 404.
func WithRefuseStatus(status int) Option {
	return func(c *config) {
		if status != http.StatusForbidden {
			status = http.StatusNotFound
		}
		c.refuseStatus = status
	}
}

// WithAckDelay delays every reply on every socket by d (Conn.AckDelay overrides it per socket).
// The subscription itself takes effect at once, so events can arrive before its ack. Default 0.
func WithAckDelay(d time.Duration) Option {
	return func(c *config) { c.ackDelay = max(d, 0) }
}

// WithHeartbeatTimeout closes a socket whose client sent no data message (a heartbeat or any
// request) for d, with close code HeartbeatCloseCode and the reason "heartbeat timeout". WebSocket
// pings do not count. Default 0: never.
func WithHeartbeatTimeout(d time.Duration) Option {
	return func(c *config) { c.heartbeatTimeout = max(d, 0) }
}

// WithPageLimits sets the REST limit used when a request has none (def) and the largest one
// honoured (max; a larger limit is cut to it without a word, so a short page does not mean the
// last one). Defaults DefaultPageLimit and DefaultMaxPageLimit. Values below 1 mean 1.
func WithPageLimits(def, max int) Option {
	return func(c *config) {
		c.pageLimit, c.maxPageLimit = atLeast1(def), atLeast1(max)
	}
}

func atLeast1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// WithRate publishes eventsPerSecond live events from the start, spread round-robin over the
// streams named (ids or paths; they must be created by WithStream), each with elems {"n": k}, k
// counting from 0 per server. Default: none. Zero, negative, NaN or infinite rates mean none.
func WithRate(eventsPerSecond float64, streams ...string) Option {
	return func(c *config) {
		if eventsPerSecond > 0 && eventsPerSecond < 1e9 && len(streams) > 0 {
			c.rate = eventsPerSecond
			c.rateStreams = append([]string(nil), streams...)
		} else {
			c.rate, c.rateStreams = 0, nil
		}
	}
}

// WithScript injects faults: conns[i] rules the i-th POST /session (0-based, rejected ones
// included) and the socket dialed with its id; later sessions are served normally. The slice is
// copied. Default: no script.
func WithScript(conns ...Conn) Option {
	return func(c *config) { c.script = append([]Conn(nil), conns...) }
}

// WithReject refuses subscribe requests, as Reject describes. It may be given more than once; the
// first rule that applies to a subscribe answers it.
func WithReject(r Reject) Option {
	return func(c *config) { c.rejects = append(c.rejects, r) }
}

// WithRESTFailures answers the next REST requests with these statuses, one each, in order (for
// example 500, 503); requests after them are served normally. Default none.
func WithRESTFailures(statuses ...int) Option {
	return func(c *config) { c.restFailures = append([]int(nil), statuses...) }
}

// Conn scripts one session and its socket (WithScript). The zero Conn is a normal session.
type Conn struct {
	// Status, when not 0, answers the POST /session with this status (an envelope with head.ok
	// false) instead of creating a session.
	Status int
	// Expire makes the session id expired by the time it is dialed: the upgrade is refused.
	Expire bool
	// AckDelay delays every reply on this socket (overrides WithAckDelay when not 0).
	AckDelay time.Duration
	// DuplicateEvery sends every DuplicateEvery-th push twice in a row (1: every push). 0: never.
	DuplicateEvery int
	// After is the number of events pushed (a duplicate not counted) before Action is taken; 0
	// takes it right after the socket's first reply is written.
	After int
	// Action is what happens to the socket after After pushes. None keeps it open.
	Action Action
	// CloseCode and Reason are the close frame's, for Action Close (default code 1000).
	CloseCode int
	Reason    string
}

// Action is a fault applied to a socket.
type Action uint8

const (
	None    Action = iota // nothing: the socket stays open
	Drop                  // the TCP connection is closed without a close frame
	Close                 // a close frame with Conn.CloseCode and Conn.Reason, then the TCP close
	Silence               // nothing more is written (no pushes, replies or pongs); reads go on
	Mute                  // no more pushes or replies, but pings are still answered
)

// Reject refuses subscribe requests for one stream (WithReject).
type Reject struct {
	// Stream is the stream's id or path; it matches a subscribe by either.
	Stream string
	// Status is the head.status of the refusal (default 404 with NotFoundMessage; any other status
	// gets "rejected by octavetest").
	Status int
	// After is how many subscribes of the stream are accepted before refusals begin (0: the first
	// is refused).
	After int
	// Times is how many are refused; after them subscribes are accepted again. 0: all of them.
	Times int
}
