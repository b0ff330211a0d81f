package firehose

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/firehose-go/firehose/firehosetest"
	"github.com/firehose-go/firehose/wsclient"
)

// Unit tests of the WebSocket conn against small gorilla servers, and the
// pipeline benchmarks. The conformance suite (engine_test.go) and the
// end-to-end tests (ws_e2e_test.go) run it against firehosetest.

func wsEvent(i int) string {
	return fmt.Sprintf(`{"recordUid":"event-%x","recordTimestamp":%d,"spacesTenantId":"t","spacesTenantName":"n","partnerTenantId":"p","eventType":"DEVICE_LOCATION_UPDATE","deviceLocationUpdate":{"i":%d}}`, i, 1700000000000+i, i)
}

// wsScriptServer upgrades every request and runs script on it, then answers
// the client's close frame (or waits for it to go). Cleanup stops it and
// waits for its handlers.
func wsScriptServer(t *testing.T, script func(ws *websocket.Conn, r *http.Request)) *httptest.Server {
	t.Helper()
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		up := websocket.Upgrader{EnableCompression: true}
		ws, err := up.Upgrade(w, r, http.Header{"Date": {"Tue, 14 Nov 2023 22:13:20 GMT"}})
		if err != nil {
			return
		}
		defer ws.Close()
		script(ws, r)
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, _, err := ws.NextReader(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	return srv
}

func wsTestConfig(t *testing.T, endpoint string, opts ...Option) *config {
	t.Helper()
	cfg := defaultConfig()
	all := append([]Option{WithEndpoint(endpoint), WithAPIKey("k3y"), WithMaxEventSize(1024), WithIdleTimeout(2 * time.Second)}, opts...)
	for _, o := range all {
		if err := o(cfg); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

func wsDial(t *testing.T, cfg *config) *wsConn {
	t.Helper()
	return wsDialCtx(t, context.Background(), cfg)
}

func wsDialCtx(t *testing.T, ctx context.Context, cfg *config) *wsConn {
	t.Helper()
	tr, err := newWSConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tr.Connect(ctx, ConnectRequest{Range: Range{Min: 2, Max: 5}, From: 1234})
	if err != nil {
		t.Fatal(err)
	}
	return c.(*wsConn)
}

// got describes what next returned: the event's uid, or the drop's kind.
func wsGot(c Conn) (string, error) {
	var f Frame
	err := c.Next(&f)
	var fe *FrameError
	switch {
	case err == nil:
		return string(f.ID), nil
	case errors.As(err, &fe):
		return "<" + fe.Reason.String() + ">", nil
	}
	return "", err
}

func TestWSFrames(t *testing.T) {
	big := `{"recordUid":"event-big","recordTimestamp":1,"eventType":"X","pad":"` + strings.Repeat("x", 3000) + `"}`
	var req *http.Request
	srv := wsScriptServer(t, func(ws *websocket.Conn, r *http.Request) {
		req = r
		text := func(s string) { ws.WriteMessage(websocket.TextMessage, []byte(s)) }
		text(wsEvent(1) + "\n")                                       // as Cisco sends it
		text(wsEvent(2))                                              // no newline
		text(wsEvent(3) + "\n" + wsEvent(4) + "\r\n\n" + wsEvent(5))  // three lines, a blank one
		text("")                                                      // empty
		text("\r\n")                                                  // blank
		ws.WriteMessage(websocket.BinaryMessage, []byte(wsEvent(6)))  // binary
		text(big)                                                     // over the max: skipped, the connection lives
		text(wsEvent(8) + "\n{not json\n" + big + "\n" + wsEvent(10)) // an event, a malformed and an oversized line, an event
		text(wsEvent(9) + "\n")
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "busy"), time.Now().Add(time.Second))
	})
	c := wsDial(t, wsTestConfig(t, srv.URL))
	defer c.Close()
	want := []string{"event-1", "event-2", "event-3", "event-4", "event-5", "<empty>", "<empty>", "<binary>",
		"<oversized>", "event-8", "<malformed>", "<oversized>", "event-a", "event-9"}
	for i, w := range want {
		g, err := wsGot(c)
		if err != nil || g != w {
			t.Fatalf("frame %d: %q, %v; want %q", i, g, err, w)
		}
	}
	_, err := wsGot(c)
	if !errors.Is(err, ErrTryLater) || errors.Is(err, ErrFatal) || classify(err) != CauseRateLimited ||
		!strings.Contains(err.Error(), "1013 (try again later): busy") {
		t.Fatalf("close 1013: %v (%s)", err, classify(err))
	}
	// The handshake: same path and parameters as HTTP, the key in X-API-Key, the Date kept.
	if req.URL.Path != EventsPath || req.URL.Query().Get("minPartition") != "2" || req.URL.Query().Get("maxPartition") != "5" ||
		req.URL.Query().Get("fromTimestamp") != "1234" || req.Header.Get("X-API-Key") != "k3y" || req.Header.Get("User-Agent") != userAgent {
		t.Fatalf("handshake request %s %v", req.URL, req.Header)
	}
	if want := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC); !c.ServerTime().Equal(want) {
		t.Fatalf("server time %v, want %v", c.ServerTime(), want)
	}
}

