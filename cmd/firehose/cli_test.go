package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestFlagErrorsSayWhatIsValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"tail", "--key", testKey, "--endpoint", "127.0.0.1:18080"}, `--endpoint "127.0.0.1:18080": want a URL such as https://partners.ciscospaces.io or http://127.0.0.1:8080`},
		{[]string{"tail", "--key", testKey, "--idle-timeout", "5"}, "want a duration such as 5s"},
		{[]string{"tail", "--key", testKey, "--duration", "soon"}, "want a duration such as 5s"},
		{[]string{"top", "--key", testKey, "--interval", "fast"}, "want a duration such as 5s"},
		{[]string{"tail", "--key", testKey, "--company", "acme"}, "--company applies to --source octave, not cisco"},
		{[]string{"tail", "--key", testKey, "--password", "x"}, "--password applies to --source callevents, not cisco"},
		{[]string{"tail", "--source", "kafka"}, `--source "kafka": want cisco, octave, callevents`},
		{[]string{"tail", "--key", testKey, "--output", "yaml"}, `--output "yaml": want raw, pretty or meta`},
		{[]string{"tail", "--key", testKey, "--retry-limit", "-1"}, "--retry-limit -1: want a count >= 0"},
		{[]string{"tail", "--key", testKey, "--transport", "smoke"}, `--transport "smoke": want http, ws or grpc`},
		{[]string{"tail", "--key", testKey, "--region", "us"}, `--region "us": want io, eu or sg`},
		{[]string{"top", "--key", testKey, "--receivers", "13"}, "--receivers 13: want 1 to 12"},
	}
	for _, tt := range tests {
		r := runCmd(t, tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
		if strings.Contains(r.stderr, ": firehose:") {
			t.Errorf("%q: a doubled prefix: %q", tt.args, r.stderr)
		}
		assertNoKey(t, r)
	}
}

