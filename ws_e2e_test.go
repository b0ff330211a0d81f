package firehose_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

// End-to-end tests of the WebSocket channel against firehosetest, beyond the
// conformance table that every transport runs (engine_test.go).

// wsSpy watches what the client writes on its sockets: the handshake request,
// and the control frames that follow (a client frame's first byte is FIN|opcode).
type wsSpy struct {
	mu        sync.Mutex
	handshake []string
	pings     atomic.Int32
	closes    atomic.Int32
}

func (s *wsSpy) dial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &wsSpyConn{Conn: c, s: s}, nil
	}
}

type wsSpyConn struct {
	net.Conn
	s *wsSpy
}

func (c *wsSpyConn) Write(p []byte) (int, error) {
	switch {
	case bytes.HasPrefix(p, []byte("GET ")):
		c.s.mu.Lock()
		c.s.handshake = append(c.s.handshake, string(p))
		c.s.mu.Unlock()
	case len(p) >= 2 && p[0] == 0x89:
		c.s.pings.Add(1)
	case len(p) >= 2 && p[0] == 0x88:
		c.s.closes.Add(1)
	}
	return c.Conn.Write(p)
}

func (s *wsSpy) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.handshake...)
}

// TestWSMessages: several lines in one message are several events; binary and
// oversized messages are counted and dropped without losing the connection.
func TestWSMessages(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithHistory(400, time.Minute), firehosetest.WithScript(firehosetest.Conn{
		LinesPerMessage: 6,
		Inject: []firehosetest.Inject{
			{At: 10, Kind: firehosetest.BinaryMessage},
			{At: 20, Kind: firehosetest.Oversized, Size: 40 << 10},
			{At: 30, Kind: firehosetest.Malformed},
		},
	}))
	defer srv.Close()
	want := srv.Log().Events(1, 12)
	c := newClient(t, srv, firehose.TransportWebSocket, firehose.WithStart(want[0].Emit.Add(-time.Minute)), firehose.WithMaxEventSize(32<<10))
	s := openStream(t, c)
	collect(t, s, want)
	st := s.Stats()
	if st.Malformed != 2 || st.Oversized != 1 || st.ReconnectTotal() != 0 || st.Connects != 1 {
		t.Fatalf("stats %+v: want 2 malformed (binary, bad JSON), 1 oversized, no reconnect", st)
	}
}

// TestWSTryAgainLater: close 1013 waits like a 429 (the 5 s floor), in fake time.
func TestWSTryAgainLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := firehosetest.NewServer(firehosetest.WithInMemory(), firehosetest.WithHistory(5, time.Second),
			firehosetest.WithScript(firehosetest.Conn{Action: firehosetest.EndStream, CloseCode: 1013, Message: "busy"}))
		defer srv.Close()
		c := memClient(t, srv, firehose.WithTransport(firehose.TransportWebSocket), firehose.WithStart(time.Now().Add(-time.Minute)))
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
		reqs := srv.Requests()
		if d := reqs[1].Time.Sub(reqs[0].Time); d < firehose.DefaultRateLimitFloor || d > firehose.DefaultRateLimitFloor+time.Second {
			t.Fatalf("reconnected after %v, want the %v floor", d, firehose.DefaultRateLimitFloor)
		}
		st := s.Stats()
		if st.Reconnects[firehose.CauseRateLimited] != 1 || !strings.Contains(st.LastError, "1013 (try again later): busy") {
			t.Fatalf("stats %+v", st)
		}
	})
}

// TestWSPongsDoNotFeedTheIdleClock: a stalled server still answers the
// client's pings; the idle timeout fires all the same.
func TestWSPongsDoNotFeedTheIdleClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := firehosetest.NewServer(firehosetest.WithInMemory(), firehosetest.WithHistory(3, time.Second),
			firehosetest.WithScript(firehosetest.Conn{After: 3, Action: firehosetest.Stall}))
		defer srv.Close()
		var sp wsSpy
		c := memClient(t, srv, firehose.WithTransport(firehose.TransportWebSocket), firehose.WithDialer(sp.dial(srv.DialContext)),
			firehose.WithStart(time.Now().Add(-time.Minute)))
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx := context.Background()
		for range 3 {
			if _, err := s.Next(ctx); err != nil {
				t.Fatal(err)
			}
		}
		t0 := time.Now()
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Next(ctx) // the replay brings only duplicates, then nothing
		}()
		for s.Stats().Reconnects[firehose.CauseIdle] == 0 {
			time.Sleep(time.Second)
		}
		if d := time.Since(t0); d < firehose.DefaultIdleTimeout || d > firehose.DefaultIdleTimeout*5/4+time.Second {
			t.Fatalf("idle reconnect after %v", d)
		}
		if n := sp.pings.Load(); n < 2 {
			t.Fatalf("%d pings in %v of silence, want one per idle/3", n, firehose.DefaultIdleTimeout)
		}
		s.Close()
		<-done
	})
}

// TestWSCloseSaysGoodbye: Close interrupts a waiting Next at once, sends a
// close frame and gets the server's.
func TestWSCloseSaysGoodbye(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := firehosetest.NewServer(firehosetest.WithInMemory(), firehosetest.WithScript(firehosetest.Conn{Action: firehosetest.Stall}))
		defer srv.Close()
		var sp wsSpy
		c := memClient(t, srv, firehose.WithTransport(firehose.TransportWebSocket), firehose.WithDialer(sp.dial(srv.DialContext)),
			firehose.WithIdleTimeout(time.Hour))
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := s.Next(context.Background())
			done <- err
		}()
		synctest.Wait() // Next is reading
		t0 := time.Now()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, firehose.ErrClosed) {
			t.Fatalf("Next after Close: %v", err)
		}
		if d := time.Since(t0); d != 0 {
			t.Fatalf("Close took %v of fake time: the server's close frame was not awaited", d)
		}
		if n := sp.closes.Load(); n != 1 {
			t.Fatalf("%d close frames sent, want 1", n)
		}
	})
}