// TestWSBufferReuse: lines of one message stay valid until the next call;
// a message over the max does not keep its buffer.
func TestWSBufferReuse(t *testing.T) {
	srv := wsScriptServer(t, func(ws *websocket.Conn, _ *http.Request) {
		ws.WriteMessage(websocket.TextMessage, []byte(wsEvent(1)+"\n"+wsEvent(2)+"\n"))
		ws.WriteMessage(websocket.TextMessage, []byte(wsEvent(3)+"\n"))
		ws.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte{'x'}, 600<<10))
		ws.WriteMessage(websocket.TextMessage, []byte(wsEvent(4)+"\n"))
	})
	c := wsDial(t, wsTestConfig(t, srv.URL, WithMaxEventSize(1<<20)))
	defer c.Close()
	var f1, f2 Frame
	if err := c.Next(&f1); err != nil {
		t.Fatal(err)
	}
	if err := c.Next(&f2); err != nil {
		t.Fatal(err)
	}
	if string(f1.Raw) != wsEvent(1) || string(f2.Raw) != wsEvent(2) {
		t.Fatalf("lines of one message: %s / %s", f1.Raw, f2.Raw)
	}
	for _, w := range []string{"event-3", "<malformed>", "event-4"} {
		if g, err := wsGot(c); g != w || err != nil {
			t.Fatalf("%q, %v; want %q", g, err, w)
		}
	}
	// That the large message's buffer is let go is wsclient's, tested there
	// (TestBufferLetGo).
}

func TestWSCloses(t *testing.T) {
	for _, c := range []struct {
		name  string
		do    func(ws *websocket.Conn)
		cause Cause
		text  string
		try   bool
	}{
		{"normal", wsCloseWith(1000, "bye"), CauseEOF, "close 1000 (normal closure): bye", false},
		{"going away", wsCloseWith(1001, ""), CauseEOF, "close 1001 (going away)", false},
		{"try again later", wsCloseWith(1013, "later"), CauseRateLimited, "close 1013 (try again later): later", true},
		{"internal error", wsCloseWith(1011, "boom"), CauseNetwork, "close 1011 (internal server error): boom", false},
		{"policy (not auth: Cisco documents no codes)", wsCloseWith(1008, "key?"), CauseNetwork, "close 1008 (policy violation): key?", false},
		{"private code", wsCloseWith(4001, "custom"), CauseNetwork, "close 4001: custom", false},
		{"cut", func(ws *websocket.Conn) { ws.NetConn().Close() }, CauseNetwork, "without a close frame", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := wsScriptServer(t, func(ws *websocket.Conn, _ *http.Request) {
				ws.WriteMessage(websocket.TextMessage, []byte(wsEvent(1)))
				c.do(ws)
			})
			conn := wsDial(t, wsTestConfig(t, srv.URL))
			defer conn.Close()
			if g, err := wsGot(conn); g != "event-1" {
				t.Fatalf("%q, %v", g, err)
			}
			_, err := wsGot(conn)
			if err == nil || errors.Is(err, ErrFatal) || classify(err) != c.cause || !strings.Contains(err.Error(), c.text) || errors.Is(err, ErrTryLater) != c.try {
				t.Fatalf("err %v (cause %s), want cause %s and %q", err, classify(err), c.cause, c.text)
			}
			if _, err2 := wsGot(conn); err2 == nil {
				t.Fatal("a dead conn read on")
			}
		})
	}
}

func wsCloseWith(code int, text string) func(ws *websocket.Conn) {
	return func(ws *websocket.Conn) {
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	}
}

