package firehosetest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
)

// wsClient is an open WebSocket stream read message by message.
type wsClient struct {
	t    *testing.T
	c    *websocket.Conn
	resp *http.Response
}

// wsDialer reaches s: through DialContext (in memory too) and trusting its certificate.
func wsDialer(s *Server) *websocket.Dialer {
	d := &websocket.Dialer{NetDialContext: s.DialContext, HandshakeTimeout: 10 * time.Second}
	if c := s.Certificate(); c != nil {
		pool := x509.NewCertPool()
		pool.AddCert(c)
		d.TLSClientConfig = &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}}
	}
	return d
}

func wsURL(s *Server, path, query string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + path + query
}

func wsDialWith(t *testing.T, d *websocket.Dialer, url, key string) (*wsClient, error) {
	t.Helper()
	h := http.Header{}
	if key != "" {
		h.Set("X-API-Key", key)
	}
	c, resp, err := d.DialContext(context.Background(), url, h)
	if err != nil {
		if resp != nil {
			return &wsClient{t: t, resp: resp}, err
		}
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return &wsClient{t: t, c: c, resp: resp}, nil
}

func wsGet(t *testing.T, s *Server, query string) *wsClient {
	t.Helper()
	w, err := wsDialWith(t, wsDialer(s), wsURL(s, EventsPath, query), DefaultAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// message reads the next message.
func (w *wsClient) message() (int, []byte, error) { return w.c.ReadMessage() }

// line reads a text message holding exactly one line and returns it without its "\n".
func (w *wsClient) line() []byte {
	w.t.Helper()
	typ, b, err := w.message()
	if err != nil {
		w.t.Fatalf("reading a message: %v", err)
	}
	if typ != websocket.TextMessage || len(b) == 0 || b[len(b)-1] != '\n' || bytes.Count(b, []byte("\n")) != 1 {
		w.t.Fatalf("message of type %d: %.200q, want one text line ending in \\n", typ, b)
	}
	return b[:len(b)-1]
}

// untilKeepAlive returns the lines before the first keep-alive, whatever their packing.
func (w *wsClient) untilKeepAlive() [][]byte {
	w.t.Helper()
	var out [][]byte
	for {
		typ, b, err := w.message()
		if err != nil {
			w.t.Fatalf("after %d lines: %v", len(out), err)
		}
		if typ != websocket.TextMessage {
			w.t.Fatalf("message of type %d", typ)
		}
		for l := range bytes.Lines(b) {
			l = bytes.TrimSuffix(l, []byte("\n"))
			if isKeepAlive(l) {
				return out
			}
			out = append(out, l)
		}
	}
}

func TestWSReplay(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithHistory(300, time.Minute), WithKeepAlive(shortKeepAlive))
	all := s.Log().Events(1, NumPartitions)
	w := wsGet(t, s, "?fromTimestamp=1")
	if w.resp.Header.Get("Date") == "" {
		t.Errorf("no Date header in the handshake: %v", w.resp.Header)
	}
	var got [][]byte
	for {
		l := w.line()
		if isKeepAlive(l) {
			break
		}
		got = append(got, l)
	}
	sameLines(t, got, linesOf(all))
	var want [][]byte
	for _, e := range all {
		if e.Partition >= 3 && e.Partition <= 5 {
			want = append(want, e.Line)
		}
	}
	sameLines(t, wsGet(t, s, "?minPartition=3&maxPartition=5&fromTimestamp=1").untilKeepAlive(), want)
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[0].Transport != ChannelWS || reqs[0].Proto != "HTTP/1.1" || reqs[1].MinPartition != 3 || reqs[1].Served != int64(len(want)) {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestWSRejections(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		opts   []Option
		path   string
		query  string
		key    string
		status int
		body   string
		header string
	}{
		{name: "no key", key: "-", status: 401, body: "API key"},
		{name: "wrong key", key: "nope", status: 401},
		{name: "ws disabled", opts: []Option{WithChannels("http", "grpc")}, status: 403, body: "ws"},
		{name: "replicaId on cloud", query: "?replicaId=1", status: 400, body: "replicaId"},
		{name: "bad partition", query: "?minPartition=13", status: 400},
		{name: "wrong path", path: "/api/partners/v1/firehose/nope", status: 404},
		{name: "scripted 429", opts: []Option{WithScript(Conn{Status: 429, RetryAfter: "7", Message: "slow down"})}, status: 429, body: "slow down", header: "7"},
		{name: "scripted 503", opts: []Option{WithScript(Conn{Status: 503})}, status: 503},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, c.opts...)
			path := EventsPath
			if c.path != "" {
				path = c.path
			}
			key := DefaultAPIKey
			if c.key == "-" {
				key = ""
			} else if c.key != "" {
				key = c.key
			}
			w, err := wsDialWith(t, wsDialer(s), wsURL(s, path, c.query), key)
			if !errors.Is(err, websocket.ErrBadHandshake) || w == nil {
				t.Fatalf("dial: %v, want a refused handshake", err)
			}
			body, _ := io.ReadAll(w.resp.Body)
			if w.resp.StatusCode != c.status || !strings.Contains(string(body), c.body) || w.resp.Header.Get("Retry-After") != c.header {
				t.Fatalf("status %d, body %q, Retry-After %q", w.resp.StatusCode, body, w.resp.Header.Get("Retry-After"))
			}
			if r := s.Requests(); len(r) != 1 || r[0].Status != c.status || r[0].Transport != ChannelWS {
				t.Fatalf("requests %+v", r)
			}
		})
	}
}

