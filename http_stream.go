package firehose

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/firehose-go/firehose/internal/ndjson"
)

// The HTTP channel: one long-lived GET whose body is NDJSON, over HTTP/1.1 or
// HTTP/2 (negotiated with TLS ALPN).

const userAgent = "firehose-go/1"

type httpConnector struct {
	cfg    *config
	client *http.Client
	own    *http.Transport // nil when the user supplied the client
}

func newHTTPConnector(cfg *config) *httpConnector {
	hc := &httpConnector{cfg: cfg}
	if cfg.httpClient != nil {
		cp := *cfg.httpClient
		hc.client = &cp
	} else {
		hc.own = newHTTPTransport(cfg)
		hc.client = &http.Client{Transport: hc.own}
	}
	user := hc.client.CheckRedirect
	hc.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkRedirect(req, via); err != nil {
			return err
		}
		if user != nil {
			return user(req, via)
		}
		return nil
	}
	return hc
}

// newHTTPTransport is a transport of the receiver's own, so parallel receivers
// get parallel TCP connections even where HTTP/2 would multiplex them.
func newHTTPTransport(cfg *config) *http.Transport {
	d := &net.Dialer{Timeout: defaultHandshakeDeadline, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                 proxyFunc(),
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true, // a custom TLS config would otherwise turn HTTP/2 off
		TLSHandshakeTimeout:   defaultHandshakeDeadline,
		MaxIdleConns:          2,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ReadBufferSize:        64 << 10,
		// A relay that stops forwarding without closing leaves an HTTP/2
		// connection that looks alive: pings find it dead within the idle
		// timeout, so the resume request never waits on it for TCP's
		// fifteen minutes.
		HTTP2: &http.HTTP2Config{
			SendPingTimeout: max(cfg.idle/3, time.Second),
			PingTimeout:     max(min(cfg.idle/3, 15*time.Second), time.Second),
		},
	}
	if cfg.dial != nil {
		t.DialContext = cfg.dial
	}
	if cfg.tlsConfig != nil {
		t.TLSClientConfig = cfg.tlsConfig.Clone()
	}
	return t
}

// checkRedirect refuses redirects that would carry the key to another host or
// over plain http.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return fatalf("stopped after 10 redirects: a redirect loop will not end by retrying")
	}
	first := via[0].URL
	if req.URL.Host != first.Host || (first.Scheme == "https" && req.URL.Scheme != "https") {
		return fatalf("refusing redirect from %s to %s: the API key must not leave the endpoint's host", first.Redacted(), req.URL.Redacted())
	}
	return nil
}

// requestURL is the endpoint with the request's query parameters.
func requestURL(base *url.URL, req ConnectRequest, cfg *config) *url.URL {
	u := *base
	q := url.Values{}
	q.Set("minPartition", strconv.Itoa(req.Range.Min))
	q.Set("maxPartition", strconv.Itoa(req.Range.Max))
	if req.From > 0 {
		q.Set("fromTimestamp", strconv.FormatInt(req.From, 10))
	}
	if cfg.hasReplica {
		q.Set("replicaId", strconv.Itoa(cfg.replicaID))
	}
	u.RawQuery = q.Encode()
	return &u
}

func (h *httpConnector) Connect(ctx context.Context, req ConnectRequest) (Conn, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, requestURL(h.cfg.endpoint, req, h.cfg).String(), nil)
	if err != nil {
		return nil, fatalf("building request: %w", err)
	}
	hreq.Header.Set("X-API-Key", string(h.cfg.key))
	hreq.Header.Set("Accept", "application/x-ndjson")
	hreq.Header.Set("User-Agent", userAgent)
	resp, err := h.client.Do(hreq)
	if err != nil {
		return nil, classifyDialError(err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusFromResponse("http", resp, h.cfg.now())
	}
	c := &httpConn{h: h, ctx: ctx, resp: resp, rd: ndjson.NewReader(resp.Body, h.cfg.maxEvent)}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		c.date = d
	}
	return c, nil
}

func (h *httpConnector) Close() error {
	if h.own != nil {
		h.own.CloseIdleConnections()
	}
	return nil
}

// statusFromResponse turns a refused request or handshake into a StatusError,
// reading a bounded piece of the body as the server's message.
func statusFromResponse(transport string, resp *http.Response, now time.Time) error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	se := &StatusError{Transport: transport, Code: resp.StatusCode, Message: trimMessage(body)}
	se.RetryAfter, se.retryAfterSet = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	return se
}

// classifyDialError keeps errors that retrying cannot fix fatal: an untrusted
// certificate, a refused redirect. DNS and connect errors are retried (and
// made visible in Stats and the hooks).
func classifyDialError(err error) error {
	if errors.Is(err, ErrFatal) {
		return err
	}
	var (
		unknownAuthority x509.UnknownAuthorityError
		certErr          *tls.CertificateVerificationError
		hostErr          x509.HostnameError
		invalidErr       x509.CertificateInvalidError
	)
	if errors.As(err, &certErr) || errors.As(err, &unknownAuthority) || errors.As(err, &hostErr) || errors.As(err, &invalidErr) {
		return &fatalError{err: fmt.Errorf("TLS certificate not trusted: %w", err)}
	}
	// An https:// endpoint that answers in plain text (or any non-TLS
	// protocol) will not start speaking TLS by being asked again.
	var recErr tls.RecordHeaderError
	if errors.As(err, &recErr) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return &fatalError{err: fmt.Errorf("the server does not speak TLS (is the endpoint http://, not https://?): %w", err)}
	}
	return err
}

type httpConn struct {
	h    *httpConnector
	ctx  context.Context
	resp *http.Response
	rd   *ndjson.Reader
	date time.Time
}

func (c *httpConn) Next(f *Frame) error {
	line, err := c.rd.Next()
	switch {
	case err == nil:
		return scanJSON(f, line)
	case errors.Is(err, ndjson.ErrLineTooLong):
		return &FrameError{Reason: DropOversized, Err: err}
	case errors.Is(err, ndjson.ErrTornLine):
		return &FrameError{Reason: DropTorn, Err: err}
	}
	return err
}

func (c *httpConn) ServerTime() time.Time { return c.date }

func (c *httpConn) Close() error {
	err := c.resp.Body.Close()
	if c.h != nil && c.h.own != nil && errors.Is(context.Cause(c.ctx), ErrIdleTimeout) {
		// The connection went silent: whatever carried it (a pooled HTTP/2
		// connection) is suspect. The next attempt dials afresh.
		c.h.own.CloseIdleConnections()
	}
	return err
}
