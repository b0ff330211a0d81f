package firehosetest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if a goroutine of this package or of net/http outlives the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitForLeaks(2 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "leaked goroutines:\n\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// waitForLeaks polls until no suspicious goroutine is left or wait has passed; it returns their stacks.
func waitForLeaks(wait time.Duration) string {
	deadline := time.Now().Add(wait)
	for {
		leaked := suspiciousGoroutines()
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func suspiciousGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "suspiciousGoroutines") {
			continue // this one
		}
		if strings.Contains(g, "firehosetest.") || strings.Contains(g, "net/http.") {
			out = append(out, g)
		}
	}
	return out
}

// newServer starts a server closed at the end of the test.
func newServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// stream is an open NDJSON response.
type stream struct {
	t    *testing.T
	resp *http.Response
	br   *bufio.Reader
}

// get opens EventsPath with the query (e.g. "?fromTimestamp=1") and the default key.
func get(t *testing.T, s *Server, query string) *stream {
	t.Helper()
	return getWith(t, s.Client(), s.URL+EventsPath+query, DefaultAPIKey)
}

func getWith(t *testing.T, c *http.Client, url, key string) *stream {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	st := &stream{t: t, resp: resp, br: bufio.NewReader(resp.Body)}
	t.Cleanup(st.close)
	return st
}

func (st *stream) close() { st.resp.Body.Close() }

// line reads one line without its newline; on error it returns the partial data read.
func (st *stream) line() ([]byte, error) {
	b, err := st.br.ReadBytes('\n')
	if err == nil {
		b = b[:len(b)-1]
	}
	return b, err
}

func (st *stream) mustLine() []byte {
	st.t.Helper()
	b, err := st.line()
	if err != nil {
		st.t.Fatalf("reading a line: %v (partial %q)", err, b)
	}
	return b
}

func (st *stream) lines(n int) [][]byte {
	st.t.Helper()
	out := make([][]byte, n)
	for i := range out {
		out[i] = st.mustLine()
	}
	return out
}

// untilKeepAlive returns the lines before the first keep-alive.
func (st *stream) untilKeepAlive() [][]byte {
	st.t.Helper()
	var out [][]byte
	for {
		b := st.mustLine()
		if isKeepAlive(b) {
			return out
		}
		out = append(out, b)
	}
}

func (st *stream) body() string {
	b, _ := io.ReadAll(st.resp.Body)
	return string(b)
}

func isKeepAlive(line []byte) bool { return bytes.Contains(line, []byte(`"eventType":"KEEP_ALIVE"`)) }

func linesOf(evs []Event) [][]byte {
	out := make([][]byte, len(evs))
	for i, e := range evs {
		out[i] = e.Line
	}
	return out
}

// sameLines fails the test unless got and want hold the same lines in the same order.
func sameLines(t *testing.T, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("line %d:\n got %.300s\nwant %.300s", i, got[i], want[i])
		}
	}
}
