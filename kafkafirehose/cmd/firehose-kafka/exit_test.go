package main

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// TestNeverConnectedExitsThree: a firehose that refuses every connection,
// --retry-limit 2: exit 3 with the reason, not a clean 0 or a bare 1.
func TestNeverConnectedExitsThree(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	var stderr bytes.Buffer
	code := run(t.Context(), []string{"--brokers", c.ListenAddrs()[0], "--topic", "t", "--quiet",
		"--endpoint", "http://" + closed, "--key", "k3y-never-shown", "--retry-limit", "2"}, &stderr, func(string) string { return "" })
	if code != 3 || !strings.Contains(stderr.String(), "firehose-kafka: never connected") || !strings.Contains(stderr.String(), "connection refused") {
		t.Fatalf("exit %d, want 3, stderr:\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "k3y-never-shown") {
		t.Fatalf("the key in stderr:\n%s", stderr.String())
	}
}
