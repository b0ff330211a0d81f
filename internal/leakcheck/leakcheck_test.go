package leakcheck_test

import (
	"strings"
	"testing"

	"github.com/firehose-go/firehose/internal/leakcheck"
)

func blocker(release <-chan struct{}, started chan<- struct{}) {
	close(started)
	<-release
}

func TestLeakedSeesWatchedGoroutines(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{})
	go blocker(release, started)
	<-started
	if got := leakcheck.Leaked("leakcheck_test.blocker"); !strings.Contains(got, "blocker") {
		t.Fatalf("a running goroutine was not seen: %q", got)
	}
	if got := leakcheck.Leaked("no/such/package"); got != "" {
		t.Fatalf("an unwatched goroutine was reported: %q", got)
	}
	close(release)
	for leakcheck.Leaked("leakcheck_test.blocker") != "" {
		// it ends as soon as it is scheduled
	}
}
