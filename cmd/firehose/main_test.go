package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

// testKey is distinctive so a leak into any output is easy to spot.
const testKey = "sk-test-7f3a9c1e5b"

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a command's
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type result struct {
	code           int
	stdout, stderr string
}

// runWith runs one command line in-process with the given environment.
func runWith(ctx context.Context, t *testing.T, environ map[string]string, stdout io.Writer, args ...string) result {
	t.Helper()
	var out, errb syncBuffer
	if stdout == nil {
		stdout = &out
	}
	e := &env{stdout: stdout, stderr: &errb, getenv: func(k string) string { return environ[k] }}
	code := e.dispatch(ctx, args)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func runCmd(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	return runWith(ctx, t, nil, nil, args...)
}

func assertNoKey(t *testing.T, r result) {
	t.Helper()
	if strings.Contains(r.stdout, testKey) || strings.Contains(r.stderr, testKey) {
		t.Errorf("the API key appears in the output:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
}

func TestRunPlan(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"plan", "4"}, &out, &errb); code != 0 {
		t.Fatalf("run(plan 4) = %d, stderr %q", code, errb.String())
	}
	want := "receiver 0: partitions 1-3\nreceiver 1: partitions 4-6\nreceiver 2: partitions 7-9\nreceiver 3: partitions 10-12\n"
	if out.String() != want {
		t.Errorf("plan 4:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    string
		want string
	}{
		{"1", "receiver 0: partitions 1-12\n"},
		{"4", "receiver 0: partitions 1-3\nreceiver 1: partitions 4-6\nreceiver 2: partitions 7-9\nreceiver 3: partitions 10-12\n"},
		{"5", "receiver 0: partitions 1-3\nreceiver 1: partitions 4-6\nreceiver 2: partitions 7-8\nreceiver 3: partitions 9-10\nreceiver 4: partitions 11-12\n"},
	}
	for _, tt := range tests {
		t.Run(tt.n, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, "plan", tt.n)
			if r.code != 0 || r.stdout != tt.want || r.stderr != "" {
				t.Errorf("plan %s = %d\nstdout:\n%s\nstderr: %q\nwant:\n%s", tt.n, r.code, r.stdout, r.stderr, tt.want)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string // in the one line on stderr
	}{
		{"no command", nil, "Usage"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"help of unknown", []string{"help", "frobnicate"}, "unknown command"},
		{"plan without n", []string{"plan"}, "exactly one argument"},
		{"plan 0", []string{"plan", "0"}, "receivers"},
		{"plan 13", []string{"plan", "13"}, "receivers"},
		{"plan word", []string{"plan", "four"}, "not a number"},
		{"unknown flag", []string{"tail", "--bogus"}, "bogus"},
		{"bad duration", []string{"tail", "--idle-timeout", "soon"}, "idle-timeout"},
		{"no key", []string{"tail"}, "no API key"},
		{"endpoint and region", []string{"tail", "--key", testKey, "--endpoint", "http://127.0.0.1:1", "--region", "eu"}, "mutually exclusive"},
		{"bad region", []string{"tail", "--key", testKey, "--region", "us"}, "region"},
		{"bad endpoint scheme", []string{"tail", "--key", testKey, "--endpoint", "ftp://127.0.0.1"}, "want a URL such as"},
		{"partitions and receiver", []string{"tail", "--key", testKey, "--partitions", "1-3", "--receiver", "0/4"}, "mutually exclusive"},
		{"bad partitions", []string{"tail", "--key", testKey, "--partitions", "0-13"}, "partition"},
		{"bad receiver", []string{"tail", "--key", testKey, "--receiver", "4/4"}, "receiver"},
		{"receiver syntax", []string{"tail", "--key", testKey, "--receiver", "1of4"}, "I/N"},
		{"bad transport", []string{"tail", "--key", testKey, "--transport", "smoke"}, "transport"},
		{"bad from", []string{"tail", "--key", testKey, "--from", "yesterday"}, "--from"},
		{"missing ca", []string{"tail", "--key", testKey, "--ca", "/nonexistent/ca.pem"}, "--ca"},
		{"negative count", []string{"tail", "--key", testKey, "--count", "-1"}, "--count"},
		{"tail argument", []string{"tail", "--key", testKey, "extra"}, "unexpected argument"},
		{"mock bad flag", []string{"mock", "--rate", "fast"}, "rate"},
		{"mock chaos and cut", []string{"mock", "--chaos", "10", "--cut-every", "5"}, "mutually exclusive"},
		{"mock retry-after alone", []string{"mock", "--retry-after", "3"}, "--status-first"},
		{"mock bad status", []string{"mock", "--status-first", "200"}, "status"},
		{"mock bad addr", []string{"mock", "--addr", "nowhere"}, "--addr"},
		{"demo argument", []string{"demo", "now"}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q, want it to mention %q", r.stderr, tt.want)
			}
			if tt.args != nil && strings.Count(strings.TrimSuffix(r.stderr, "\n"), "\n") != 0 {
				t.Errorf("stderr has more than one line: %q", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			assertNoKey(t, r)
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"-h"}, {"help", "tail"}, {"tail", "-h"}, {"mock", "--help"}, {"demo", "-h"}, {"plan", "-h"}} {
		r := runCmd(t, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage: firehose") || r.stderr != "" {
			t.Errorf("%v = %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
		}
	}
	r := runWith(t.Context(), t, map[string]string{"FIREHOSE_API_KEY": testKey}, nil, "tail", "-h")
	assertNoKey(t, r)
}

// logStart is a --from that replays srv's whole log.
func logStart(srv *firehosetest.Server) string {
	var from int64
	for _, ev := range srv.Log().Events(1, firehose.Partitions) {
		if from == 0 || ev.Timestamp < from {
			from = ev.Timestamp
		}
	}
	return strconv.FormatInt(from, 10)
}

func wantLines(t *testing.T, srv *firehosetest.Server, n int) string {
	t.Helper()
	evs := srv.Log().Events(1, firehose.Partitions)
	if len(evs) < n {
		t.Fatalf("the log has %d events, want at least %d", len(evs), n)
	}
	var b strings.Builder
	for _, ev := range evs[:n] {
		b.Write(ev.Line)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestTailCount(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithAPIKey(testKey), firehosetest.WithHistory(300, time.Minute))
	defer srv.Close()
	const n = 120
	r := runCmd(t, "tail", "--endpoint", srv.URL, "--key", testKey, "--from", logStart(srv), "--count", strconv.Itoa(n))
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if want := wantLines(t, srv, n); r.stdout != want {
		t.Errorf("stdout: %d lines, want the log's first %d lines exactly", strings.Count(r.stdout, "\n"), n)
	}
	if !strings.Contains(r.stderr, strconv.Itoa(n)+" events") {
		t.Errorf("stderr %q, want a final status line with the count", r.stderr)
	}
	assertNoKey(t, r)
}

func TestTailKeyFromEnvironment(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithAPIKey(testKey), firehosetest.WithHistory(20, time.Minute))
	defer srv.Close()
	r := runWith(t.Context(), t, map[string]string{"FIREHOSE_API_KEY": testKey}, nil,
		"tail", "--endpoint", srv.URL, "--from", logStart(srv), "--count", "5", "--quiet")
	if r.code != 0 || r.stdout != wantLines(t, srv, 5) || r.stderr != "" {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %q", r.code, r.stdout, r.stderr)
	}
}

func TestTailReceiver(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithAPIKey(testKey), firehosetest.WithHistory(300, time.Minute))
	defer srv.Close()
	r := runCmd(t, "tail", "--endpoint", srv.URL, "--key", testKey, "--from", logStart(srv), "--receiver", "1/4", "--count", "10", "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	var want strings.Builder
	for _, ev := range srv.Log().Events(4, 6)[:10] {
		want.Write(ev.Line)
		want.WriteByte('\n')
	}
	if r.stdout != want.String() {
		t.Errorf("stdout:\n%s\nwant the first 10 events of partitions 4-6:\n%s", r.stdout, want.String())
	}
}

func TestTailCheckpoint(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithAPIKey(testKey), firehosetest.WithHistory(600, time.Minute))
	defer srv.Close()
	ckpt := filepath.Join(t.TempDir(), "position.json")
	// Two runs, the second resuming from the checkpoint the first left on
	// exit: together they print the log's first 300 events, each once.
	var got strings.Builder
	for i, args := range [][]string{
		{"--from", logStart(srv), "--count", "120"},
		{"--count", "180"},
	} {
		args = append([]string{"tail", "--endpoint", srv.URL, "--key", testKey, "--checkpoint", ckpt, "--quiet"}, args...)
		r := runCmd(t, args...)
		if r.code != 0 {
			t.Fatalf("run %d: exit %d, stderr %q", i+1, r.code, r.stderr)
		}
		got.WriteString(r.stdout)
	}
	if want := wantLines(t, srv, 300); got.String() != want {
		t.Errorf("two runs printed %d lines; want the log's first 300, each once and in order", strings.Count(got.String(), "\n"))
	}
	// A corrupt checkpoint is a fatal error, never a silent start from live.
	if err := os.WriteFile(ckpt, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, "tail", "--endpoint", srv.URL, "--key", testKey, "--checkpoint", ckpt, "--count", "1")
	if r.code != exitFatal || !strings.Contains(r.stderr, "checkpoint") || r.stdout != "" {
		t.Errorf("corrupt checkpoint: exit %d, stdout %q, stderr %q; want 1 and a checkpoint error", r.code, r.stdout, r.stderr)
	}
	assertNoKey(t, r)
}

func TestTailWrongKey(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithAPIKey("the-right-key"))
	defer srv.Close()
	r := runCmd(t, "tail", "--endpoint", srv.URL, "--key", testKey)
	if r.code != exitFatal {
		t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "401") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one line naming the 401", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
	assertNoKey(t, r)
}

func TestTailDuration(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithAPIKey(testKey), firehosetest.WithRate(200), firehosetest.WithKeepAlive(10*time.Millisecond))
	defer srv.Close()
	r := runCmd(t, "tail", "--endpoint", srv.URL, "--key", testKey, "--duration", "300ms")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	assertNoKey(t, r)
}

func TestTailCanceled(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithAPIKey(testKey), firehosetest.WithHistory(10, time.Minute))
	defer srv.Close()
	// A signal is the ctx ending: exit 0, with what was received printed.
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan result, 1)
	go func() {
		done <- runWith(ctx, t, nil, pw, "tail", "--endpoint", srv.URL, "--key", testKey, "--from", logStart(srv), "--quiet")
		pw.Close()
	}()
	// The flusher hands over the 10 events while the stream waits for more.
	sc := bufio.NewScanner(pr)
	sc.Buffer(nil, 1<<20)
	for i := 0; i < 10; i++ {
		if !sc.Scan() {
			t.Fatalf("stdout ended after %d lines: %v", i, sc.Err())
		}
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if r := <-done; r.code != 0 {
		t.Fatalf("exit %d after cancel, stderr %q", r.code, r.stderr)
	}
}

// epipeWriter accepts limit bytes, then fails as a closed pipe does.
type epipeWriter struct {
	mu    sync.Mutex
	n     int
	limit int
}

func (w *epipeWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n+len(p) > w.limit {
		return 0, &os.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.EPIPE}
	}
	w.n += len(p)
	return len(p), nil
}

