package firehose_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

// freezer is a TCP relay on loopback that can stop forwarding on every
// connection it carries without closing any: a NAT or proxy that dropped the
// flow silently. Connections made after a freeze are forwarded again.
type freezer struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	frozen chan struct{} // closed by freeze: the current connections stop
	wg     sync.WaitGroup
}

func newFreezer(t *testing.T, target string) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln, target: target, frozen: make(chan struct{})}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(f.close)
	return f
}

func (f *freezer) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", f.target)
		if err != nil {
			c.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, c, up)
		frozen := f.frozen
		f.mu.Unlock()
		f.wg.Add(2)
		go f.pipe(c, up, frozen)
		go f.pipe(up, c, frozen)
	}
}

// pipe copies until frozen, then holds the connection open, forwarding nothing.
func (f *freezer) pipe(dst, src net.Conn, frozen chan struct{}) {
	defer f.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-frozen:
			io.Copy(io.Discard, src) // swallow, answer nothing, until closed
			return
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (f *freezer) freeze() {
	f.mu.Lock()
	close(f.frozen)
	f.frozen = make(chan struct{})
	f.mu.Unlock()
}

func (f *freezer) close() {
	f.ln.Close()
	f.mu.Lock()
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// TestHTTP2RecoversFromASilentlyDroppedConnection: after a relay stops
// forwarding without closing, the idle timeout fires and the next attempt
// must not go out on the dead pooled HTTP/2 connection (it would wait for
// TCP to give up, some fifteen minutes): events flow again within the idle
// timeout plus the backoff.
func TestHTTP2RecoversFromASilentlyDroppedConnection(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithHTTP2(), firehosetest.WithRate(200), firehosetest.WithKeepAlive(100*time.Millisecond))
	defer srv.Close()
	relay := newFreezer(t, strings.TrimPrefix(srv.URL, "https://"))
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	const idle = 600 * time.Millisecond
	c, err := firehose.New(firehose.WithEndpoint("https://"+relay.ln.Addr().String()), firehose.WithAPIKey(firehosetest.DefaultAPIKey),
		firehose.WithTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}),
		firehose.WithIdleTimeout(idle), firehose.WithBackoff(10*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 20 {
		if _, err := s.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	relay.freeze()
	frozeAt := time.Now()
	before := s.Stats().Connects
	for s.Stats().Connects == before {
		if _, err := s.Next(ctx); err != nil {
			t.Fatalf("no recovery %v after the freeze: %v", time.Since(frozeAt), err)
		}
	}
	// One more event on the new connection.
	if _, err := s.Next(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(frozeAt); d > 5*idle {
		t.Fatalf("recovered after %v, want within the idle timeout (%v) plus the backoff", d, idle)
	}
}
