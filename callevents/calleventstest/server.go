package calleventstest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a mock QVoice/fonoUC call-event firehose listening on loopback from the moment NewServer
// returns until Close. Every method is safe for concurrent use.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:PORT" ("https://…" with WithTLS), with no trailing
	// slash. Clients append LoginPath, or EventsPath with the ws/wss scheme (see EventsURL).
	URL string

	cfg    config
	tree   *tree
	srv    *http.Server
	ln     net.Listener
	cert   *x509.Certificate
	pool   *x509.CertPool
	client *http.Client
	nonce  string // this server's random part of call ids and its Core-UUID

	ctx    context.Context // cancelled by Close: the base of every request's context
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool
	grants    map[string]*grant // by token
	sockets   map[*socket]struct{}
	changed   chan struct{} // closed and replaced whenever sockets come or go
	logins    []Login
	conns     []*connRecord
	events    []Event
	seq       int64 // events published
	lastMsgID int64
	loginFail failures
	connFail  failures
	// runtime knobs, initialised from cfg
	loginDelay time.Duration
	shape      Shape
	wrap       Wrap
	dupEvery   int

	loginsInFlight atomic.Int32

	active    sync.WaitGroup // handlers (sockets run inside theirs) and the generator
	conns0    sync.WaitGroup // net/http connections (ConnState)
	serveDone chan struct{}
	closeOnce sync.Once
}

// failures counts the next n requests of a kind that answer status.
type failures struct{ n, status int }

func (f *failures) take() (int, bool) {
	if f.n <= 0 {
		return 0, false
	}
	f.n--
	return f.status, true
}

// grant is what a token allows: the account logged in as and the login's filters.
type grant struct {
	acct     Account
	accounts []string // nil: the account's whole subtree
	events   []string // nil: every event
	exp      time.Time
	minted   time.Time
}

// Login is one login attempt the server saw. The password is never recorded.
type Login struct {
	Username, Domain string
	// Accounts and Events are the filters as sent (nil when absent).
	Accounts, Events []string
	// Status is 200 for a token, else the status of the refusal; Message is the refusal's message.
	Status  int
	Message string
	// Account is the id logged in as (Status 200 only); Expiry is the minted token's exp.
	Account string
	Expiry  time.Time
	// Time is when the login arrived.
	Time time.Time
}

// Connection is one attempt to open the event stream.
type Connection struct {
	// TokenIn says where the token came: "header" (Authorization: Bearer), "query" (?token=) or ""
	// (none). The token itself is not recorded.
	TokenIn string
	// Status is 101 for an upgraded socket, else the status of the refusal; Message its message.
	Status  int
	Message string
	// Account, Accounts and Events are the token's account and filters (nil: no filter).
	Account          string
	Accounts, Events []string
	// Expiry is the token's exp.
	Expiry time.Time
	// Time is when the attempt arrived; Ended when the socket ended (zero while open or refused).
	Time, Ended time.Time
	// End says how the socket ended: EndExpired, EndDropped, EndClosed, EndClient, EndSlow,
	// EndServerClosed; "" while open or for a refusal.
	End string
	// Delivered counts the event messages written on the socket (duplicates and resends included).
	Delivered int64
	// Pings counts the pings the client sent; Pongs the pongs the server answered with.
	Pings, Pongs int64
}

// How a socket ended (Connection.End).
const (
	EndExpired      = "expired"       // its token expired (WithExpiryClose)
	EndDropped      = "dropped"       // DropAll: cut without a close frame
	EndClosed       = "closed"        // CloseAll: a close frame
	EndClient       = "client"        // the client closed it or went away
	EndSlow         = "slow"          // the client fell more than the queue behind
	EndServerClosed = "server closed" // Server.Close
)

type connRecord struct {
	Connection // guarded by Server.mu
}

// NewServer starts a server at once on 127.0.0.1 and a free port. It panics only if it cannot listen
// or make its certificate, like httptest.NewServer. Call Close when done.
func NewServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	var nb [16]byte
	rand.Read(nb[:])
	s := &Server{
		cfg:        cfg,
		tree:       newTree(cfg.accounts),
		nonce:      hex.EncodeToString(nb[:]),
		grants:     map[string]*grant{},
		sockets:    map[*socket]struct{}{},
		changed:    make(chan struct{}),
		loginFail:  failures{cfg.loginFailN, cfg.loginFailCode},
		loginDelay: cfg.loginDelay,
		shape:      cfg.shape,
		wrap:       cfg.wrap,
		dupEvery:   cfg.dupEvery,
		serveDone:  make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if ln, err = net.Listen("tcp6", "[::1]:0"); err != nil {
			panic(fmt.Sprintf("calleventstest: failed to listen on a port: %v", err))
		}
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:     http.HandlerFunc(s.serveHTTP),
		BaseContext: func(net.Listener) context.Context { return s.ctx },
		ConnState:   s.connState,
		ErrorLog:    log.New(io.Discard, "", 0),
	}
	tr := &http.Transport{}
	scheme := "http"
	if cfg.tls {
		scheme = "https"
		cert, leaf, err := newCertificate()
		if err != nil {
			ln.Close()
			panic(fmt.Sprintf("calleventstest: failed to make a certificate: %v", err))
		}
		s.cert = leaf
		s.pool = x509.NewCertPool()
		s.pool.AddCert(leaf)
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
		tr.TLSClientConfig = &tls.Config{RootCAs: s.pool}
	}
	s.client = &http.Client{Transport: tr}
	s.URL = scheme + "://" + ln.Addr().String()

	go func() {
		defer close(s.serveDone)
		if cfg.tls {
			s.srv.ServeTLS(ln, "", "")
		} else {
			s.srv.Serve(ln)
		}
	}()
	if cfg.rate > 0 {
		s.active.Add(1)
		go s.generate(cfg.rate)
	}
	return s
}