// TestWSCallerCancel: a Next whose ctx ends returns its error; the next call
// reconnects and loses nothing.
func TestWSCallerCancel(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithHistory(50, 10*time.Second))
	defer srv.Close()
	want := srv.Log().Events(1, 12)
	c := newClient(t, srv, firehose.TransportWebSocket, firehose.WithStart(want[0].Emit.Add(-time.Minute)), firehose.WithIdleTimeout(time.Hour))
	s := openStream(t, c)
	collect(t, s, want[:20])
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with a cancelled ctx: %v", err)
	}
	collect(t, s, want[20:])
}

// TestWSLiveStartUsesTheHandshakeDate: a live start that drops before its
// first event replays from the server's Date at the handshake, minus the margin.
func TestWSLiveStartUsesTheHandshakeDate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := firehosetest.NewServer(firehosetest.WithInMemory(), firehosetest.WithRate(1),
			firehosetest.WithScript(firehosetest.Conn{Action: firehosetest.Cut}))
		defer srv.Close()
		c := memClient(t, srv, firehose.WithTransport(firehose.TransportWebSocket))
		t0 := time.Now()
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
		reqs := srv.Requests()
		want := t0.Add(-firehose.DefaultReplayMargin).UnixMilli()
		if reqs[0].HasFromTimestamp || reqs[1].FromTimestamp > want || reqs[1].FromTimestamp < want-1000 {
			t.Fatalf("requests %+v, want a live start then a replay from about %d", reqs, want)
		}
	})
}

// TestWSTLS: wss:// with the user's TLS config even when it offers h2 (as a
// config shared with net/http does): the dialer's own clone offers
// http/1.1 only. An untrusted certificate is fatal.
func TestWSTLS(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithHTTP2(), firehosetest.WithHistory(50, time.Second))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	shared := &tls.Config{RootCAs: pool, NextProtos: []string{"h2", "http/1.1"}}
	want := srv.Log().Events(1, 12)
	c := newClient(t, srv, firehose.TransportWebSocket, firehose.WithTLSConfig(shared), firehose.WithStart(want[0].Emit.Add(-time.Minute)))
	s := openStream(t, c)
	collect(t, s, want)
	if r := srv.Requests(); r[0].Transport != firehosetest.ChannelWS || r[0].Proto != "HTTP/1.1" {
		t.Fatalf("requests %+v", r)
	}

	untrusted := newClient(t, srv, firehose.TransportWebSocket)
	if _, err := untrusted.Open(context.Background()); !errors.Is(err, firehose.ErrFatal) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted: %v, want a fatal certificate error", err)
	}
}

// TestWSCompression: permessage-deflate is offered when enabled, and not otherwise.
func TestWSCompression(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		srv := firehosetest.NewServer(firehosetest.WithHistory(100, time.Second))
		var sp wsSpy
		want := srv.Log().Events(1, 12)
		c := newClient(t, srv, firehose.TransportWebSocket, firehose.WithCompression(on), firehose.WithDialer(sp.dial(srv.DialContext)),
			firehose.WithStart(want[0].Emit.Add(-time.Minute)))
		s := openStream(t, c)
		collect(t, s, want)
		s.Close()
		srv.Close()
		hs := sp.requests()
		if len(hs) != 1 || strings.Contains(hs[0], "permessage-deflate") != on || !strings.Contains(hs[0], "X-Api-Key: test-key") {
			t.Fatalf("compression %v: handshake %q", on, hs)
		}
	}
}

// TestWSProxyFromEnvironment: HTTPS_PROXY is used for a wss:// endpoint (a
// gorilla Dialer has no proxy unless given one).
func TestWSProxyFromEnvironment(t *testing.T) {
	var mu sync.Mutex
	var connects []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		connects = append(connects, r.Method+" "+r.Host)
		mu.Unlock()
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer proxy.Close()
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "")
	c, err := firehose.New(firehose.WithEndpoint("https://partners.ciscospaces.io"), firehose.WithAPIKey("k"),
		firehose.WithTransport(firehose.TransportWebSocket), firehose.WithRetryLimit(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Open(ctx); err == nil {
		t.Fatal("Open through a refusing proxy succeeded")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(connects) != 1 || connects[0] != "CONNECT partners.ciscospaces.io:443" {
		t.Fatalf("proxy saw %v, want one CONNECT to the endpoint", connects)
	}
}

// TestWSTryAgainLaterAfterEvents: a 1013 on a connection that has delivered
// events must still wait like a 429.
func TestWSTryAgainLaterAfterEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := firehosetest.NewServer(firehosetest.WithInMemory(), firehosetest.WithHistory(10, time.Second),
			firehosetest.WithScript(firehosetest.Conn{After: 5, Action: firehosetest.EndStream, CloseCode: 1013}))
		defer srv.Close()
		c := memClient(t, srv, firehose.WithTransport(firehose.TransportWebSocket), firehose.WithStart(time.Now().Add(-time.Minute)))
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for range 6 {
			if _, err := s.Next(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		reqs := srv.Requests()
		if d := reqs[1].Time.Sub(reqs[0].Time); d < firehose.DefaultRateLimitFloor {
			t.Fatalf("reconnected %v after a close 1013, want at least %v", d, firehose.DefaultRateLimitFloor)
		}
	})
}
