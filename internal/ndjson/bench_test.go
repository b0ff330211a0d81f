package ndjson

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

// Run with:
//
//	go test -run '^$' -bench . -benchmem ./internal/ndjson/
//
// The input is 16 MiB of 1.7 KB lines read from memory, so the figures are
// the splitting cost alone.

func benchInput() []byte {
	line := `{"recordUid":"event-1a2b3c4d","recordTimestamp":1700000000123,"eventType":"DEVICE_LOCATION_UPDATE","deviceLocationUpdate":{"x":"` +
		strings.Repeat("y", 1600) + `"}}` + "\n"
	return bytes.Repeat([]byte(line), (16<<20)/len(line))
}

func BenchmarkReader(b *testing.B) {
	data := benchInput()
	defer reportPerLine(b, data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	src := bytes.NewReader(data)
	b.ResetTimer()
	for range b.N {
		src.Reset(data)
		r := NewReader(src, 8<<20)
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}

// BenchmarkBaselineScanner is bufio.Scanner with the same maximum.
func BenchmarkBaselineScanner(b *testing.B) {
	data := benchInput()
	defer reportPerLine(b, data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	src := bytes.NewReader(data)
	b.ResetTimer()
	for range b.N {
		src.Reset(data)
		sc := bufio.NewScanner(src)
		sc.Buffer(make([]byte, 64<<10), 8<<20)
		for sc.Scan() {
			_ = sc.Bytes()
		}
		if sc.Err() != nil {
			b.Fatal(sc.Err())
		}
	}
}

func reportPerLine(b *testing.B, data []byte) {
	lines := bytes.Count(data, []byte("\n"))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(lines), "ns/line")
}
