package envelope

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// Run with:
//
//	go test -run '^$' -bench . -benchmem ./internal/envelope/
//
// The lines are the captured DEVICE_LOCATION_UPDATE events (1.4–1.8 KB)
// when the shared samples are present, else a synthetic line of the same
// shape.

func benchLines(b *testing.B) [][]byte {
	data, err := os.ReadFile(samplePath("beam-template-xy_data.repaired.ndjson"))
	if err != nil {
		return [][]byte{[]byte(syntheticDLU)}
	}
	var lines [][]byte
	for l := range bytes.Lines(data) {
		l = bytes.TrimSpace(l)
		if len(l) > 1000 {
			lines = append(lines, l)
		}
	}
	return lines
}

func totalBytes(lines [][]byte) (n int) {
	for _, l := range lines {
		n += len(l)
	}
	return n
}

func BenchmarkScan(b *testing.B) {
	lines := benchLines(b)
	b.SetBytes(int64(totalBytes(lines) / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	var e Envelope
	for i := range b.N {
		if err := Scan(lines[i%len(lines)], &e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanSlowPath is the rare order where a key follows the payload,
// so the payload has to be skipped byte by byte.
func BenchmarkScanSlowPath(b *testing.B) {
	lines := benchLines(b)
	for i, l := range lines {
		lines[i] = append(bytes.TrimSuffix(bytes.Clone(l), []byte("}")), `,"x":1}`...)
	}
	b.SetBytes(int64(totalBytes(lines) / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	var e Envelope
	for i := range b.N {
		if err := Scan(lines[i%len(lines)], &e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineUnmarshalMap is what a typical sample client does.
func BenchmarkBaselineUnmarshalMap(b *testing.B) {
	lines := benchLines(b)
	b.SetBytes(int64(totalBytes(lines) / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		var m map[string]any
		if err := json.Unmarshal(lines[i%len(lines)], &m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineUnmarshalStruct decodes just the envelope into a struct
// and keeps the payload raw: encoding/json still walks every byte.
func BenchmarkBaselineUnmarshalStruct(b *testing.B) {
	lines := benchLines(b)
	b.SetBytes(int64(totalBytes(lines) / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		var v struct {
			RecordUID       string          `json:"recordUid"`
			RecordTimestamp int64           `json:"recordTimestamp"`
			EventType       string          `json:"eventType"`
			Payload         json.RawMessage `json:"deviceLocationUpdate"`
		}
		if err := json.Unmarshal(lines[i%len(lines)], &v); err != nil {
			b.Fatal(err)
		}
	}
}
