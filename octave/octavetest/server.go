package octavetest

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Server is a mock Octave: session host, WebSocket and REST on one loopback listener, from the
// moment NewServer returns until Close.
type Server struct {
	// URL is "http://127.0.0.1:PORT", without a trailing slash: the session host (POST URL +
	// SessionPath, sockets at ws://…/session/{id}/ws) and the REST base (URL + RESTPrefix).
	URL string

	cfg  config
	srv  *http.Server
	ln   net.Listener
	ids  *objectIDs
	ctx  context.Context // cancelled by Close
	stop context.CancelFunc

	mu         sync.Mutex
	closed     bool
	byID       map[string]*stream
	byPath     map[string]*stream
	streamList []*stream
	events     []*Event
	lastMS     int64
	sessions   map[string]*session
	sessList   []*session
	posts      int // POST /session requests, for the script
	sockets    map[*socket]struct{}
	dials      []Dial
	requests   []Request
	rest       []RESTRequest
	restFails  []int
	rejects    []rejectState
	generated  int

	active    sync.WaitGroup // handlers, sockets' goroutines, delayed replies, the generator
	conns     sync.WaitGroup // net/http connections until hijacked or closed
	serveDone chan struct{}
	closeOnce sync.Once
}

type rejectState struct {
	Reject
	seen int // subscribes of the stream so far
}

// NewServer starts a server on 127.0.0.1 and a free port (or [::1]). It panics if it cannot
// listen or if an option is invalid (a WithStream path used twice, a WithRate stream unknown), like
// httptest.NewServer. Call Close when done.
func NewServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	s := &Server{
		cfg:       cfg,
		ids:       newObjectIDs(),
		byID:      map[string]*stream{},
		byPath:    map[string]*stream{},
		sessions:  map[string]*session{},
		sockets:   map[*socket]struct{}{},
		restFails: append([]int(nil), cfg.restFailures...),
		serveDone: make(chan struct{}),
	}
	for _, r := range cfg.rejects {
		s.rejects = append(s.rejects, rejectState{Reject: r})
	}
	for _, sp := range cfg.streams {
		if _, err := s.addStreamLocked(sp.path, sp.capacity); err != nil {
			panic(err.Error())
		}
	}
	var gen []*stream
	for _, ref := range cfg.rateStreams {
		st := s.lookup(ref)
		if st == nil {
			panic(fmt.Sprintf("octavetest: WithRate: no stream %q", ref))
		}
		gen = append(gen, st)
	}
	s.ctx, s.stop = context.WithCancel(context.Background())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if ln, err = net.Listen("tcp6", "[::1]:0"); err != nil {
			panic(fmt.Sprintf("octavetest: failed to listen on a port: %v", err))
		}
	}
	s.ln = ln
	s.URL = "http://" + ln.Addr().String()
	s.srv = &http.Server{
		Handler:     http.HandlerFunc(s.serveHTTP),
		BaseContext: func(net.Listener) context.Context { return s.ctx },
		ConnState:   s.connState,
		ErrorLog:    log.New(io.Discard, "", 0),
	}
	go func() {
		defer close(s.serveDone)
		s.srv.Serve(ln)
	}()
	if cfg.rate > 0 {
		s.active.Add(1)
		go s.generate(gen)
	}
	return s
}

// Close stops the server: the listener, every socket (cut without a close frame), the generator
// and pending delayed replies; it blocks until every goroutine of the server has returned. Safe to
// call more than once and concurrently.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.stop()
		s.srv.Close()
		<-s.serveDone
		s.conns.Wait()
		s.active.Wait()
	})
}

func (s *Server) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		s.conns.Add(1)
	case http.StateHijacked, http.StateClosed:
		s.conns.Done()
	}
}

