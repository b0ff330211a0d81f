package callevents

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/wsclient"
)

// Name is the source's name in Stats, logs and firehose.ConnectInfo.
const Name = "callevents"

// Source returns the option that makes a firehose client consume the call-event firehose cfg
// describes:
//
//	c, err := firehose.New(callevents.Source(callevents.Config{
//		BaseURL:  "pbx.example.com", // https, port 9443
//		Username: "api", Password: os.Getenv("QVOICE_PASSWORD"), Domain: "example.com",
//		Events:   []string{callevents.ChannelAnswer, callevents.ChannelDestroy},
//	}))
//
// An invalid cfg makes firehose.New fail with the reason. The source cannot replay
// (firehose.ResumeNone): every reconnect is reported as a *firehose.GapError with its downtime.
func Source(cfg Config) firehose.Option {
	spec, err := Spec(cfg)
	if err != nil {
		return firehose.OptionError(err) // New fails with it, as for any bad option
	}
	return firehose.WithSource(spec)
}

// Spec returns the firehose.SourceSpec of the call-event firehose cfg describes, or the reason cfg
// is invalid. Source is the same as firehose.WithSource of it.
func Spec(cfg Config) (firehose.SourceSpec, error) {
	set, err := cfg.validate()
	if err != nil {
		return firehose.SourceSpec{}, err
	}
	return firehose.SourceSpec{
		Name:   Name,
		Resume: firehose.ResumeNone,
		New: func(sc firehose.SourceConfig) (firehose.Source, error) {
			return newSource(set, sc), nil
		},
		Secrets: []string{cfg.Password},
	}, nil
}

const (
	// fallbackIdle stands in for the client's idle timeout when it is not set.
	fallbackIdle = 45 * time.Second
	// closeWait bounds the close handshake when a socket is left.
	closeWait = 500 * time.Millisecond
)

// source is one receiver's: it holds the token across connections. Connect is called from the
// engine's goroutine; a connection's refresher logs in from its own, hence the mutex.
type source struct {
	set *settings
	log *slog.Logger
	hc  *http.Client

	wsOpts wsclient.Options // all but the header

	mu          sync.Mutex
	tok         *token // the current token; nil: log in before the next dial
	authRetried bool   // a refusal (login 4xx, upgrade 401/403) has had its one fresh attempt
}

func newSource(set *settings, sc firehose.SourceConfig) *source {
	base := set.tls
	if base == nil {
		base = sc.TLSConfig
	}
	httpTLS := cloneTLS(base, set.rootCAs)
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         sc.Dial,
		TLSClientConfig:     httpTLS,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     90 * time.Second,
	}
	s := &source{
		set: set,
		log: sc.Logger,
		hc: &http.Client{
			Transport:     tr,
			CheckRedirect: checkRedirect,
		},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	maxEvent := sc.MaxEventSize
	if maxEvent <= 0 {
		maxEvent = firehose.DefaultMaxEventSize
	}
	idle := sc.IdleTimeout
	if idle <= 0 {
		idle = fallbackIdle
	}
	ping, pong := set.pingInterval, set.pongWait
	if ping == 0 {
		ping = idle / 3
	}
	if pong == 0 {
		pong = idle / 2
	}
	s.wsOpts = wsclient.Options{
		TLSConfig:        cloneTLS(base, set.rootCAs), // wsclient offers http/1.1 only
		Dial:             sc.Dial,
		HandshakeTimeout: -1, // the engine bounds Connect (its idle clock runs through it)
		Split:            wsclient.Messages,
		MaxUnit:          maxEvent,
		Binary:           true, // the firehose's framing is undocumented: a binary message is read as text
		PingEvery:        max(ping, time.Millisecond),
		PongWait:         max(pong, time.Millisecond),
		CloseWait:        closeWait,
		Abrupt: func(cause error) bool {
			return errors.Is(cause, firehose.ErrIdleTimeout) // nobody is there to answer
		},
	}
	return s
}

