package callevents

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if a goroutine of the source, its mock, the engine, net/http or gorilla
// outlives the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitForLeaks(3 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "leaked goroutines:\n\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

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
		if strings.Contains(g, "suspiciousGoroutines") || strings.Contains(g, "testing.(*F).Fuzz") {
			continue
		}
		for _, pkg := range []string{"firehose-go/firehose", "net/http.", "gorilla/websocket."} {
			if strings.Contains(g, pkg) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}
