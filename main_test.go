package firehose_test

import (
	"testing"

	"github.com/firehose-go/firehose/internal/leakcheck"
)

// TestMain fails the run if a goroutine these tests started outlives them.
func TestMain(m *testing.M) {
	leakcheck.Main(m, "github.com/firehose-go/firehose", "net/http.(*persistConn)", "net/http.(*conn).serve", "google.golang.org/grpc", "gorilla/websocket")
}
