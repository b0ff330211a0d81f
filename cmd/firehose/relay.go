package main

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"

	"github.com/firehose-go/firehose/firehosetest"
)

// mockServer is a firehosetest.Server reachable on an address of the user's
// choosing. firehosetest listens only on a free loopback port, so the mock
// command listens on --addr itself and relays each TCP connection, bytes
// untouched (TLS, HTTP/2, WebSocket and gRPC pass through as they are), to
// the server. With a listener option in firehosetest the relay would go.
type mockServer struct {
	*firehosetest.Server
	URL string // the address the user asked for, in the server's scheme

	ln    net.Listener
	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func startMock(addr string, opts []firehosetest.Option) (*mockServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := firehosetest.NewServer(opts...)
	u, err := url.Parse(srv.URL)
	if err != nil {
		ln.Close()
		srv.Close()
		return nil, err
	}
	u.Host = ln.Addr().String()
	m := &mockServer{Server: srv, URL: u.String(), ln: ln, conns: map[net.Conn]struct{}{}}
	m.ctx, m.stop = context.WithCancel(context.Background())
	m.wg.Go(m.accept)
	return m, nil
}

func (m *mockServer) accept() {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			return // closed
		}
		if !m.track(c) {
			c.Close()
			return
		}
		m.wg.Go(func() { m.relay(c) })
	}
}

// track registers c so Close can end it; false once closing.
func (m *mockServer) track(c net.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conns == nil {
		return false
	}
	m.conns[c] = struct{}{}
	return true
}

func (m *mockServer) untrack(c net.Conn) {
	m.mu.Lock()
	delete(m.conns, c)
	m.mu.Unlock()
	c.Close()
}

// relay copies bytes both ways between the client c and the server until
// either side ends, then closes both.
func (m *mockServer) relay(c net.Conn) {
	defer m.untrack(c)
	up, err := m.DialContext(m.ctx, "tcp", "")
	if err != nil {
		return
	}
	if !m.track(up) {
		up.Close()
		return
	}
	defer m.untrack(up)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	// One side ended: end the other, and wait for its copy.
	c.Close()
	up.Close()
	<-done
}

// Close stops accepting, ends every relayed connection, and closes the server.
func (m *mockServer) Close() {
	m.ln.Close()
	m.stop()
	m.mu.Lock()
	conns := m.conns
	m.conns = nil
	m.mu.Unlock()
	for c := range conns {
		c.Close()
	}
	m.wg.Wait()
	m.Server.Close()
}