func TestTailBrokenPipe(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithAPIKey(testKey), firehosetest.WithHistory(500, time.Minute))
	defer srv.Close()
	r := runWith(t.Context(), t, nil, &epipeWriter{limit: 1000}, "tail", "--endpoint", srv.URL, "--key", testKey, "--from", logStart(srv))
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing on stderr", r.code, r.stderr)
	}
}

func TestTailTLS(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithAPIKey(testKey), firehosetest.WithHistory(50, time.Minute), firehosetest.WithHTTP2())
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, "tail", "--endpoint", srv.URL, "--key", testKey, "--ca", ca, "--from", logStart(srv), "--count", "20", "--quiet")
	if r.code != 0 || r.stdout != wantLines(t, srv, 20) {
		t.Fatalf("exit %d, stderr %q, %d lines", r.code, r.stderr, strings.Count(r.stdout, "\n"))
	}
	// Without the CA the certificate is untrusted: fatal at once.
	r = runCmd(t, "tail", "--endpoint", srv.URL, "--key", testKey, "--count", "1")
	if r.code != exitFatal || !strings.Contains(r.stderr, "certificate") {
		t.Fatalf("without --ca: exit %d, stderr %q; want 1 and a certificate error", r.code, r.stderr)
	}
}

func TestTailOtherTransports(t *testing.T) {
	t.Parallel()
	for _, tr := range []string{"ws", "grpc"} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			srv := firehosetest.NewServer(firehosetest.WithAPIKey(testKey), firehosetest.WithHistory(50, time.Minute))
			defer srv.Close()
			r := runCmd(t, "tail", "--transport", tr, "--endpoint", srv.URL, "--key", testKey, "--from", logStart(srv), "--count", "10", "--quiet", "--duration", "5s")
			served := false
			for _, req := range srv.Requests() {
				served = served || req.Transport == tr
			}
			switch {
			case r.code == exitOK && !served:
				t.Skipf("the library builds %s but firehosetest does not serve it yet", tr)
			case r.code == exitOK:
				if r.stdout != wantLines(t, srv, 10) {
					t.Errorf("stdout: %d lines, want the log's first 10", strings.Count(r.stdout, "\n"))
				}
			case r.code == exitUsage:
				if !strings.Contains(r.stderr, "not available in this build") {
					t.Errorf("exit 2, stderr %q; want the transport reported as not built", r.stderr)
				}
			default:
				t.Errorf("exit %d, stderr %q", r.code, r.stderr)
			}
			assertNoKey(t, r)
		})
	}
}

