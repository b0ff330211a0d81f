package octave

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/firehose-go/firehose"
)

// Name is the source's name in Stats, logs and ConnectInfo.
const Name = "octave"

// Spec returns the description of the Octave source for firehose.WithSource, after checking cfg.
func Spec(cfg Config) (firehose.SourceSpec, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return firehose.SourceSpec{}, err
	}
	return firehose.SourceSpec{
		Name:    Name,
		Resume:  firehose.ResumeSource,
		Secrets: []string{c.Token},
		New: func(sc firehose.SourceConfig) (firehose.Source, error) {
			return newSource(c, sc)
		},
	}, nil
}

// Source is the option that makes a firehose client consume Octave:
//
//	streams, _ := octave.NewStreams("/my-co/devices/d1/cpu", "s53b1d1600cf27b75148de0ac")
//	c, err := firehose.New(octave.Source(octave.Config{
//		Company: "my-co", User: "me", Token: token, Streams: streams, GapFill: true,
//	}))
//
// An invalid cfg is reported by Run and Open (the first time the engine makes the source);
// Spec reports it at once.
func Source(cfg Config) firehose.Option {
	spec, err := Spec(cfg)
	if err != nil {
		return firehose.OptionError(err) // New fails with it, as for any bad option
	}
	return firehose.WithSource(spec)
}

// position is what the source knows of one stream across connections.
type position struct {
	newest    int64    // the newest creationDate delivered
	newestIDs []string // the ids delivered at exactly newest (at most maxTies)
	floor     int64    // when the stream was first subscribed in this run (ms): gap-fill never goes before
	acked     bool     // a subscribe was acknowledged once

	gapOpen bool     // events since gapFrom may be missing: the stream has had no subscription since
	gapFrom int64    // the position when the gap opened
	gapIDs  []string // newestIDs then
}

// maxTies bounds the ids kept per stream at its newest creationDate; beyond it, a gap-fill may
// bring one of them again, and only the engine's duplicate window drops it.
const maxTies = 64

// source is the Octave source of one receiver. Its methods and its conns' run on the receiver's
// delivery goroutine only (the seam's promise), so the positions need no lock.
type source struct {
	cfg     Config
	creds   credentials
	log     *slog.Logger
	maxMsg  int
	idle    time.Duration // the engine's idle timeout
	hc      *http.Client
	ownHC   bool
	rest    *restClient
	dialer  *dialer
	ids     *msgIDs
	streams *Streams
	pos     map[string]*position
	names   map[string]string // stream id → name, learned from pushes of streams named by path

	authRetried bool // the last session attempt was an auth failure, retried once
	unknown     int64
}

func newSource(cfg Config, sc firehose.SourceConfig) (*source, error) {
	if sc.Range != (firehose.Range{}) && sc.Range != firehose.AllPartitions {
		return nil, errors.New("octave: Octave has no partitions: run one receiver")
	}
	s := &source{
		cfg:     cfg,
		creds:   credentials{company: cfg.Company, user: cfg.User, token: cfg.Token},
		log:     sc.Logger,
		maxMsg:  sc.MaxEventSize,
		idle:    sc.IdleTimeout,
		ids:     newMsgIDs(),
		streams: cfg.Streams,
		pos:     map[string]*position{},
		names:   map[string]string{},
		dialer:  newDialer(sc.Dial, sc.TLSConfig),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxMsg <= 0 {
		s.maxMsg = 8 << 20
	}
	s.hc = cfg.HTTPClient
	if s.hc == nil {
		s.ownHC = true
		dial := sc.Dial
		if dial == nil {
			d := &net.Dialer{Timeout: handshakeTimeout, KeepAlive: 30 * time.Second}
			dial = d.DialContext
		}
		tr := &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         dial,
			ForceAttemptHTTP2:   true,
			TLSHandshakeTimeout: handshakeTimeout,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     90 * time.Second,
		}
		if sc.TLSConfig != nil {
			tr.TLSClientConfig = sc.TLSConfig.Clone()
		}
		s.hc = &http.Client{
			Transport: tr,
			// The token travels in X-Auth-Token, which net/http would forward on a redirect
			// to any host: follow none.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	s.rest = &restClient{hc: s.hc, base: cfg.REST, creds: s.creds, limit: cfg.PageSize}
	return s, nil
}

// Connect creates a session, dials its socket at once and subscribes every stream of the set.
// Replies arrive through Next.
func (s *source) Connect(ctx context.Context, req firehose.ConnectRequest) (firehose.Conn, error) {
	pctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	id, err := createSession(pctx, s.hc, s.cfg.Endpoint, s.creds)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		var he *httpError
		if !errors.As(err, &he) {
			return nil, err
		}
		se := &firehose.StatusError{Transport: Name, Code: he.status, Message: he.message}
		if he.auth() {
			if !s.authRetried {
				s.authRetried = true
				s.log.Warn("octave: credentials refused, trying once more with a fresh session",
					"status", he.status, "message", he.message)
				return nil, retryOnce(se)
			}
			return nil, se // 400, 401, 403: fatal
		}
		if he.status == http.StatusNotFound {
			return nil, se // no session host at this endpoint: fatal
		}
		return nil, fmt.Errorf("octave: create session: %w", nonFatal(se))
	}
	s.authRetried = false
	u, err := socketURL(s.cfg.Endpoint, id)
	if err != nil {
		return nil, err
	}
	sock, err := s.dialer.open(ctx, u, s.maxMsg, s.cfg.Heartbeat, req.Alive)
	if err != nil {
		return nil, err // a refused upgrade (expired session) is retried, with a new session
	}
	c := newConn(ctx, s, sock, req.Alive)
	if err := c.syncStreams(time.Now()); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close releases the idle connections of the source's own HTTP client.
func (s *source) Close() error {
	if s.ownHC {
		s.hc.CloseIdleConnections()
	}
	return nil
}

// nonFatal keeps a status error's data but not its fatal class (a 5xx never is; this guards the
// statuses the engine would call fatal but that mean something else here).
func nonFatal(se *firehose.StatusError) error {
	if se.Fatal() {
		return errors.New(se.Error())
	}
	return se
}

// position returns the stream's position, creating it (with its floor at now) if needed.
func (s *source) position(name string, now time.Time) *position {
	p := s.pos[name]
	if p == nil {
		p = &position{floor: now.UnixMilli()}
		s.pos[name] = p
	}
	return p
}

// openGap marks the stream as without a subscription from now on, if it was not already.
func (p *position) openGap() {
	if p.gapOpen {
		return
	}
	p.gapOpen, p.gapFrom, p.gapIDs = true, p.newest, slices.Clone(p.newestIDs)
	if p.newest == 0 {
		p.gapFrom = p.floor
	}
}

// delivered moves the position past an event handed to the engine.
func (p *position) delivered(id string, ts int64) {
	switch {
	case ts > p.newest:
		p.newest, p.newestIDs = ts, append(p.newestIDs[:0], id)
	case ts == p.newest && len(p.newestIDs) < maxTies && !slices.Contains(p.newestIDs, id):
		p.newestIDs = append(p.newestIDs, id)
	}
}