// Close stops the server: it closes the listener, cuts every socket, ends the rate generator and
// blocks until every handler and goroutine of the server has returned. It also closes the idle
// connections of Client. Safe to call more than once and concurrently.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		for sk := range s.sockets {
			sk.stop(endAction{how: EndServerClosed})
		}
		s.mu.Unlock()
		s.cancel()
		s.srv.Close()
		s.ln.Close()
		<-s.serveDone
		s.conns0.Wait()
		s.active.Wait()
		s.client.Transport.(*http.Transport).CloseIdleConnections()
	})
}

// EventsURL is the WebSocket URL of the event stream: ws://… (wss://… with TLS) + EventsPath.
func (s *Server) EventsURL() string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + EventsPath
}

// Certificate returns the server's self-signed certificate, or nil without TLS.
func (s *Server) Certificate() *x509.Certificate { return s.cert }

// CertPool returns a pool holding only the server's certificate (for a client's RootCAs), or nil
// without TLS.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// Client returns an HTTP client that trusts the server's certificate. Close closes its idle
// connections.
func (s *Server) Client() *http.Client { return s.client }

// Logins returns every login attempt answered so far, in the order they were answered.
func (s *Server) Logins() []Login {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Login, len(s.logins))
	for i, l := range s.logins {
		l.Accounts = cloneStrings(l.Accounts)
		l.Events = cloneStrings(l.Events)
		out[i] = l
	}
	return out
}

// Connections returns every attempt to open the event stream so far, in order of arrival.
func (s *Server) Connections() []Connection {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Connection, len(s.conns))
	for i, c := range s.conns {
		out[i] = c.Connection
		out[i].Accounts = cloneStrings(c.Accounts)
		out[i].Events = cloneStrings(c.Events)
	}
	return out
}

// OpenSockets returns the number of sockets open now (half-open ones included).
func (s *Server) OpenSockets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sockets)
}

// WaitSockets blocks until exactly n sockets are open (half-open ones included), ctx ends (its
// error is returned) or the server closes.
func (s *Server) WaitSockets(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		got, ch, closed := len(s.sockets), s.changed, s.closed
		s.mu.Unlock()
		if got == n {
			return nil
		}
		if closed {
			return fmt.Errorf("calleventstest: server closed with %d sockets open, waiting for %d", got, n)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("calleventstest: %d sockets open, waiting for %d: %w", got, n, ctx.Err())
		}
	}
}

// notify wakes WaitSockets; called with s.mu held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// FailLogins makes the next n logins answer status (e.g. 503) with a JSON error body, before any
// credential check. It replaces what is left of an earlier FailLogins or WithLoginFailures.
func (s *Server) FailLogins(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loginFail = failures{max(n, 0), status}
}

// FailConnects makes the next n attempts to open the event stream answer status before the upgrade,
// whatever their token.
func (s *Server) FailConnects(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connFail = failures{max(n, 0), status}
}

// SetLoginDelay makes every later login wait d before it answers.
func (s *Server) SetLoginDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loginDelay = max(d, 0)
}

// SetShape sets the payload shape of the events published from now on.
func (s *Server) SetShape(sh Shape) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shape = sh
}

// SetWrap sets the envelope of the events published from now on.
func (s *Server) SetWrap(w Wrap) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wrap = w
}

// SetDuplicates sends every n-th event published from now on twice (0: none).
func (s *Server) SetDuplicates(every int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dupEvery = max(every, 0)
}

// RevokeTokens makes every token minted so far invalid: an upgrade with one is refused with 401
// "invalid token", as for an expired one. Sockets already open stay open.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.grants)
}

// DropAll cuts every open socket's TCP connection abruptly (a reset, no close frame) and returns how
// many it cut.
func (s *Server) DropAll() int { return s.stopAll(endAction{how: EndDropped}) }

// CloseAll closes every open socket with a close frame of code and reason (the reason is cut to fit
// a control frame) and returns how many it closed.
func (s *Server) CloseAll(code int, reason string) int {
	return s.stopAll(endAction{how: EndClosed, code: code, reason: reason})
}

func (s *Server) stopAll(a endAction) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sk := range s.sockets {
		sk.stop(a)
	}
	return len(s.sockets)
}

// HalfOpenAll turns every open socket half-open and returns how many: the server stops answering its
// pings and sends it nothing more (events published meanwhile are lost for it), but the TCP
// connection stays open until the client closes it or the server closes.
func (s *Server) HalfOpenAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sk := range s.sockets {
		sk.halfOpen.Store(true)
	}
	return len(s.sockets)
}

func (s *Server) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		s.conns0.Add(1)
	case http.StateHijacked, http.StateClosed:
		s.conns0.Done()
	}
}

// enter registers a handler; false once Close has begun.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.active.Add(1)
	return true
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		writeError(w, http.StatusServiceUnavailable, "server closed")
		return
	}
	defer s.active.Done()
	switch r.URL.Path {
	case LoginPath:
		s.serveLogin(w, r)
	case EventsPath:
		s.serveEvents(w, r)
	default:
		writeError(w, http.StatusNotFound, "not found")
	}
}

// writeError answers status with {"message": msg} (the real error body's shape is undocumented).
func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(append([]byte(`{"message":`), jsonString(msg)...), "}\n"...))
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string{}, s...)
}

// newCertificate makes a self-signed ECDSA certificate for the loopback addresses.
func newCertificate() (tls.Certificate, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{Organization: []string{"calleventstest"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf, nil
}
