//go:build unix

package benchrun

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRunPeerHandshake drives runPeer with shell scripts standing in for a
// Node client: the clean path gives the counts and the process's CPU less
// its start-up; every other path ends with an error, and the hung ones with
// their process group killed, the background children included.
func TestRunPeerHandshake(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	cases := []struct {
		name   string
		script string // PIDFILE is replaced by a file for a background child's pid
		ctxFor time.Duration
		want   string // "" for the clean path
	}{
		{"clean", `echo '{"ready":true,"cpuUs":0}'; read go; echo '{"events":5,"xor":"7","sum":"9"}'`, 0, ""},
		{"error line", `echo '{"ready":true,"cpuUs":0}'; read go; echo '{"error":"handshake: HTTP 401"}'; exit 1`, 0, "the peer failed: handshake: HTTP 401"},
		{"no result", `echo '{"ready":true,"cpuUs":0}'; read go; exit 0`, 0, "without its line"},
		{"garbage", `echo 'hello'`, 0, "the peer printed"},
		{"hangs after go", `sleep 1000 & echo $! > PIDFILE; echo '{"ready":true,"cpuUs":0}'; read go; wait`, 300 * time.Millisecond, "deadline exceeded"},
		{"stays after its result", `sleep 1000 & echo $! > PIDFILE; echo '{"ready":true,"cpuUs":0}'; read go; echo '{"events":1}'; trap '' TERM; wait`, 300 * time.Millisecond, "deadline exceeded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			ctx := context.Background()
			if c.ctxFor > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.ctxFor)
				defer cancel()
			}
			res, err := runPeer(ctx, sh, []string{"-c", strings.ReplaceAll(c.script, "PIDFILE", pidFile)})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !res.peer || res.events != 5 || !res.digest || res.xor != 7 || res.sum != 9 || res.wall <= 0 {
					t.Fatalf("result %+v", res)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("runPeer = %v, want an error saying %q", err, c.want)
			}
			if b, err := os.ReadFile(pidFile); err == nil {
				pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				if !gone(pid, 5*time.Second) {
					t.Errorf("the peer's background child %d is still running", pid)
				}
			}
		})
	}
}

// gone reports whether process pid has ended (or is a zombie) within d.
func gone(pid int, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		// pid (comm) STATE ...
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return true
		}
	}
	return false
}
