package wsclient_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/firehose-go/firehose/wsclient"
)

// benchLines returns n event lines of about 1.3 KB, the size of Cisco's
// DEVICE_LOCATION_UPDATE.
func benchLines(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		head := fmt.Sprintf(`{"recordUid":"event-%016x","recordTimestamp":%d,"spacesTenantId":"t","eventType":"DEVICE_LOCATION_UPDATE","deviceLocationUpdate":{"device":{"macAddress":"00:00:5e:00:53:%02x"},"pad":"`,
			i, 1700000000000+i, i%256)
		out[i] = []byte(head + strings.Repeat("p", 1300-len(head)-3) + `"}}`)
	}
	return out
}

// benchLap frames the lines as Cisco sends them: one text message each,
// ending in "\n".
func benchLap(lines [][]byte) []byte {
	var lap []byte
	for _, l := range lines {
		lap = appendFrame(lap, 1, append(l[:len(l):len(l)], '\n'))
	}
	return lap
}

// BenchmarkNext: one op is one 1.3 KB line through Next, either from a
// loopback gorilla server writing prebuilt frames as fast as the socket
// takes them (the server's CPU shares the machine) or from memory (the
// client's cost alone).
//
//	go test -run '^$' -bench Next -benchmem ./wsclient
func BenchmarkNext(b *testing.B) {
	lines := benchLines(1024)
	lap := benchLap(lines)
	for _, split := range []wsclient.Split{wsclient.Lines, wsclient.Messages} {
		b.Run("loopback/"+split.String(), func(b *testing.B) {
			srv := scriptServer(b, func(ws *websocket.Conn, _ *http.Request, quit <-chan struct{}) {
				for {
					select {
					case <-quit:
						return
					default:
					}
					if _, err := ws.NetConn().Write(lap); err != nil {
						return
					}
				}
			})
			c, _, err := wsclient.Dial(context.Background(), wsURL(srv), wsclient.Options{Split: split, CloseWait: 10 * time.Millisecond})
			if err != nil {
				b.Fatal(err)
			}
			runNext(b, c, len(lines[0]))
			c.Close()
		})
		b.Run("memory/"+split.String(), func(b *testing.B) {
			mc := &memConn{lap: lap, loop: true}
			c, _, err := wsclient.Dial(context.Background(), "ws://bench.invalid/", wsclient.Options{Dial: mc.dial, Split: split})
			if err != nil {
				b.Fatal(err)
			}
			runNext(b, c, len(lines[0]))
			mc.Close()
			c.Close()
		})
	}
}

func runNext(b *testing.B, c *wsclient.Conn, size int) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		u, err := c.Next()
		if err != nil || len(u) < size {
			b.Fatal(len(u), err)
		}
	}
	b.StopTimer()
}