func TestWSFaults(t *testing.T) {
	t.Parallel()
	const n = 20
	hist := []Option{WithHistory(n, time.Minute), WithKeepAlive(shortKeepAlive)}
	open := func(t *testing.T, c Conn) (*Server, *wsClient) {
		s := newServer(t, append(hist, WithScript(c))...)
		return s, wsGet(t, s, "?fromTimestamp=1")
	}
	t.Run("cut", func(t *testing.T) {
		t.Parallel()
		_, w := open(t, Conn{After: 5, Action: Cut})
		for range 5 {
			w.line()
		}
		_, _, err := w.message()
		if !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) { // gorilla's word for "no close frame"
			t.Fatalf("after a cut: %v, want the end of the socket without a close frame", err)
		}
	})
	t.Run("cut mid-line", func(t *testing.T) {
		t.Parallel()
		_, w := open(t, Conn{After: 4, Action: CutMidLine})
		for range 4 {
			w.line()
		}
		typ, r, err := w.c.NextReader()
		if err != nil || typ != websocket.TextMessage {
			t.Fatalf("the torn message did not start: %v", err)
		}
		b, err := io.ReadAll(r)
		if err == nil || len(b) == 0 || bytes.Contains(b, []byte("\n")) {
			t.Fatalf("torn message: %d bytes, %v; want a part, then an unexpected end", len(b), err)
		}
	})
	t.Run("close codes", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			code   int
			reason string
			want   int
		}{{0, "", 1000}, {1013, "busy", 1013}, {1011, "boom", 1011}, {4001, "custom", 4001}} {
			_, w := open(t, Conn{After: 3, Action: EndStream, CloseCode: c.code, Message: c.reason})
			for range 3 {
				w.line()
			}
			_, _, err := w.message()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != c.want || ce.Text != c.reason {
				t.Fatalf("close %d: got %v", c.code, err)
			}
		}
	})
	t.Run("duplicates", func(t *testing.T) {
		t.Parallel()
		s, w := open(t, Conn{After: 10, Duplicates: 4})
		got := w.untilKeepAlive()
		all := linesOf(s.Log().Events(1, 12))
		want := append(append(append([][]byte{}, all[:10]...), all[6:10]...), all[10:]...)
		sameLines(t, got, want)
	})
	t.Run("inject", func(t *testing.T) {
		t.Parallel()
		_, w := open(t, Conn{Inject: []Inject{{At: 1, Kind: BinaryMessage}, {At: 2, Kind: Oversized, Size: 70000}, {At: 3, Kind: Malformed}}})
		w.line()
		typ, b, err := w.message()
		if err != nil || typ != websocket.BinaryMessage || !bytes.Contains(b, []byte(`"recordUid"`)) {
			t.Fatalf("binary inject: type %d, %v", typ, err)
		}
		w.line()
		if l := w.line(); len(l) != 70000 {
			t.Fatalf("oversized message of %d bytes, want 70000", len(l))
		}
		w.line()
		if l := w.line(); !bytes.Contains(l, []byte("garbage")) {
			t.Fatalf("malformed inject: %.100s", l)
		}
	})
	t.Run("lines per message", func(t *testing.T) {
		t.Parallel()
		s, w := open(t, Conn{LinesPerMessage: 4})
		var got [][]byte
		multi := 0
		for len(got) < n {
			_, b, err := w.message()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasSuffix(b, []byte("\n")) || bytes.Count(b, []byte("\n")) > 4 {
				t.Fatalf("message %.200q", b)
			}
			if bytes.Count(b, []byte("\n")) > 1 {
				multi++
			}
			for l := range bytes.Lines(b) {
				got = append(got, bytes.TrimSuffix(l, []byte("\n")))
			}
		}
		if multi == 0 {
			t.Fatal("no message held several lines")
		}
		sameLines(t, got, linesOf(s.Log().Events(1, 12)))
	})
	t.Run("compression", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, hist...)
		d := wsDialer(s)
		d.EnableCompression = true
		w, err := wsDialWith(t, d, wsURL(s, EventsPath, "?fromTimestamp=1"), DefaultAPIKey)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(w.resp.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate") {
			t.Fatalf("compression not negotiated: %v", w.resp.Header)
		}
		sameLines(t, w.untilKeepAlive(), linesOf(s.Log().Events(1, 12)))
	})
	t.Run("compression cut mid-line", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, append(hist, WithScript(Conn{After: 2, Action: CutMidLine}))...)
		d := wsDialer(s)
		d.EnableCompression = true
		w, err := wsDialWith(t, d, wsURL(s, EventsPath, "?fromTimestamp=1"), DefaultAPIKey)
		if err != nil {
			t.Fatal(err)
		}
		w.line()
		w.line()
		if _, r, err := w.c.NextReader(); err != nil {
			t.Fatal(err)
		} else if _, err := io.ReadAll(r); err == nil {
			t.Fatal("torn message read whole")
		}
	})
}

