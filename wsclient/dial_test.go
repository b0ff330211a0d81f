package wsclient_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/firehose-go/firehose/wsclient"
)

// TestHandshakeRefused: a refused upgrade is a *HandshakeError with the
// response, its body readable, for the caller to classify.
func TestHandshakeRefused(t *testing.T) {
	t.Parallel()
	for _, code := range []int{401, 403, 429, 503} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3")
			http.Error(w, "refused "+r.Header.Get("X-Try"), code)
		}))
		c, resp, err := wsclient.Dial(context.Background(), wsURL(srv), wsclient.Options{Header: http.Header{"X-Try": {"once"}}})
		srv.Close()
		var he *wsclient.HandshakeError
		if c != nil || !errors.As(err, &he) || he.Status != code || string(he.Body) != "refused once\n" || he.Header.Get("Retry-After") != "3" {
			t.Fatalf("%d: %v, %+v", code, err, he)
		}
		if strings.Contains(err.Error(), "refused once") {
			t.Fatalf("the body is in the error: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp == nil || resp.StatusCode != code || string(body) != "refused once\n" {
			t.Fatalf("%d: response %v, body %q", code, resp, body)
		}
	}
}

// silentListener accepts sockets and never answers them.
func silentListener(t *testing.T) (addr string, accepted <-chan net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan net.Conn, 10)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ch <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		close(ch)
		for c := range ch {
			c.Close()
		}
	})
	return ln.Addr().String(), ch
}

// TestHandshakeCancel: a server that accepts the socket and never answers
// the upgrade does not hold Dial past its ctx (gorilla alone only watches
// ctx while dialing); the error carries the ctx's cause.
func TestHandshakeCancel(t *testing.T) {
	t.Parallel()
	addr, accepted := silentListener(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := wsclient.Dial(ctx, "ws://"+addr+"/", wsclient.Options{HandshakeTimeout: time.Hour})
		done <- err
	}()
	<-accepted // the socket is open, the upgrade request on its way
	errMine := errors.New("my cause")
	cancel(errMine)
	if err := <-done; !errors.Is(err, errMine) {
		t.Fatalf("Dial: %v, want the ctx's cause", err)
	}
}

// TestHandshakeTimeout: HandshakeTimeout bounds a handshake never answered.
func TestHandshakeTimeout(t *testing.T) {
	t.Parallel()
	addr, _ := silentListener(t)
	_, _, err := wsclient.Dial(context.Background(), "ws://"+addr+"/", wsclient.Options{HandshakeTimeout: 30 * time.Millisecond})
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Dial: %v, want a timeout", err)
	}
}

// TestTLS: wss:// with the caller's TLS config even when it offers h2 (as a
// config shared with net/http does): Dial's clone offers http/1.1 only and
// leaves the caller's config alone.
func TestTLS(t *testing.T) {
	t.Parallel()
	var proto string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto = r.Proto
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		text(ws, "over tls")
		ws.NextReader()
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	shared := &tls.Config{RootCAs: pool, NextProtos: []string{"h2", "http/1.1"}}
	c, _, err := wsclient.Dial(context.Background(), srv.URL, wsclient.Options{TLSConfig: shared}) // https:// taken as wss://
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expect(t, c, "over tls")
	if proto != "HTTP/1.1" || strings.Join(shared.NextProtos, ",") != "h2,http/1.1" {
		t.Fatalf("proto %s; the caller's NextProtos %v", proto, shared.NextProtos)
	}

	_, _, err = wsclient.Dial(context.Background(), srv.URL, wsclient.Options{})
	var ue *tls.CertificateVerificationError
	if !errors.As(err, &ue) {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

// connectProxy records CONNECT requests and refuses them.
func connectProxy(t *testing.T) (url string, seen func() []string) {
	var mu sync.Mutex
	var connects []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		connects = append(connects, r.Method+" "+r.Host)
		mu.Unlock()
		http.Error(w, "no", http.StatusForbidden)
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), connects...)
	}
}

// TestProxyFromEnvironment: with no Proxy, HTTPS_PROXY is read when Dial is
// called (a gorilla Dialer has no proxy unless given one).
func TestProxyFromEnvironment(t *testing.T) {
	proxy, seen := connectProxy(t)
	t.Setenv("NO_PROXY", "")
	t.Setenv("HTTPS_PROXY", "")
	if _, _, err := wsclient.Dial(context.Background(), "wss://firehose.invalid/events", wsclient.Options{}); err == nil {
		t.Fatal("Dial to .invalid succeeded")
	}
	t.Setenv("HTTPS_PROXY", proxy)
	if _, _, err := wsclient.Dial(context.Background(), "wss://firehose.invalid/events", wsclient.Options{}); err == nil {
		t.Fatal("Dial through a refusing proxy succeeded")
	}
	if s := seen(); len(s) != 1 || s[0] != "CONNECT firehose.invalid:443" {
		t.Fatalf("proxy saw %v, want one CONNECT to the endpoint", s)
	}
}

// TestProxyOption: Options.Proxy replaces the environment.
func TestProxyOption(t *testing.T) {
	t.Parallel()
	proxy, seen := connectProxy(t)
	pu, _ := url.Parse(proxy)
	var asked string
	_, _, err := wsclient.Dial(context.Background(), "ws://firehose.invalid:8080/events", wsclient.Options{
		Proxy: func(r *http.Request) (*url.URL, error) { asked = r.URL.String(); return pu, nil },
	})
	if err == nil {
		t.Fatal("Dial through a refusing proxy succeeded")
	}
	if s := seen(); len(s) != 1 || s[0] != "CONNECT firehose.invalid:8080" || asked != "http://firehose.invalid:8080/events" {
		t.Fatalf("proxy saw %v, asked for %q", s, asked)
	}
}

// TestDialer: Options.Dial opens the socket.
func TestDialer(t *testing.T) {
	t.Parallel()
	srv := scriptServer(t, func(ws *websocket.Conn, _ *http.Request, _ <-chan struct{}) { text(ws, "hi") })
	var dialed []string
	c, _, err := wsclient.Dial(context.Background(), "ws://events.example:1234/x", wsclient.Options{
		Proxy: func(*http.Request) (*url.URL, error) { return nil, nil },
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialed = append(dialed, network+" "+addr)
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Listener.Addr().String())
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expect(t, c, "hi")
	if len(dialed) != 1 || dialed[0] != "tcp events.example:1234" {
		t.Fatalf("dialed %v", dialed)
	}
}

// TestOptionsRejected: Dial validates before any I/O.
func TestOptionsRejected(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]wsclient.Options{
		"negative max":           {MaxUnit: -1},
		"negative ping":          {PingEvery: -time.Second},
		"pong wait without ping": {PongWait: time.Second},
		"unknown split":          {Split: 7},
	} {
		if _, _, err := wsclient.Dial(context.Background(), "ws://127.0.0.1:1/", o); err == nil || !strings.Contains(err.Error(), "wsclient:") {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, u := range []string{"ftp://x/", "://"} {
		if _, _, err := wsclient.Dial(context.Background(), u, wsclient.Options{}); err == nil {
			t.Errorf("%s: accepted", u)
		}
	}
}