func TestEnvironmentFallbacks(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithAPIKey(testKey), firehosetest.WithHistory(20, time.Minute))
	defer srv.Close()
	env := map[string]string{"FIREHOSE_API_KEY": testKey, "FIREHOSE_ENDPOINT": srv.URL, "FIREHOSE_TRANSPORT": "ws"}
	r := runWith(t.Context(), t, env, nil, "tail", "--from", logStart(srv), "--count", "5", "--quiet")
	if r.code != 0 || r.stdout != wantLines(t, srv, 5) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	ws := false
	for _, req := range srv.Requests() {
		ws = ws || req.Transport == "ws"
	}
	if !ws {
		t.Error("FIREHOSE_TRANSPORT=ws was not used")
	}
	// A bad FIREHOSE_TRANSPORT is reported like the flag.
	env["FIREHOSE_TRANSPORT"] = "carrier-pigeon"
	if r := runWith(t.Context(), t, env, nil, "tail"); r.code != exitUsage || !strings.Contains(r.stderr, "want http, ws or grpc") {
		t.Errorf("bad FIREHOSE_TRANSPORT: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestTailOutputFormats(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithAPIKey(testKey), firehosetest.WithHistory(50, time.Minute))
	defer srv.Close()
	want := srv.Log().Events(1, 12)[:3]

	r := runCmd(t, "tail", "--endpoint", srv.URL, "--key", testKey, "--from", logStart(srv), "--count", "3", "--quiet", "--output", "meta")
	if r.code != 0 {
		t.Fatalf("meta: exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("meta: %d lines, want 3:\n%s", len(lines), r.stdout)
	}
	for i, l := range lines {
		var m struct {
			Source, Partitions, ID, Type string
			Timestamp                    int64
			Event                        json.RawMessage
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("meta line %d is not one JSON object: %v\n%s", i, err, l)
		}
		if m.Source != "http" || m.Partitions != "1-12" || m.ID != want[i].UID || m.Timestamp != want[i].Timestamp || m.Type == "" ||
			!bytes.Equal(m.Event, want[i].Line) {
			t.Errorf("meta line %d = %+v, want source http, partitions 1-12, id %s and the event as received", i, m, want[i].UID)
		}
	}

	r = runCmd(t, "tail", "--endpoint", srv.URL, "--key", testKey, "--from", logStart(srv), "--count", "2", "--quiet", "--output", "pretty")
	if r.code != 0 {
		t.Fatalf("pretty: exit %d, stderr %q", r.code, r.stderr)
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	for i := range 2 {
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("pretty event %d: %v", i, err)
		}
		var a, b any
		json.Unmarshal(v, &a)
		json.Unmarshal(want[i].Line, &b)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("pretty event %d differs from the event received", i)
		}
	}
	if !strings.Contains(r.stdout, "\n  \"recordUid\"") {
		t.Errorf("pretty: not indented:\n%s", r.stdout)
	}
}

// TestTailLogsSanitizedErrors: a WebSocket close reason full of terminal
// escapes reaches stderr once, in full, with the escapes removed.
func TestTailLogsSanitizedErrors(t *testing.T) {
	t.Parallel()
	reason := "go away \x1b]0;pwned\x07\x1b[2J\x1b[31mnow\x1b[0m\r\nreally\u202e\u009b1m"
	srv := firehosetest.NewServer(firehosetest.WithAPIKey(testKey), firehosetest.WithHistory(400, time.Minute),
		firehosetest.WithScript(
			firehosetest.Conn{After: 80, Action: firehosetest.EndStream, CloseCode: 1011, Message: reason},
			firehosetest.Conn{After: 80, Action: firehosetest.EndStream, CloseCode: 1011, Message: reason},
		))
	defer srv.Close()
	r := runCmd(t, "tail", "--transport", "ws", "--endpoint", srv.URL, "--key", testKey, "--from", logStart(srv), "--count", "250")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if r.stdout != wantLines(t, srv, 250) {
		t.Errorf("stdout: not the log's first 250 events once each")
	}
	if strings.ContainsAny(r.stderr, "\x1b\x07\r\u202e\u009b") {
		t.Errorf("stderr holds terminal controls: %q", r.stderr)
	}
	if n := strings.Count(r.stderr, "go away now  really"); n != 1 {
		t.Errorf("the close reason appears %d times on stderr, want once (each distinct error once):\n%s", n, r.stderr)
	}
	if !strings.Contains(r.stderr, "firehose tail: ws: server closed the connection: close 1011") {
		t.Errorf("stderr %q: want the error logged with one prefix", r.stderr)
	}
	if !strings.Contains(r.stderr, "250 events") || !strings.Contains(r.stderr, "2 reconnects") || strings.Contains(r.stderr, "gap") {
		t.Errorf("stderr %q: want the final status line with the reconnects", r.stderr)
	}
}

func TestStatusLogsErrorsOnce(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s := &status{name: "firehose tail", w: &buf, redraw: true, now: func() time.Time { return now }, width: func() int { return 0 }, seen: map[string]bool{}}
	s.drawn = "connecting, 0 events"
	s.logError(errors.New("firehose: http: dial tcp: refused"))
	s.logError(errors.New("firehose: http: dial tcp: refused"))
	want := "\r\x1b[Kfirehose tail: http: dial tcp: refused\nconnecting, 0 events"
	if buf.String() != want {
		t.Fatalf("log = %q, want %q (cleared, logged once, redrawn)", buf.String(), want)
	}
	// A burst: errBurst lines per window, the rest counted on the next.
	for i := range 10 {
		s.logError(fmt.Errorf("error %d", i))
	}
	if n := strings.Count(buf.String(), "firehose tail: "); n != errBurst {
		t.Errorf("%d lines in a burst, want %d", n, errBurst)
	}
	now = now.Add(errWindow)
	s.logError(errors.New("later"))
	if !strings.Contains(buf.String(), "later (and 6 more errors not shown)") {
		t.Errorf("log %q: want the held-back errors counted", buf.String())
	}
}

// TestTailNeverConnected: tail against nothing, stopped by --duration, exits
// 3 and says why, as a process.
func TestTailNeverConnected(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	addr := closedAddr(t)
	cmd := exec.Command(os.Args[0], "tail", "--endpoint", "http://"+addr, "--duration", "2s")
	cmd.Env = append(os.Environ(), asCLI+"=1", "FIREHOSE_API_KEY="+testKey)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitNeverConnected {
		t.Fatalf("exit %v, want %d\nstderr:\n%s", err, exitNeverConnected, stderr.String())
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %v after --duration 2s", d)
	}
	msg := stderr.String()
	if !regexp.MustCompile(`firehose tail: never connected: not connected after \d+ failed attempts? \(context deadline exceeded\); last error: .*connection refused`).MatchString(msg) {
		t.Errorf("stderr does not say why:\n%s", msg)
	}
	if !strings.Contains(msg, "failed attempt") || strings.Contains(msg, ": firehose:") || strings.Contains(msg, testKey) {
		t.Errorf("stderr:\n%s", msg)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q", stdout.String())
	}

	// --retry-limit stops it sooner, with the same code; top ends alike.
	for _, cmd := range []string{"tail", "top"} {
		r := runCmd(t, cmd, "--endpoint", "http://"+addr, "--key", testKey, "--retry-limit", "2", "--quiet")
		if r.code != exitNeverConnected || !strings.Contains(r.stderr, "firehose "+cmd+": never connected") || !strings.Contains(r.stderr, "retry limit reached") {
			t.Errorf("%s --retry-limit 2: exit %d, stderr %q", cmd, r.code, r.stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := runCmd(t, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "firehose ") {
		t.Fatalf("version: exit %d, %q", r.code, r.stdout)
	}
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/firehose-go/firehose", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-05-01T12:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionText(bi, true), "firehose github.com/firehose-go/firehose v1.2.3 (revision abc123, modified, 2026-05-01T12:00:00Z) go1.26.0"; got != want {
		t.Errorf("versionText = %q, want %q", got, want)
	}
}

func TestHelpListsEverything(t *testing.T) {
	t.Parallel()
	r := runCmd(t, "help")
	if r.code != 0 {
		t.Fatalf("help: exit %d", r.code)
	}
	for _, want := range []string{
		"Usage: firehose tail", "Usage: firehose top", "Usage: firehose mock", "Usage: firehose demo", "Usage: firehose plan", "Usage: firehose bench", "Usage: firehose version",
		"-source", "-company", "-stream", "-username", "-token-in-query", "-retry-limit", "-output", "-checkpoint", "-chaos", "-receivers",
		"3  tail or top stopped", "FIREHOSE_API_KEY", "FIREHOSE_ENDPOINT", "FIREHOSE_TRANSPORT", "OCTAVE_TOKEN", "CALLEVENTS_PASSWORD",
		"failed attempts", "possible gaps",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestMockWarnings(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		c    mockConfig
		want []string
	}{
		{mockConfig{addr: "127.0.0.1:8080", rate: 10}, nil},
		{mockConfig{addr: "localhost:8080", rate: 10}, nil},
		{mockConfig{addr: "[::1]:8080", rate: 10}, nil},
		{mockConfig{addr: ":18082", rate: 10}, []string{"--addr :18082 is not loopback"}},
		{mockConfig{addr: "0.0.0.0:1", rate: 10, chaos: 50}, []string{"not loopback", "--chaos 50 cuts more often than the replay margin covers (10 s x 10 events/s = 100 events)"}},
		{mockConfig{addr: "127.0.0.1:1", rate: 10, chaos: 100}, nil},
		{mockConfig{addr: "127.0.0.1:1", rate: 100, cutEvery: 500}, []string{"--cut-every 500"}},
	} {
		got := strings.Join(tt.c.warnings(), "\n")
		if (got == "") != (len(tt.want) == 0) {
			t.Errorf("%+v: warnings %q, want %q", tt.c, got, tt.want)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%+v: warnings %q, want %q", tt.c, got, w)
			}
		}
	}
	r := runCmd(t, "mock", "-h")
	if !strings.Contains(r.stdout, "--chaos N and --cut-every N with N below 10 x --rate report real gaps") {
		t.Errorf("mock -h does not say which --chaos levels report gaps:\n%s", r.stdout)
	}
}

func TestPlanSingular(t *testing.T) {
	t.Parallel()
	r := runCmd(t, "plan", "12")
	if !strings.HasPrefix(r.stdout, "receiver 0: partition 1\nreceiver 1: partition 2\n") || strings.Contains(r.stdout, "partitions") {
		t.Errorf("plan 12:\n%s", r.stdout)
	}
}

// TestStatusFitsTerminal runs tail in a pseudo-terminal (util-linux
// script) at 80 columns: while events flow, and while it fails to connect,
// the status line is redrawn on one row; with stdout on the same terminal,
// it comes as plain lines that fit, between whole events.
func TestStatusFitsTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	scriptPath, err := exec.LookPath("script")
	if err != nil {
		t.Skip("no script command")
	}
	srv := firehosetest.NewServer(firehosetest.WithHistory(2000, time.Minute), firehosetest.WithRate(300),
		firehosetest.WithScript(firehosetest.Conn{After: 500, Action: firehosetest.Cut}, firehosetest.Conn{Status: 503}))
	defer srv.Close()
	tests := []struct {
		name, args, redirect string
		want                 []string
	}{
		{"flowing", "--endpoint " + srv.URL + " --from 5m --duration 2500ms", " >/dev/null", []string{"connected, ", " events/s", "1 reconnect (", "1 failed attempt"}},
		{"failing", "--endpoint http://" + closedAddr(t) + " --duration 2500ms", " >/dev/null", []string{"backing off", "failed attempts", "never connected"}},
		{"same terminal", "--endpoint " + srv.URL + " --from 5m --duration 2500ms", "", []string{"recordUid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := fmt.Sprintf("stty cols 80 rows 24; exec %s tail --key %s %s%s", os.Args[0], firehosetest.DefaultAPIKey, tt.args, tt.redirect)
			cmd := exec.Command(scriptPath, "-qfec", inner, "/dev/null")
			cmd.Env = append(os.Environ(), asCLI+"=1")
			cmd.WaitDelay = 5 * time.Second
			var out lockedBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running after 30 s:\n%q", out.String())
			}
			s := out.String()
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("output lacks %q:\n%q", w, s)
				}
			}
			statuses := 0
			for _, row := range regexp.MustCompile(`\r\n|\r|\n`).Split(strings.ReplaceAll(s, "\x1b[K", ""), -1) {
				if strings.ContainsRune(row, '\x1b') {
					t.Errorf("an escape other than erase-line: %q", row)
				}
				isStatus := strings.Contains(row, " events/s") || strings.Contains(row, "duplicates dropped")
				if !isStatus {
					continue
				}
				statuses++
				if n := utf8.RuneCountInString(row); n >= 80 {
					t.Errorf("status row of %d columns at 80: %q", n, row)
				}
				if tt.redirect == "" && strings.Contains(row, "recordUid") {
					t.Errorf("a status line glued to an event: %q", row)
				}
			}
			if statuses == 0 && tt.redirect != "" {
				t.Errorf("no status line:\n%q", s)
			}
		})
	}
}

var _ = firehose.Partitions

func TestTailVerbose(t *testing.T) {
	t.Parallel()
	srv := firehosetest.NewServer(firehosetest.WithAPIKey(testKey), firehosetest.WithHistory(50, time.Minute))
	defer srv.Close()
	r := runCmd(t, "tail", "-v", "--endpoint", srv.URL, "--key", testKey, "--from", logStart(srv), "--count", "5")
	if r.code != 0 || r.stdout != wantLines(t, srv, 5) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "level=") || !strings.Contains(r.stderr, "connected") {
		t.Errorf("-v: no library log on stderr:\n%s", r.stderr)
	}
	assertNoKey(t, r)
	if r := runCmd(t, "tail", "--endpoint", srv.URL, "--key", testKey, "--from", logStart(srv), "--count", "5"); strings.Contains(r.stderr, "level=") {
		t.Errorf("without -v, the library logged:\n%s", r.stderr)
	}
}
