package callevents

import (
	"testing"

	"github.com/firehose-go/firehose/internal/leakcheck"
)

// TestMain fails the run if a goroutine these tests started outlives them.
func TestMain(m *testing.M) {
	leakcheck.Main(m, "firehose-go/firehose", "net/http.", "gorilla/websocket.")
}