// enter registers a goroutine of the server; false once Close has begun.
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
		writeEnvelope(w, http.StatusServiceUnavailable, nil, "octavetest: server closed")
		return
	}
	defer s.active.Done()
	p := r.URL.Path
	switch {
	case p == SessionPath:
		if r.Method != http.MethodPost {
			writeEnvelope(w, http.StatusMethodNotAllowed, nil, "method not allowed")
			return
		}
		s.createSession(w, r)
	case strings.HasPrefix(p, SessionPath+"/") && strings.HasSuffix(p, "/ws"):
		id := strings.TrimSuffix(strings.TrimPrefix(p, SessionPath+"/"), "/ws")
		s.serveSocket(w, r, id)
	case strings.HasPrefix(p, RESTPrefix+"/"):
		s.serveREST(w, r)
	default:
		writeEnvelope(w, http.StatusNotFound, nil, NotFoundMessage)
	}
}

// generate publishes WithRate's events until Close.
func (s *Server) generate(streams []*stream) {
	defer s.active.Done()
	const tick = 5 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			due := int(now.Sub(start).Seconds() * s.cfg.rate)
			s.mu.Lock()
			for s.generated < due {
				st := streams[s.generated%len(streams)]
				e := s.newEventLocked(st, fmt.Appendf(nil, `{"n":%d}`, s.generated))
				s.pushLocked(st, e)
				s.generated++
			}
			s.mu.Unlock()
		}
	}
}

// SessionInfo is one POST /session the server answered.
type SessionInfo struct {
	ID         string // the session id; "" when refused
	Status     int    // 201, or the refusal's status
	Company    string // X-Auth-Company as sent
	User       string // X-Auth-User as sent
	HasUser    bool   // X-Auth-User was present
	TokenOK    bool   // X-Auth-Token matched (the token itself is never recorded)
	Time       time.Time
	Dialed     bool // a socket was opened with the id
	Heartbeats int  // {"type":"heartbeat"} messages received on its socket
	Messages   int  // data messages received on its socket, heartbeats included
	Pushes     int  // event pushes written on its socket, duplicates included
}

// Dial is one request for a socket.
type Dial struct {
	SessionID string
	Status    int    // 101 when upgraded, else the refusal's status
	Reason    string // "", "unknown", "expired", "used" or "not an upgrade" (refused with 400)
	Time      time.Time
}

// Request is one subscribe or unsubscribe received on a socket.
type Request struct {
	SessionID string
	MsgID     string // the msgId as sent (its JSON text, unquoted when a string)
	Type      string // "subscribe", "unsubscribe", or what was sent
	StreamID  string // as sent
	Path      string // as sent
	OK        bool   // the reply's head.ok
	Status    int    // the reply's head.status (200 when ok)
	Time      time.Time
}

// RESTRequest is one REST request.
type RESTRequest struct {
	Path   string
	Query  url.Values
	Status int
	Events int // events in the body
	Time   time.Time
}

// Sessions returns every POST /session answered so far, in order.
func (s *Server) Sessions() []SessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SessionInfo, len(s.sessList))
	for i, ss := range s.sessList {
		out[i] = ss.info
	}
	return out
}

// Dials returns every socket request so far, in order.
func (s *Server) Dials() []Dial {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Dial(nil), s.dials...)
}

// Requests returns every subscribe and unsubscribe received so far, in order of arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RESTRequests returns every REST request so far, in order.
func (s *Server) RESTRequests() []RESTRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RESTRequest, len(s.rest))
	for i, r := range s.rest {
		out[i] = r
		out[i].Query = url.Values{}
		for k, v := range r.Query {
			out[i].Query[k] = append([]string(nil), v...)
		}
	}
	return out
}

// Heartbeats returns the number of heartbeats received on all sockets so far.
func (s *Server) Heartbeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessList {
		n += ss.info.Heartbeats
	}
	return n
}

// OpenSockets returns the number of sockets open now.
func (s *Server) OpenSockets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sockets)
}

// Kick applies action to every open socket now, as a scripted Conn would (Drop, Close with code
// and reason, Silence, Mute); None does nothing.
func (s *Server) Kick(action Action, code int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for so := range s.sockets {
		so.kick(action, code, reason)
	}
}

// SendRaw writes msg as a text message to every open socket, in order with its other messages:
// a malformed frame, an unknown one, a forged reply. It is not counted as a push.
func (s *Server) SendRaw(msg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := append([]byte(nil), msg...)
	for so := range s.sockets {
		so.enqueue(outMsg{data: b})
	}
}