// TestWSTornMessage: a message cut by the end of the socket is counted as
// torn; the connection's end follows.
func TestWSTornMessage(t *testing.T) {
	srv := wsScriptServer(t, func(ws *websocket.Conn, _ *http.Request) {
		line := []byte(wsEvent(1) + "\n")
		ws.WriteMessage(websocket.TextMessage, line)
		hdr := []byte{0x81, 126, 0, 0}
		binary.BigEndian.PutUint16(hdr[2:], uint16(len(line)))
		ws.NetConn().Write(append(hdr, line[:len(line)/2]...))
		ws.NetConn().Close()
	})
	c := wsDial(t, wsTestConfig(t, srv.URL))
	defer c.Close()
	for _, w := range []string{"event-1", "<torn>"} {
		if g, err := wsGot(c); g != w || err != nil {
			t.Fatalf("%q, %v; want %q", g, err, w)
		}
	}
	if _, err := wsGot(c); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("after the torn message: %v", err)
	}
}

// TestWSHandshakeStatuses: a refused upgrade is a StatusError like HTTP's.
func TestWSHandshakeStatuses(t *testing.T) {
	for _, c := range []struct {
		code  int
		after string
		fatal bool
	}{{429, "3", false}, {503, "", false}, {401, "", true}, {403, "", true}, {400, "", true}, {404, "", true}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c.after != "" {
				w.Header().Set("Retry-After", c.after)
			}
			http.Error(w, "message "+strconv.Itoa(c.code), c.code)
		}))
		tr, _ := newWSConnector(wsTestConfig(t, srv.URL))
		_, err := tr.Connect(context.Background(), ConnectRequest{Range: AllPartitions})
		srv.Close()
		var se *StatusError
		if !errors.As(err, &se) || se.Code != c.code || se.Transport != "ws" || se.Message != "message "+strconv.Itoa(c.code) ||
			errors.Is(err, ErrFatal) != c.fatal {
			t.Fatalf("%d: %v", c.code, err)
		}
		if c.after == "3" && se.RetryAfter != 3*time.Second {
			t.Fatalf("Retry-After %v", se.RetryAfter)
		}
	}
}

// TestWSPingsAndGoodbye: the conn pings no more often than idle/3, pongs do
// not count as data, and close sends a close frame and waits for the peer's.
func TestWSPingsAndGoodbye(t *testing.T) {
	pings := make(chan struct{}, 100)
	closed := make(chan int, 1)
	srv := wsScriptServer(t, func(ws *websocket.Conn, _ *http.Request) {
		ws.SetPingHandler(func(data string) error {
			pings <- struct{}{}
			return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		ws.SetCloseHandler(func(code int, text string) error {
			closed <- code
			return ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
		})
	})
	ctx, cancel := context.WithCancelCause(context.Background())
	c := wsDialCtx(t, ctx, wsTestConfig(t, srv.URL, WithIdleTimeout(60*time.Millisecond)))
	t0 := time.Now()
	<-pings
	<-pings
	if d := time.Since(t0); d < 30*time.Millisecond {
		t.Fatalf("two pings within %v, want no more often than every 20ms", d)
	}
	// The server only pongs: next sees no frame; the engine's idle watchdog
	// (not this test) would end it. Cancel the read as Close does.
	done := make(chan error, 1)
	go func() {
		var f Frame
		done <- c.Next(&f)
	}()
	cancel(errCallerDone)
	if err := <-done; !errors.Is(err, errCallerDone) {
		t.Fatalf("next after cancel: %v", err)
	}
	c.Close()
	if code := <-closed; code != websocket.CloseNormalClosure {
		t.Fatalf("close code %d", code)
	}
}

// TestWSCloseWaitIsBounded: a peer that never answers the close frame holds
// close for at most the close wait.
func TestWSCloseWaitIsBounded(t *testing.T) {
	release := make(chan struct{})
	srv := wsScriptServer(t, func(ws *websocket.Conn, _ *http.Request) { <-release }) // reads nothing
	defer close(release)
	cfg := wsTestConfig(t, srv.URL, WithIdleTimeout(200*time.Millisecond))
	c := wsDial(t, cfg)
	t0 := time.Now()
	c.Close()
	if d := time.Since(t0); d > 5*time.Second {
		t.Fatalf("close took %v", d)
	}
	if tr, _ := newWSConnector(cfg); tr.opts.CloseWait != 50*time.Millisecond {
		t.Fatalf("close wait %v, want idle/4", tr.opts.CloseWait)
	}
}

// TestWSIdleCancelIsImmediate: an idle timeout ends the read at once.
func TestWSIdleCancelIsImmediate(t *testing.T) {
	srv := wsScriptServer(t, func(*websocket.Conn, *http.Request) {})
	cfg := wsTestConfig(t, srv.URL, WithIdleTimeout(time.Hour))
	tr, _ := newWSConnector(cfg)
	ctx, cancel := context.WithCancelCause(context.Background())
	c, err := tr.Connect(ctx, ConnectRequest{Range: AllPartitions})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() {
		var f Frame
		done <- c.Next(&f)
	}()
	cancel(ErrIdleTimeout)
	if err := <-done; !errors.Is(err, ErrIdleTimeout) {
		t.Fatalf("next: %v", err)
	}
}

// TestWSHandshakeCancel: a server that accepts the socket and never answers
// the upgrade does not hold connect past ctx (gorilla itself only watches ctx
// while dialing).
func TestWSHandshakeCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	tr, _ := newWSConnector(wsTestConfig(t, "http://"+ln.Addr().String()))
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := tr.Connect(ctx, ConnectRequest{Range: AllPartitions})
		done <- err
	}()
	c := <-accepted // the socket is open, the upgrade request on its way
	if c == nil {
		t.Fatal("no connection")
	}
	defer c.Close()
	cancel(ErrIdleTimeout)
	if err := <-done; err == nil {
		t.Fatal("connect succeeded")
	}
}

