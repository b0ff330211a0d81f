package firehosetest

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/firehose-go/firehose/internal/leakcheck"
)

// TestMain fails the run if a goroutine these tests started outlives them.
func TestMain(m *testing.M) {
	leakcheck.Main(m, "firehosetest.", "net/http.")
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