// TestWSStallAnswersPings: a stalled stream sends nothing, yet answers pings: a pong proves the
// socket, not the firehose.
func TestWSStallAnswersPings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewServer(WithInMemory(), WithHistory(3, time.Minute), WithScript(Conn{After: 3, Action: Stall}))
		defer s.Close()
		w := wsGet(t, s, "?fromTimestamp=1")
		for range 3 {
			w.line()
		}
		var pongs atomic.Int32
		w.c.SetPongHandler(func(string) error { pongs.Add(1); return nil })
		done := make(chan error, 1)
		go func() {
			_, _, err := w.message()
			done <- err
		}()
		for range 4 {
			time.Sleep(time.Minute) // fake time: no keep-alive, no event
			if err := w.c.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if got := pongs.Load(); got != 4 {
			t.Fatalf("%d pongs, want 4", got)
		}
		select {
		case err := <-done:
			t.Fatalf("a stalled stream delivered: %v", err)
		default:
		}
		w.c.Close()
		<-done
	})
}

// TestWSKeepAliveSynctest: in memory, keep-alives come every 15 s of fake time, each one message.
func TestWSKeepAliveSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewServer(WithInMemory())
		defer s.Close()
		start := time.Now()
		w := wsGet(t, s, "")
		for i := 1; i <= 2; i++ {
			l := w.line()
			if !isKeepAlive(l) || time.Since(start) != time.Duration(i)*DefaultKeepAlive {
				t.Fatalf("after %v: %s", time.Since(start), l)
			}
		}
		w.c.Close()
	})
}

// TestWSServerClose: Close ends open WebSocket streams, stalled ones included, and waits for them.
func TestWSServerClose(t *testing.T) {
	t.Parallel()
	s := NewServer(WithScript(Conn{Action: Stall}), WithHistory(3, time.Second))
	w := wsGet(t, s, "?fromTimestamp=1")
	done := make(chan error, 1)
	go func() {
		_, _, err := w.message()
		done <- err
	}()
	s.Close()
	if err := <-done; err == nil {
		t.Fatal("a stalled stream went on after Close")
	}
	if _, err := wsDialWith(t, wsDialer(s), wsURL(s, EventsPath, ""), DefaultAPIKey); err == nil {
		t.Fatal("a closed server upgraded")
	}
}

// TestWSClientGoesAway: the handler notices a client that closes (with or without a close frame)
// and its session ends.
func TestWSClientGoesAway(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithHistory(2, time.Second))
	for _, graceful := range []bool{true, false} {
		w := wsGet(t, s, "?fromTimestamp=1")
		w.line()
		if graceful {
			w.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
			var err error
			for err == nil { // events in flight come first
				_, _, err = w.message()
			}
			if !websocket.IsCloseError(err, 1000) {
				t.Fatalf("the server did not answer the close frame: %v", err)
			}
		}
		w.c.Close()
	}
	// Close would hang if a session had not ended; the leak check in TestMain sees the rest.
	s.Close()
}

func TestWSTLSWithHTTP2(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithHTTP2(), WithHistory(5, time.Minute), WithKeepAlive(shortKeepAlive))
	w := wsGet(t, s, "?fromTimestamp=1")
	if got := w.untilKeepAlive(); len(got) != 5 {
		t.Fatalf("%d events", len(got))
	}
	if r := s.Requests()[0]; r.Proto != "HTTP/1.1" || r.Transport != ChannelWS {
		t.Fatalf("request %+v", r)
	}
	// Offering h2 in ALPN gets an HTTP/2 connection, where no upgrade exists.
	d := wsDialer(s)
	d.TLSClientConfig.NextProtos = []string{"h2", "http/1.1"}
	if _, err := wsDialWith(t, d, wsURL(s, EventsPath, ""), DefaultAPIKey); err == nil {
		t.Fatal("an h2 ALPN upgraded")
	}
}

func TestAppendFrameHeader(t *testing.T) {
	for _, c := range []struct {
		n    int
		want []byte
	}{
		{0, []byte{0x81, 0}},
		{125, []byte{0x81, 125}},
		{126, []byte{0x81, 126, 0, 126}},
		{65535, []byte{0x81, 126, 0xff, 0xff}},
		{65536, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
	} {
		if got := appendFrameHeader(nil, opText, c.n); !bytes.Equal(got, c.want) {
			t.Errorf("header for %d: % x, want % x", c.n, got, c.want)
		}
	}
	if got := truncateReason(strings.Repeat("é", 100)); len(got) > 123 || !strings.HasPrefix(strings.Repeat("é", 100), got) {
		t.Errorf("truncateReason: %d bytes %q", len(got), got)
	}
}