func cloneTLS(base *tls.Config, roots *x509.CertPool) *tls.Config {
	var c *tls.Config
	if base != nil {
		c = base.Clone()
	} else {
		c = &tls.Config{}
	}
	if roots != nil {
		c.RootCAs = roots
	}
	return c
}

// errRedirect is why a login redirect is refused: the password would follow it.
var errRedirect = errors.New("callevents: the login was redirected to another host or to plain http; refused")

func checkRedirect(req *http.Request, via []*http.Request) error {
	prev := via[len(via)-1].URL
	if req.URL.Host != prev.Host || (prev.Scheme == "https" && req.URL.Scheme != "https") || len(via) >= 3 {
		return final(errRedirect)
	}
	return nil
}

// finalError is fatal at once: no fresh attempt can change it (an untrusted certificate, a
// refused redirect).
type finalError struct{ err error }

func (e *finalError) Error() string        { return e.err.Error() }
func (e *finalError) Unwrap() error        { return e.err }
func (e *finalError) Is(target error) bool { return target == firehose.ErrFatal }

func final(err error) error { return &finalError{err} }

// Connect logs in (unless the token in hand is good for more than the refresh margin) and opens
// the socket. One call, one attempt; see failed for the one fresh attempt a refusal gets.
func (s *source) Connect(ctx context.Context, req firehose.ConnectRequest) (firehose.Conn, error) {
	tok, err := s.token(ctx, false)
	if err != nil {
		return nil, s.failed(ctx, err)
	}
	alive := req.Alive
	if alive == nil {
		alive = func() {}
	}
	cctx, cancel := context.WithCancelCause(ctx) // the connection's life: its sockets end with it
	wc, err := s.dial(cctx, tok, alive)
	if err != nil {
		cancel(nil)
		var se *firehose.StatusError
		if errors.As(err, &se) && (se.Code == http.StatusUnauthorized || se.Code == http.StatusForbidden) {
			s.dropToken(tok)
		}
		return nil, s.failed(ctx, err)
	}
	s.mu.Lock()
	s.authRetried = false
	s.mu.Unlock()
	return newConn(cctx, cancel, s, wc, tok, alive), nil
}

// Close releases the login's idle connections.
func (s *source) Close() error {
	s.hc.CloseIdleConnections()
	return nil
}

// failed classifies a login or dial error for the engine. A refusal that retrying will not heal
// (a 4xx, see refusal; a login answered without a token) gets one fresh attempt — a new login — and ends the stream the second time in
// a row; an untrusted certificate ends it at once; everything else is retried with backoff.
func (s *source) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		if c := context.Cause(ctx); c != nil {
			return c
		}
	}
	var fe *finalError
	if !errors.Is(err, firehose.ErrFatal) || errors.As(err, &fe) {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tok = nil
	if s.authRetried {
		return err
	}
	s.authRetried = true
	s.log.Warn("callevents: refused; one fresh login before giving up", "err", err)
	return firehose.Retry(err)
}

// margin is how long before exp a token is refreshed: the configured margin, at most a third of
// the lifetime observed (exp minus when it was obtained), so that an exp rounded up to the second
// still leaves room before a server that closes at the unrounded instant.
func (s *source) margin(exp, obtained time.Time) time.Duration {
	return min(s.set.refreshMargin, max(exp.Sub(obtained)/3, 0))
}

// refreshAt is when tok should be replaced; zero when its expiry is unknown.
func (s *source) refreshAt(tok *token) time.Time {
	exp := tok.claims.Expiry
	if exp.IsZero() {
		return time.Time{}
	}
	return exp.Add(-s.margin(exp, tok.obtained))
}