func TestMock(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan result, 1)
	go func() {
		done <- runWith(ctx, t, nil, pw, "mock", "--addr", "127.0.0.1:0", "--key", testKey, "--history", "100", "--span", "1m", "--rate", "0",
			"--status-first", "503", "--retry-after", "0", "--cut-every", "30", "--duplicates", "5")
		pw.Close()
	}()
	var endpoint string
	sc := bufio.NewScanner(pr)
	for endpoint == "" && sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "endpoint:"); ok {
			endpoint = strings.TrimSpace(v)
		}
	}
	go io.Copy(io.Discard, pr)
	if endpoint == "" {
		t.Fatal("mock printed no endpoint")
	}
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Errorf("endpoint %q, want loopback", endpoint)
	}
	r := runCmd(t, "tail", "--endpoint", endpoint, "--key", testKey, "--from", "2m", "--count", "100", "--quiet", "--idle-timeout", "2s")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 100 {
		t.Errorf("tail against the mock: exit %d, %d lines, stderr %q", r.code, strings.Count(r.stdout, "\n"), r.stderr)
	}
	cancel()
	if r := <-done; r.code != 0 {
		t.Fatalf("mock exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	// The demo's own deadline (30 s) is a safety net for a starved machine;
	// a run takes a few seconds.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	r := runWith(ctx, t, nil, nil, "demo")
	if r.code != 0 {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "http:") || !strings.Contains(r.stdout, "verdict:            every event exactly once, none lost") {
		t.Errorf("demo output lacks the http verdict:\n%s", r.stdout)
	}
	for _, want := range []string{
		"octave: ", "verdict:            every event exactly once, none lost: gap-fill closed the gap",
		"callevents: ", "possible gaps:      1 (no_replay 1)", "verdict:            every published event exactly once; the reconnect reported as a typed gap",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	t.Logf("demo output:\n%s", r.stdout)
}