// TestWSDialerSetup: proxy, the user's TLS config (wsclient clones it and
// offers http/1.1 only: its TestTLS, and TestWSTLS here), compression, lines
// of at most the max event size with no hard cap, pings every idle/3, no
// close handshake after an idle timeout.
func TestWSDialerSetup(t *testing.T) {
	shared := &tls.Config{NextProtos: []string{"h2", "http/1.1"}} // as net/http leaves a shared config
	cfg := wsTestConfig(t, "https://example.invalid", WithCompression(true), WithTLSConfig(shared), WithIdleTimeout(3*time.Second))
	w, err := newWSConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := w.opts
	if w.base.Scheme != "wss" || o.Proxy == nil || !o.Compression || o.TLSConfig != cfg.tlsConfig || o.Split != wsclient.Lines ||
		o.MaxUnit != cfg.maxEvent || o.ReadLimit >= 0 || o.PingEvery != time.Second || o.PongWait != 0 || o.OnPong != nil ||
		!o.Abrupt(fmt.Errorf("x: %w", ErrIdleTimeout)) || o.Abrupt(errCallerDone) || o.Header.Get("X-API-Key") != "k3y" {
		t.Fatalf("options %+v", o)
	}
	if strings.Join(cfg.tlsConfig.NextProtos, ",") != "h2,http/1.1" {
		t.Fatal("the user's TLS config was modified")
	}
}

// wsJSONLine is a valid event line of exactly n bytes (n >= 80).
func wsJSONLine(i, n int) string {
	head := fmt.Sprintf(`{"recordUid":"event-%x","recordTimestamp":%d,"eventType":"X","pad":"`, i, 1700000000000+i)
	return head + strings.Repeat("p", n-len(head)-2) + `"}`
}

// TestWSLineLimits: the max is per line, "\r\n" does not count, and a
// buffer of max+2 bytes carries lines across many reads.
func TestWSLineLimits(t *testing.T) {
	const max = 1024
	var many strings.Builder
	for i := range 40 {
		many.WriteString(wsJSONLine(100+i, 900+i*3) + "\n")
	}
	srv := wsScriptServer(t, func(ws *websocket.Conn, _ *http.Request) {
		text := func(s string) { ws.WriteMessage(websocket.TextMessage, []byte(s)) }
		text(wsJSONLine(1, max))
		text(wsJSONLine(2, max) + "\r\n")
		text(wsJSONLine(3, max+1) + "\n")
		text(wsJSONLine(4, max+1) + "\n" + wsJSONLine(5, 200) + "\n")
		text(many.String())
		text(wsJSONLine(6, 5000) + "\r\n" + wsJSONLine(7, max) + "\r\n" + wsJSONLine(8, max+1))
	})
	c := wsDial(t, wsTestConfig(t, srv.URL, WithMaxEventSize(max)))
	defer c.Close()
	want := []string{"event-1", "event-2", "<oversized>", "<oversized>", "event-5"}
	for i := range 40 {
		want = append(want, fmt.Sprintf("event-%x", 100+i))
	}
	want = append(want, "<oversized>", "event-7", "<oversized>")
	for i, w := range want {
		if g, err := wsGot(c); g != w || err != nil {
			t.Fatalf("frame %d: %q, %v; want %q", i, g, err, w)
		}
	}
	// The buffer's bound (max+2 bytes) is wsclient's, tested there
	// (TestLineLimits).
}

