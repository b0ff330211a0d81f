package firehosetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a mock Cisco Spaces Partner Firehose, listening on loopback (or in memory, see
// WithInMemory) from the moment NewServer returns until Close.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:PORT" ("https://…" with TLS; the host is
	// firehosetest.invalid in memory), with no trailing slash. Clients append EventsPath.
	URL string

	cfg    config
	log    *Log
	srv    *http.Server
	ln     net.Listener
	mem    *memListener
	addr   string
	cert   *x509.Certificate
	client *http.Client

	ctx    context.Context // cancelled by Close; the base of every request's context
	cancel context.CancelFunc
	done   <-chan struct{}

	mu        sync.Mutex
	closed    bool
	reqs      []*reqRecord
	active    sync.WaitGroup // handlers and sessions
	conns     sync.WaitGroup // net/http connections (ConnState)
	serveDone chan struct{}
	closeOnce sync.Once

	served atomic.Int64

	grpc grpcState // the gRPC channel's record cache (grpc.go)
}

// Request is one connection attempt the server saw.
type Request struct {
	// Transport is the channel: ChannelHTTP, ChannelWS or ChannelGRPC.
	Transport string
	// Proto is the HTTP protocol version, e.g. "HTTP/1.1" or "HTTP/2.0".
	Proto string
	// Path is the request's URL path.
	Path string
	// KeyOK reports whether the API key matched (always true when the key check is off).
	KeyOK bool
	// MinPartition and MaxPartition are the range asked for (defaults 1 and 12; 0 if unparsable).
	MinPartition, MaxPartition int
	// FromTimestamp is the fromTimestamp parameter (epoch ms) as sent; HasFromTimestamp says it was.
	FromTimestamp    int64
	HasFromTimestamp bool
	// ReplicaID is the replicaId parameter; HasReplicaID says it was sent.
	ReplicaID    int
	HasReplicaID bool
	// Status is 200 for a stream, else the status the attempt was refused with.
	Status int
	// Time is when the attempt arrived, by the server's clock.
	Time time.Time
	// Served is the number of event lines written on this connection so far (duplicates
	// included; keep-alives, injected and torn lines not).
	Served int64
}

type reqRecord struct {
	Request // guarded by Server.mu
	served  atomic.Int64
}

// NewServer starts a server at once, on 127.0.0.1 and a free port (or in memory). It panics only if
// it cannot listen or make its certificate, like httptest.NewServer. Call Close when done.
func NewServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	s := &Server{cfg: cfg, serveDone: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.done = s.ctx.Done()
	s.log = newLog(&s.cfg, time.Now())

	host := memHost
	if cfg.inMemory {
		s.mem = newMemListener()
		s.ln = s.mem
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			if ln, err = net.Listen("tcp6", "[::1]:0"); err != nil {
				panic(fmt.Sprintf("firehosetest: failed to listen on a port: %v", err))
			}
		}
		s.ln = ln
		host = ln.Addr().String()
	}
	s.addr = host

	s.srv = &http.Server{
		Handler:     handler{s},
		BaseContext: func(net.Listener) context.Context { return s.ctx },
		ConnState:   s.connState,
		ErrorLog:    log.New(io.Discard, "", 0),
	}
	tr := &http.Transport{ForceAttemptHTTP2: cfg.http2}
	if cfg.inMemory {
		tr.DialContext = s.DialContext
	}
	scheme := "http"
	if cfg.tls {
		scheme = "https"
		cert, leaf, err := newCertificate()
		if err != nil {
			s.ln.Close()
			panic(fmt.Sprintf("firehosetest: failed to make a certificate: %v", err))
		}
		s.cert = leaf
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		p := new(http.Protocols)
		p.SetHTTP1(true)
		p.SetHTTP2(cfg.http2)
		s.srv.Protocols = p
		pool := x509.NewCertPool()
		pool.AddCert(leaf)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	} else {
		// HTTP/1.1, and cleartext HTTP/2 with prior knowledge for the gRPC channel (grpc.go).
		p := new(http.Protocols)
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		s.srv.Protocols = p
	}
	s.client = &http.Client{Transport: tr}
	s.URL = scheme + "://" + host

	go func() {
		defer close(s.serveDone)
		if cfg.tls {
			s.srv.ServeTLS(s.ln, "", "")
		} else {
			s.srv.Serve(s.ln)
		}
	}()
	return s
}

// Close stops the server: it closes the listener and every connection, ends every open stream
// (stalled ones included), and blocks until every handler and goroutine of the server has returned.
// It also closes the idle connections of Client. Safe to call more than once and concurrently.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		s.srv.Close()
		s.ln.Close()
		<-s.serveDone
		s.conns.Wait()
		s.active.Wait()
		s.client.Transport.(*http.Transport).CloseIdleConnections()
	})
}

// Log returns the server's event log.
func (s *Server) Log() *Log { return s.log }

// Requests returns every connection attempt seen so far, in order of arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	for i, r := range s.reqs {
		out[i] = r.Request
		out[i].Served = r.served.Load()
	}
	return out
}

// Served returns the number of event lines written on all connections so far (duplicates included;
// keep-alives, injected and torn lines not).
func (s *Server) Served() int64 { return s.served.Load() }

// Certificate returns the server's self-signed certificate, or nil without TLS.
func (s *Server) Certificate() *x509.Certificate { return s.cert }

// Client returns an HTTP client set up for this server: it trusts the certificate (TLS), attempts
// HTTP/2 (WithHTTP2) and dials through DialContext (WithInMemory). Close closes its idle connections.
func (s *Server) Client() *http.Client { return s.client }

// DialContext connects to the server, whatever network and addr say: to the in-memory listener with
// WithInMemory (use it as http.Transport.DialContext), else to the server's TCP address.
func (s *Server) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if s.mem != nil {
		return s.mem.dial(ctx)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.addr)
}

func (s *Server) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		s.conns.Add(1)
	case http.StateHijacked, http.StateClosed:
		s.conns.Done()
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

type handler struct{ s *Server }

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.s.enter() {
		http.Error(w, "firehosetest: server closed", http.StatusServiceUnavailable)
		return
	}
	defer h.s.active.Done()
	h.s.route(w, r)
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
		Subject:               pkix.Name{Organization: []string{"firehosetest"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost", memHost},
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
