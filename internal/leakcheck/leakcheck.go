// Package leakcheck fails a test binary whose goroutines outlive its tests:
// every stream, connection, server and process a test starts must be stopped
// by its own handle. Each package of the project (and of its nested modules)
// calls it from TestMain with the stack frames it watches.
package leakcheck

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Wait is how long goroutines get to finish after the last test.
const Wait = 5 * time.Second

// Main runs the tests, then fails the binary if a goroutine whose stack
// mentions one of watch (a package path, a function such as
// "net/http.(*persistConn)") is still running after Wait. A run that failed
// already is not checked: its leaks are the failures' echo.
func Main(m *testing.M, watch ...string) {
	code := m.Run()
	if code == 0 {
		if leaked := waitFor(watch, Wait); leaked != "" {
			os.Stderr.WriteString("goroutines leaked after the tests:\n\n" + leaked + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

func waitFor(watch []string, limit time.Duration) string {
	deadline := time.Now().Add(limit)
	for {
		leaked := Leaked(watch...)
		if leaked == "" || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Leaked returns the stacks of the goroutines now running that mention one
// of watch, or "".
func Leaked(watch ...string) string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	// Frames of goroutines the runtime, the testing package and this one own.
	ignored := []string{"leakcheck.", "testing.(*M)", "testing.runFuzz", "testing.(*F).Fuzz", "signal.signal_recv"}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if mentions(g, ignored) {
			continue
		}
		if mentions(g, watch) {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

func mentions(g string, frames []string) bool {
	for _, f := range frames {
		if strings.Contains(g, f) {
			return true
		}
	}
	return false
}