// wsFrame frames one server message.
func wsFrame(b []byte, op byte, payload []byte) []byte {
	b = append(b, 0x80|op)
	switch n := len(payload); {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// FuzzWSLines: whatever the messages and the max, the conn yields what
// splitting each message on "\n" yields: the lines (one "\r" trimmed, blank
// ones skipped) at most max long, one drop per longer line, one per message
// without a line; a binary message is one drop.
func FuzzWSLines(f *testing.F) {
	f.Add([]byte("a\nb\r\n\nccccc\n"), []byte{3, 0, 5, 200}, uint8(4))
	f.Add([]byte("\r\n\n\n"), []byte{1, 1}, uint8(1))
	f.Add([]byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\ny"), []byte{0x81}, uint8(7))
	f.Fuzz(func(t *testing.T, data, cuts []byte, maxLine uint8) {
		max := int(maxLine%40) + 1
		var msgs [][]byte
		binaries := map[int]bool{}
		for _, c := range cuts {
			n := min(int(c&0x7f), len(data))
			if c&0x80 != 0 {
				binaries[len(msgs)] = true
			}
			msgs, data = append(msgs, data[:n]), data[n:]
		}
		msgs = append(msgs, data)
		var want []string
		var lap []byte
		for i, m := range msgs {
			if binaries[i] {
				lap = wsFrame(lap, 2, m)
				want = append(want, "binary")
				continue
			}
			lap = wsFrame(lap, 1, m)
			lines := 0
			for l := range bytes.SplitSeq(m, []byte("\n")) {
				l = bytes.TrimSuffix(l, []byte("\r"))
				switch {
				case len(l) == 0:
				case len(l) > max:
					want, lines = append(want, "oversized"), lines+1
				default:
					want, lines = append(want, "line:"+strconv.Itoa(len(l))), lines+1
				}
			}
			if lines == 0 {
				want = append(want, "empty")
			}
		}
		rc := &wsReplayConn{lap: lap, once: true}
		cfg := defaultConfig()
		cfg.dial = func(context.Context, string, string) (net.Conn, error) { return rc, nil }
		cfg.endpoint, _ = url.Parse("http://fuzz.invalid" + EventsPath)
		cfg.maxEvent = max
		tr, _ := newWSConnector(cfg)
		cn, err := tr.Connect(context.Background(), ConnectRequest{Range: AllPartitions})
		if err != nil {
			t.Fatal(err)
		}
		c := cn.(*wsConn)
		defer c.Close()
		var gotten []string
		for {
			var fr Frame
			err := c.Next(&fr)
			var fe *FrameError
			switch {
			case err == nil:
				gotten = append(gotten, "line:"+strconv.Itoa(len(fr.Raw)))
				continue
			case errors.As(err, &fe) && fe.Reason == DropMalformed:
				gotten = append(gotten, "line:"+strconv.Itoa(fe.Size))
				continue
			case errors.As(err, &fe):
				gotten = append(gotten, fe.Reason.String())
				continue
			}
			break
		}
		if strings.Join(gotten, " ") != strings.Join(want, " ") {
			t.Fatalf("max %d, messages %q:\n got %v\nwant %v", max, msgs, gotten, want)
		}
	})
}

// --- benchmarks ---------------------------------------------------------------

// wsReplayConn is a net.Conn that answers the WebSocket handshake, then serves
// a lap of pre-built server frames from memory, over and over. When uids are
// given, each lap rewrites them so every event is new to the dedupe window.
type wsReplayConn struct {
	req      []byte
	resp     []byte
	ext      string // Sec-WebSocket-Extensions of the response
	lap      []byte
	uids     []int // offsets of 16 hex digits to rewrite per lap
	laps     uint64
	off      int
	answered bool
	once     bool // serve the lap once, then io.EOF
	ended    atomic.Bool
}

func (c *wsReplayConn) Read(p []byte) (int, error) {
	if len(c.resp) > 0 {
		n := copy(p, c.resp)
		c.resp = c.resp[n:]
		return n, nil
	}
	if c.ended.Load() {
		return 0, io.EOF
	}
	if c.off == len(c.lap) {
		if c.once {
			return 0, io.EOF
		}
		c.off = 0
		c.laps++
		for i, at := range c.uids {
			wsPutHex16(c.lap[at:], c.laps<<24|uint64(i))
		}
	}
	n := copy(p, c.lap[c.off:])
	c.off += n
	return n, nil
}

func (c *wsReplayConn) Write(p []byte) (int, error) {
	if c.answered {
		return len(p), nil // pings and the close frame
	}
	c.req = append(c.req, p...)
	if !bytes.Contains(c.req, []byte("\r\n\r\n")) {
		return len(p), nil
	}
	c.answered = true
	var key string
	for _, l := range strings.Split(string(c.req), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Sec-WebSocket-Key") {
			key = strings.TrimSpace(v)
		}
	}
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	c.resp = []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(h[:]) + "\r\n" + c.ext + "\r\n")
	return len(p), nil
}

func (c *wsReplayConn) Close() error                     { c.ended.Store(true); return nil }
func (c *wsReplayConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *wsReplayConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *wsReplayConn) SetDeadline(time.Time) error      { return nil }
func (c *wsReplayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *wsReplayConn) SetWriteDeadline(time.Time) error { return nil }

func wsPutHex16(b []byte, x uint64) {
	const digits = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b[i] = digits[x&15]
		x >>= 4
	}
}

