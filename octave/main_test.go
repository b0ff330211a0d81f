package octave_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if a goroutine of this package, of the engine, of net/http or of
// gorilla/websocket outlives the tests.
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
		var leaked []string
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "waitForLeaks") {
				continue
			}
			for _, pkg := range []string{"firehose-go/firehose", "net/http.", "gorilla/websocket."} {
				if strings.Contains(g, pkg) {
					leaked = append(leaked, g)
					break
				}
			}
		}
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