// token returns the token to dial with: the one in hand unless it is within its refresh margin (or
// force), else a fresh one from a login.
func (s *source) token(ctx context.Context, force bool) (*token, error) {
	now := time.Now()
	s.mu.Lock()
	t := s.tok
	s.mu.Unlock()
	if t != nil && !force {
		exp := t.claims.Expiry
		if exp.IsZero() || now.Before(exp.Add(-s.margin(exp, t.obtained))) {
			return t, nil
		}
	}
	nt, err := login(ctx, s.hc, s.set.loginURL, s.set.creds)
	if err != nil {
		var ls *loginStatus
		if errors.As(err, &ls) && ls.code == http.StatusOK {
			msg := "the answer holds no access_token"
			if ls.message != "" {
				msg += ": " + ls.message
			}
			return nil, firehose.Fatal(fmt.Errorf("callevents: login as %q (domain %q): %s", s.set.creds.Username, s.set.creds.Domain, msg))
		}
		if errors.As(err, &ls) {
			se := &firehose.StatusError{Transport: "login", Code: ls.code, Message: ls.message, RetryAfter: ls.retryAfter}
			return nil, fmt.Errorf("callevents: login as %q (domain %q): %w", s.set.creds.Username, s.set.creds.Domain, refusal(se))
		}
		return nil, err
	}
	nt.obtained = now
	if nt.claimsErr != nil {
		s.log.Warn("callevents: the token's expiry cannot be read; it is refreshed only when refused", "err", nt.claimsErr)
	}
	s.log.Info("callevents: logged in", "identity", nt.claims.Identity, "exp", nt.claims.Expiry,
		"accounts", s.set.creds.Accounts, "events", s.set.creds.Events)
	s.mu.Lock()
	s.tok = &nt
	s.mu.Unlock()
	return &nt, nil
}

// dropToken forgets tok (if it is still the current one): the next Connect logs in.
func (s *source) dropToken(tok *token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == tok {
		s.tok = nil
	}
}

// dial opens the socket with tok for the connection whose life ctx is; onPong is called for every
// pong. A refusal is a
// *firehose.StatusError (Transport "ws") with the server's message; no error's text holds the token
// or the password.
func (s *source) dial(ctx context.Context, tok *token, onPong func()) (*wsclient.Conn, error) {
	u := s.set.eventsURL
	hdr := http.Header{}
	if s.set.tokenInQuery {
		u += "?token=" + url.QueryEscape(string(tok.value))
	} else {
		hdr.Set("Authorization", "Bearer "+string(tok.value))
	}
	o := s.wsOpts
	o.Header, o.OnPong = hdr, onPong
	wc, _, err := wsclient.Dial(ctx, u, o)
	if err == nil {
		return wc, nil
	}
	secrets := []string{string(tok.value), string(s.set.creds.Password)}
	var he *wsclient.HandshakeError
	if errors.As(err, &he) {
		return nil, refusal(&firehose.StatusError{
			Transport:  "ws",
			Code:       he.Status,
			Message:    serverMessage(he.Body, secrets...),
			RetryAfter: retryAfter(he.Header.Get("Retry-After"), time.Now()),
		})
	}
	return nil, netError(fmt.Errorf("callevents: opening the socket: %w", err), secrets...)
}

// refusal marks every 4xx status but 408, 425 and 429 as fatal (after the one fresh attempt failed
// allows): a request the server refuses as such does not heal by retrying — an account outside the
// caller's tree may be answered 400, 403, 404 or 422 alike. 5xx, 408, 425 and 429 stay retryable;
// errors.As still finds the *firehose.StatusError.
func refusal(se *firehose.StatusError) error {
	switch {
	case se.Code < 400 || se.Code > 499, se.Code == 408, se.Code == 425, se.Code == 429, se.Fatal():
		return se
	}
	return firehose.Fatal(se)
}

// netError takes the secrets out of a transport error and makes a failed certificate verification
// fatal: a wrong CA or host name does not heal by retrying.
func netError(err error, secrets ...string) error {
	cert := isCertError(err)
	err = scrubError(err, secrets...)
	if cert {
		return final(err)
	}
	return err
}

// isCertError reports whether err is a failed certificate verification: a wrong CA or host name
// does not heal by retrying.
func isCertError(err error) bool {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		hn x509.HostnameError
		ci x509.CertificateInvalidError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}