// wsBenchLines returns n DEVICE_LOCATION_UPDATE lines (about 1.3 KB) from the
// mock's log, each recordUid rewritten to 16 hex digits.
func wsBenchLines(b *testing.B, n int) [][]byte {
	srv := firehosetest.NewServer(firehosetest.WithHistory(3*n+100, time.Hour))
	defer srv.Close()
	var out [][]byte
	for i, e := range srv.Log().Events(1, 12) {
		if e.Type != "DEVICE_LOCATION_UPDATE" {
			continue
		}
		l := bytes.Replace(e.Line, []byte(`"recordUid":"`+e.UID+`"`), []byte(`"recordUid":"event-0000000000000000"`), 1)
		wsPutHex16(l[bytes.Index(l, []byte("event-"))+6:], uint64(i))
		out = append(out, l)
		if len(out) == n {
			return out
		}
	}
	b.Fatalf("only %d DEVICE_LOCATION_UPDATE events", len(out))
	return nil
}

// wsServerFrames frames lines as Cisco does (text, trailing "\n"), deflated
// when compress is set.
func wsServerFrames(b *testing.B, lines [][]byte, compress bool) (lap []byte, uids []int, bytesPerEvent float64) {
	var payload bytes.Buffer
	for _, l := range lines {
		payload.Reset()
		payload.Write(l)
		payload.WriteByte('\n')
		op := byte(0x81)
		p := payload.Bytes()
		if compress {
			var z bytes.Buffer
			fw, _ := flate.NewWriter(&z, 1)
			fw.Write(p)
			fw.Flush()
			p = bytes.TrimSuffix(z.Bytes(), []byte{0, 0, 0xff, 0xff})
			op |= 0x40 // RSV1: a compressed message
		}
		lap = append(lap, op)
		switch {
		case len(p) <= 125:
			lap = append(lap, byte(len(p)))
		case len(p) <= 0xffff:
			lap = append(lap, 126, byte(len(p)>>8), byte(len(p)))
		default:
			b.Fatal("line too long for the benchmark")
		}
		if !compress {
			uids = append(uids, len(lap)+bytes.Index(p, []byte("event-"))+6)
		}
		lap = append(lap, p...)
	}
	return lap, uids, float64(len(lap)) / float64(len(lines))
}

