package firehosetest

import (
	"bytes"
	"net/http"
	"testing"
	"time"
)

// BenchmarkServeNDJSON measures the server side of a replay: b.N history events pulled over
// loopback HTTP/1.1 by a client that only counts lines.
func BenchmarkServeNDJSON(b *testing.B) {
	s := NewServer(WithHistory(b.N, time.Minute))
	defer s.Close()
	tr := &http.Transport{ReadBufferSize: 256 << 10}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, s.URL+EventsPath+"?fromTimestamp=1", nil)
	req.Header.Set("X-API-Key", DefaultAPIKey)
	b.ResetTimer()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 256<<10)
	var total int64
	for lines := 0; lines < b.N; {
		n, err := resp.Body.Read(buf)
		lines += bytes.Count(buf[:n], []byte{'\n'})
		total += int64(n)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(total / int64(b.N))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendLine measures rendering the log's lines (the type mix of the log).
func BenchmarkAppendLine(b *testing.B) {
	l := newLog(&config{seed: 1, historyN: 1 << 30, historySpan: time.Hour}, time.Now())
	var buf []byte
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m := l.meta(uint64(i))
		buf = l.appendLine(buf[:0], &m)
	}
}
