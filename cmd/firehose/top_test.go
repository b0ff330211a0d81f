package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/firehosetest"
)

var updateTop = flag.Bool("update-top", false, "rewrite testdata/top_*.golden")

// topFixture is a fixed frame: two receivers, one of them down.
func topFixture() topSnapshot {
	recv := []firehose.Stats{{
		Range: firehose.Range{Min: 1, Max: 6}, Source: "http", Events: 41230, Connected: 1, Duplicates: 12,
		Reconnects: map[firehose.Cause]int64{firehose.CauseEOF: 2}, LastEvent: 1, Lag: 1234 * time.Millisecond,
	}, {
		Range: firehose.Range{Min: 7, Max: 12}, Source: "http", Events: 39001, Gaps: 1,
		Reconnects: map[firehose.Cause]int64{firehose.CauseNetwork: 3, firehose.CauseIdle: 1}, LastEvent: 1, Lag: 42 * time.Second,
	}}
	var spark []float64
	for i := range 60 {
		spark = append(spark, float64(100+(i*37)%200))
	}
	return topSnapshot{
		Rate: 812, Spark: spark, Receivers: recv,
		Types: []typeRate{
			{firehose.DeviceLocationUpdate, 640, 60311},
			{firehose.DevicePresence, 120.5, 12000},
			{firehose.IOTTelemetry, 51.5, 7000},
			{firehose.TypeOther, 0, 920},
		},
		Total: firehose.Stats{
			Source: "http", Events: 80231, Connected: 1, Duplicates: 12, KeepAlives: 7, Gaps: 1, LastEvent: 1, Lag: 42 * time.Second,
			Reconnects: map[firehose.Cause]int64{firehose.CauseEOF: 2, firehose.CauseNetwork: 3, firehose.CauseIdle: 1},
			LastError:  "firehose: connection reset by peer",
		},
	}
}

func TestRenderTopGolden(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {40, 10}, {120, 8}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			got := renderTop(topFixture(), size.w, size.h)
			lines := strings.Split(got, "\n")
			if len(lines) > size.h {
				t.Errorf("%d lines, height %d", len(lines), size.h)
			}
			for i, l := range lines {
				if n := utf8.RuneCountInString(l); n > size.w {
					t.Errorf("line %d is %d runes wide, width %d: %q", i, n, size.w, l)
				}
			}
			path := filepath.Join("testdata", fmt.Sprintf("top_%dx%d.golden", size.w, size.h))
			if *updateTop {
				os.MkdirAll("testdata", 0o755)
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("frame differs from %s:\n%s\n--- want:\n%s", path, got, want)
			}
		})
	}
}

func TestRenderTopNeverWider(t *testing.T) {
	snap := topFixture()
	snap.Total.LastError = strings.Repeat("é", 300)
	for w := 0; w <= 130; w += 7 {
		for h := 0; h <= 30; h += 3 {
			out := renderTop(snap, w, h)
			if out == "" {
				continue
			}
			lines := strings.Split(out, "\n")
			if len(lines) > h {
				t.Fatalf("%dx%d: %d lines", w, h, len(lines))
			}
			for _, l := range lines {
				if utf8.RuneCountInString(l) > w {
					t.Fatalf("%dx%d: line %q too wide", w, h, l)
				}
			}
		}
	}
}

func TestSparkline(t *testing.T) {
	if got := sparkline([]float64{0, 1, 2, 4, 8}); got != "▁▁▂▄█" {
		t.Errorf("sparkline = %q", got)
	}
	if got := sparkline([]float64{0, 0}); got != "▁▁" {
		t.Errorf("flat sparkline = %q", got)
	}
}

