package wsclient_test

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if a goroutine of this package, of gorilla or of a
// test server outlives the tests: every Conn and server must be stopped by
// its own handle.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitForLeaks(5 * time.Second); leaked != "" {
			os.Stderr.WriteString("goroutines leaked after the tests:\n" + leaked + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

func waitForLeaks(limit time.Duration) string {
	deadline := time.Now().Add(limit)
	for {
		leaked := leakedGoroutines()
		if leaked == "" || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func leakedGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "leakedGoroutines") || strings.Contains(g, "testing.(*M)") ||
			strings.Contains(g, "testing.runFuzz") || strings.Contains(g, "signal.signal_recv") {
			continue
		}
		if strings.Contains(g, "firehose-go/firehose/wsclient") ||
			strings.Contains(g, "gorilla/websocket") ||
			strings.Contains(g, "net/http.(*conn).serve") ||
			strings.Contains(g, "net/http/httptest") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
