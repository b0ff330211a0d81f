package firehose_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

// TestHTTP2Negotiated: against a TLS server offering h2, the stream runs over
// HTTP/2 even with a custom TLS config (which turns HTTP/2 off in net/http
// unless ForceAttemptHTTP2 is set).
func TestHTTP2Negotiated(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithHTTP2(), firehosetest.WithHistory(50, time.Second))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	want := srv.Log().Events(1, 12)
	c := newClient(t, srv, firehose.TransportHTTP, firehose.WithTLSConfig(&tls.Config{RootCAs: pool}),
		firehose.WithStart(want[0].Emit.Add(-time.Minute)))
	s := openStream(t, c)
	collect(t, s, want)
	for _, r := range srv.Requests() {
		if r.Proto != "HTTP/2.0" {
			t.Fatalf("negotiated %q, want HTTP/2.0", r.Proto)
		}
	}
}

// TestUntrustedCertificateIsFatal: a TLS error will not heal by retrying.
func TestUntrustedCertificateIsFatal(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithTLS())
	defer srv.Close()
	c := newClient(t, srv, firehose.TransportHTTP) // system roots: the mock's cert is unknown
	_, err := c.Open(context.Background())
	if !errors.Is(err, firehose.ErrFatal) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v, want a fatal certificate error", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests reached the server", n)
	}
}

// TestRedirectKeepsTheKeyHome: a redirect to another host is refused (net/http
// would forward X-API-Key); one on the same host is followed.
func TestRedirectKeepsTheKeyHome(t *testing.T) {
	var leaked bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("X-API-Key") != ""
	}))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	c, err := firehose.New(firehose.WithEndpoint(redirector.URL), firehose.WithAPIKey("k"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Open(context.Background())
	if !errors.Is(err, firehose.ErrFatal) || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("err = %v, want a fatal refused redirect", err)
	}
	if leaked {
		t.Fatal("the key was sent to the other host")
	}
}

// TestProxyFromEnvironment: HTTPS_PROXY is used for a remote host, NO_PROXY
// exempts one. (No traffic: the proxy is asked for, not dialled.)
func TestProxyFromEnvironment(t *testing.T) {
	var connects []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		connects = append(connects, r.Method+" "+r.Host)
		http.Error(w, "no", http.StatusForbidden) // refuse the CONNECT
	}))
	defer proxy.Close()
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "exempt.example")
	c, err := firehose.New(firehose.WithEndpoint("https://partners.ciscospaces.io"), firehose.WithAPIKey("k"), firehose.WithRetryLimit(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Open(ctx); err == nil {
		t.Fatal("Open through a refusing proxy succeeded")
	}
	if len(connects) != 1 || connects[0] != "CONNECT partners.ciscospaces.io:443" {
		t.Fatalf("proxy saw %v, want one CONNECT to the endpoint", connects)
	}
}
