package wsclient_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/firehose-go/firehose/wsclient"
)

// BenchmarkFrameLatency is what read coalescing costs in latency: how long a
// frame takes from the server's write(2) to the client's Next, with
// coalescing (the default) and with NoCoalesce, for 1.4 KB frames spaced gap
// apart, one frame per write:
//
//   - gap=1ms, a trickle: reads are never dense, coalescing never turns on,
//     and both rows should agree;
//   - gap=50µs, a moderate rate: reads look dense (within 100 µs of each
//     other), coalescing turns on, and its first poll that runs out (the
//     64 KiB low-water mark is not reached in 200 µs) turns it off again, so
//     some frames wait up to one poll.
//
// Run with:
//
//	go test -run '^$' -bench FrameLatency ./wsclient/
//
// The figures are the custom metrics p50-µs, p99-µs and max-µs; ns/op is the
// spacing, not a cost. The server spins on the other core to keep the
// spacing exact (a timer would add tens of µs of jitter).
func BenchmarkFrameLatency(b *testing.B) {
	for _, gap := range []time.Duration{time.Millisecond, 50 * time.Microsecond, 10 * time.Microsecond} {
		for _, mode := range []struct {
			name string
			o    wsclient.Options
		}{{"coalescing", wsclient.Options{}}, {"NoCoalesce", wsclient.Options{NoCoalesce: true}}} {
			b.Run(fmt.Sprintf("gap=%v/%s", gap, mode.name), func(b *testing.B) {
				frameLatency(b, gap, mode.o)
			})
		}
	}
}

func frameLatency(b *testing.B, gap time.Duration, o wsclient.Options) {
	base := time.Now()
	pad := bytes.Repeat([]byte("x"), 1400)
	srv := scriptServer(b, func(ws *websocket.Conn, _ *http.Request, quit <-chan struct{}) {
		_, msg, err := ws.ReadMessage() // "N": how many frames to send
		if err != nil {
			return
		}
		n, _ := strconv.Atoi(string(msg))
		frame := append([]byte(nil), pad...)
		start := time.Since(base) + gap
		for i := range n {
			due := start + time.Duration(i)*gap
			for time.Since(base) < due {
				select {
				case <-quit:
					return
				default:
				}
			}
			binary.LittleEndian.PutUint64(frame, uint64(time.Since(base)))
			if ws.WriteMessage(websocket.TextMessage, frame) != nil {
				return
			}
		}
	})
	c := dial(b, srv, o)
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	if err := c.WriteText([]byte(strconv.Itoa(b.N))); err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		f, err := c.Next()
		if err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(base) - time.Duration(binary.LittleEndian.Uint64(f))
	}
	b.StopTimer()
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(at(0.5), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(at(1), "max-µs")
}