func TestTopSamplerRates(t *testing.T) {
	var s topSampler
	t0 := time.Unix(1000, 0)
	s.sample(t0, firehose.Stats{Events: 10, EventsByType: map[firehose.EventType]int64{firehose.DeviceEntry: 10}}, nil)
	snap := s.sample(t0.Add(2*time.Second), firehose.Stats{Events: 30,
		EventsByType: map[firehose.EventType]int64{firehose.DeviceEntry: 14, firehose.DeviceExit: 16}}, nil)
	if snap.Rate != 10 || len(snap.Spark) != 1 {
		t.Fatalf("rate %v spark %v", snap.Rate, snap.Spark)
	}
	if snap.Types[0].Type != firehose.DeviceExit || snap.Types[0].Rate != 8 || snap.Types[1].Rate != 2 {
		t.Fatalf("types %+v", snap.Types)
	}
	for i := range 100 {
		snap = s.sample(t0.Add(time.Duration(3+i)*time.Second), firehose.Stats{Events: 30}, nil)
	}
	if len(snap.Spark) != topHistory {
		t.Fatalf("sparkline keeps %d samples, want %d", len(snap.Spark), topHistory)
	}
}

// TestTopPlainLines: without a terminal, top prints one line per interval
// and no events, and stops at --duration with exit 0.
func TestTopPlainLines(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithHistory(200, time.Minute), firehosetest.WithRate(100))
	defer srv.Close()
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"top", "--endpoint", srv.URL, "--key", firehosetest.DefaultAPIKey,
		"--from", "5m", "--receivers", "2", "--interval", "100ms", "--duration", "700ms"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 3 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "firehose top: ") || !strings.Contains(l, "events/s") || strings.Contains(l, "recordUid") {
			t.Fatalf("line %q", l)
		}
	}
	if !strings.Contains(out.String(), "2/2 receivers connected") {
		t.Errorf("no line shows both receivers connected:\n%s", out.String())
	}
}

func TestTopUsage(t *testing.T) {
	for _, args := range [][]string{
		{"top", "--key", "k", "--checkpoint", "x"},
		{"top", "--key", "k", "--interval", "0s"},
		{"top", "--key", "k", "extra"},
		{"top"},
	} {
		var out, errb bytes.Buffer
		e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
		if code := e.dispatch(context.Background(), args); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errb.String())
		}
	}
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTopInTerminal runs top in a pseudo-terminal (util-linux script) at
// 80x24 against a mock: the frame shows the flow, and q quits with exit 0.
func TestTopInTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	scriptPath, err := exec.LookPath("script")
	if err != nil {
		t.Skip("no script command")
	}
	srv := firehosetest.NewServer(firehosetest.WithHistory(500, time.Minute), firehosetest.WithRate(200))
	defer srv.Close()
	inner := fmt.Sprintf("stty cols 80 rows 24; exec %s top --endpoint %s --key %s --from 5m --receivers 3 --interval 200ms",
		os.Args[0], srv.URL, firehosetest.DefaultAPIKey)
	cmd := exec.Command(scriptPath, "-qfec", inner, "/dev/null")
	cmd.Env = append(os.Environ(), asCLI+"=1")
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
	// Wait for a frame that shows the flow: a type row and all receivers.
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := out.String()
		if strings.Contains(s, "3/3 receivers connected") && strings.Contains(s, "TYPE") &&
			strings.Contains(s, "last minute ") && strings.Contains(s, "1-4") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no frame with the flow after 20 s:\n%q", s)
		}
		select {
		case <-exited:
			t.Fatalf("top exited early (%v):\n%q", waitErr, s)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if strings.Contains(out.String(), "recordUid") {
		t.Error("top printed an event")
	}
	for _, l := range strings.Split(out.String(), "\r\n") {
		// Strip the escape sequences top writes, then measure.
		for _, esc := range []string{"\x1b[H", "\x1b[K", "\x1b[J", "\x1b[?25l", "\x1b[?25h", "\x1b[?1049h", "\x1b[?1049l"} {
			l = strings.ReplaceAll(l, esc, "")
		}
		if utf8.RuneCountInString(l) > 80 {
			t.Errorf("line wider than the 80-column terminal: %q", l)
		}
	}
	io.WriteString(stdin, "q")
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("top after q: %v\n%q", waitErr, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("top still running 10 s after q")
	}
	if !strings.HasSuffix(strings.TrimRight(out.String(), "\r\n"), "\x1b[?1049l") {
		t.Errorf("the screen was not restored: ends %q", tailOf(out.String(), 40))
	}
}

func tailOf(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