// wsBenchStream connects a stream's engine to a WebSocket conn over rc.
func wsBenchStream(b *testing.B, rc *wsReplayConn, dedupeCap int, compress bool) (*stream, *wsConn) {
	cfg := defaultConfig()
	for _, o := range []Option{WithEndpoint("http://bench.invalid"), WithAPIKey("k"), WithDedupeCapacity(dedupeCap), WithCompression(compress),
		WithDialer(func(context.Context, string, string) (net.Conn, error) { return rc, nil })} {
		if err := o(cfg); err != nil {
			b.Fatal(err)
		}
	}
	tr, err := newWSConnector(cfg)
	if err != nil {
		b.Fatal(err)
	}
	c, err := tr.Connect(context.Background(), ConnectRequest{Range: AllPartitions})
	if err != nil {
		b.Fatal(err)
	}
	s := newStream(cfg, testSpec(cfg), tr, AllPartitions, &counters{})
	s.cur.c = c
	return s, c.(*wsConn)
}

// wsReadMessageConn is the alternative read strategy: gorilla's ReadMessage,
// a fresh buffer per message, on a gorilla conn of its own over rc.
type wsReadMessageConn struct {
	ws  *websocket.Conn
	max int
}

func newWSReadMessageConn(b *testing.B, rc *wsReplayConn, max int) wsReadMessageConn {
	d := websocket.Dialer{NetDialContext: func(context.Context, string, string) (net.Conn, error) { return rc, nil }}
	ws, _, err := d.Dial("ws://bench.invalid/", nil)
	if err != nil {
		b.Fatal(err)
	}
	return wsReadMessageConn{ws: ws, max: max}
}

func (c wsReadMessageConn) Close() error { return c.ws.Close() }

func (c wsReadMessageConn) Next(f *Frame) error {
	typ, p, err := c.ws.ReadMessage()
	if err != nil {
		return err
	}
	if typ != websocket.TextMessage {
		return &FrameError{Reason: DropBinary}
	}
	p = bytes.TrimSuffix(p, []byte("\n"))
	if len(p) > c.max {
		return &FrameError{Reason: DropOversized}
	}
	return scanJSON(f, p)
}

func wsRunPipeline(b *testing.B, s *stream, rc *wsReplayConn, c Conn, perEvent float64) {
	ctx := context.Background()
	b.SetBytes(int64(perEvent))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for range b.N {
		if _, err := s.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := processCPU() - cpu0
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/event") // processCPU: grpc_stream_test.go
	b.ReportMetric(perEvent, "wire-B/event")
	if st := s.st.snapshot(time.Now()); st.Duplicates != 0 || st.Malformed != 0 || st.Events != int64(b.N) {
		b.Fatalf("stats %+v", st)
	}
	rc.Close()
	c.Close()
}

// BenchmarkWSPipeline: pre-built WebSocket frames from memory through the
// conn and the engine (frame → Event, dedupe at its default capacity
// included), as NextReader into the conn's reused buffer (the transport) and
// as gorilla's ReadMessage (the alternative, for comparison).
//
//	go test -run '^$' -bench 'WSPipeline|WSCompression' -benchmem .
func BenchmarkWSPipeline(b *testing.B) {
	lines := wsBenchLines(b, 2048)
	for _, mode := range []string{"NextReader", "ReadMessage"} {
		b.Run(mode, func(b *testing.B) {
			lap, uids, per := wsServerFrames(b, lines, false)
			rc := &wsReplayConn{lap: lap, uids: uids}
			s, c := wsBenchStream(b, rc, DefaultDedupeCapacity, false)
			if mode == "ReadMessage" {
				rc.Close()
				c.Close()
				rc = &wsReplayConn{lap: lap, uids: uids}
				rm := newWSReadMessageConn(b, rc, s.cfg.maxEvent)
				s.cur.c = rm
				wsRunPipeline(b, s, rc, rm, per)
				return
			}
			wsRunPipeline(b, s, rc, c, per)
		})
	}
}

// BenchmarkWSCompression: the same pipeline with and without
// permessage-deflate. Compressed frames cannot be rewritten per lap, so both
// run with a dedupe window smaller than the lap (every event is new again).
func BenchmarkWSCompression(b *testing.B) {
	lines := wsBenchLines(b, 4096)
	for _, compress := range []bool{false, true} {
		name := "off"
		if compress {
			name = "deflate"
		}
		b.Run(name, func(b *testing.B) {
			lap, _, per := wsServerFrames(b, lines, compress)
			rc := &wsReplayConn{lap: lap}
			if compress {
				rc.ext = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"
			}
			s, c := wsBenchStream(b, rc, 1024, compress)
			wsRunPipeline(b, s, rc, c, per)
		})
	}
}
