package firehose

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firehose-go/firehose/internal/dedupe"
	"github.com/firehose-go/firehose/internal/envelope"
	"github.com/firehose-go/firehose/internal/ndjson"
)

// A 1.3 KB DEVICE_LOCATION_UPDATE line in the wire's shape (synthetic), with
// fixed-width slots for the uid and the timestamp that the generator fills.
var benchTemplate = func() string {
	loc := `{"locationId":"location-ad0a997","name":"Location - 4081f653","inferredLocationTypes":["FLOOR"],"parent":{"locationId":"location-59c7afa3","name":"Location - 6861a1f0","inferredLocationTypes":["NETWORK","BUILDING"],"parent":{"locationId":"location-8df0d359","name":"Location - f9756373","inferredLocationTypes":["CAMPUS"],"sourceLocationId":"","apCount":221},"sourceLocationId":"","apCount":12},"sourceLocationId":"","apCount":3}`
	dev := `{"deviceId":"device-qNCqfbaowTbMviFDFEAt2","userId":"","tags":["EmXXXXeeX"],"mobile":"","email":"","gender":"GENDER_NOT_AVAILABLE","firstName":"","lastName":"","postalCode":"","optIns":["TERMS_AND_CONDITIONS"],"attributes":[],"macAddress":"00:39:a7:8f:4a:00","manufacturer":"","os":"Android","osVersion":"","type":"NOT_AVAILABLE","socialNetworkInfo":[],"deviceModel":""}`
	return `{"recordUid":"event-UUUUUUUU","recordTimestamp":TTTTTTTTTTTTT,"spacesTenantId":"spaces-tenant-549be59d","spacesTenantName":"Simulation","partnerTenantId":"Simulation-Retail","eventType":"DEVICE_LOCATION_UPDATE","deviceLocationUpdate":{"device":` + dev +
		`,"location":` + loc + `,"ssid":"guest","rawUserId":"","visitId":"visit-3e1f0b6a","lastSeen":1641975908000,"deviceClassification":"","mapId":"map-5c2b3a","xPos":372.79483,"yPos":112.5,"confidenceFactor":328.0,"latitude":-999.0,"longitude":-999.0,"unc":0.0,"maxDetectedRssi":-71,"ipv4":"10.0.0.1","ipv6":[]}}` + "\n"
}()

// lineSource yields an endless NDJSON stream of distinct events.
type lineSource struct {
	tmpl      []byte
	uid, ts   int
	n         uint64
	pending   []byte
	lineBytes int
}

func newLineSource() *lineSource {
	t := []byte(benchTemplate)
	return &lineSource{tmpl: t, uid: strings.Index(benchTemplate, "UUUUUUUU"), ts: strings.Index(benchTemplate, "TTTTTTTTTTTTT"), lineBytes: len(t)}
}

const hexdigits = "0123456789abcdef"

func (s *lineSource) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		if len(s.pending) == 0 {
			s.n++
			line := s.tmpl
			v := uint32(s.n * 2654435761)
			for i := 7; i >= 0; i-- {
				line[s.uid+i] = hexdigits[v&15]
				v >>= 4
			}
			ts := 1700000000000 + s.n
			for i := 12; i >= 0; i-- {
				line[s.ts+i] = byte('0' + ts%10)
				ts /= 10
			}
			s.pending = line
		}
		k := copy(p, s.pending)
		s.pending = s.pending[k:]
		p = p[k:]
		total += k
	}
	return total, nil
}

type memConnector struct{ src io.Reader }

func (m memConnector) Connect(context.Context, ConnectRequest) (Conn, error) {
	return &httpConn{rd: ndjson.NewReader(m.src, DefaultMaxEventSize)}, nil
}
func (m memConnector) Close() error { return nil }

func benchHTTPStream(b *testing.B) *stream {
	cfg := defaultConfig()
	cfg.idle = time.Hour
	s := newStream(cfg, testSpec(cfg), memConnector{src: newLineSource()}, AllPartitions, &counters{})
	b.Cleanup(func() {
		s.mu.Lock()
		if s.cur.watch != nil {
			s.cur.watch.stop()
		}
		s.cur.c = nil
		s.mu.Unlock()
		s.Close()
	})
	return s
}

// BenchmarkPipelineHTTP is the whole HTTP path from memory: line reader,
// envelope scan, keep-alive filter, dedupe, owned Event, watermark.
func BenchmarkPipelineHTTP(b *testing.B) {
	s := benchHTTPStream(b)
	ctx := context.Background()
	b.SetBytes(int64(len(benchTemplate)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPipelineHTTPBorrowed is the same path without the copy.
func BenchmarkPipelineHTTPBorrowed(b *testing.B) {
	s := benchHTTPStream(b)
	ctx := context.Background()
	b.SetBytes(int64(len(benchTemplate)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.advance(ctx); err != nil {
			b.Fatal(err)
		}
		s.delivered()
	}
}

// BenchmarkPipelineBareLoop is the least the HTTP path must do, by hand with
// the engine's parts and without the engine: split the line, scan its
// envelope, drop keep-alives, look it up in a duplicate window of the same
// size. BenchmarkPipelineHTTPBorrowed minus this is the engine's own cost per
// event (its lock, the idle clock, Stats, the watermark, checkpoint ticks).
func BenchmarkPipelineBareLoop(b *testing.B) {
	rd := ndjson.NewReader(newLineSource(), DefaultMaxEventSize)
	win := dedupe.New(dedupe.DefaultCapacity)
	var env envelope.Envelope
	var delivered, newest int64
	b.SetBytes(int64(len(benchTemplate)))
	b.ReportAllocs()
	for b.Loop() {
		line, err := rd.Next()
		if err != nil {
			b.Fatal(err)
		}
		if err := envelope.Scan(line, &env); err != nil {
			b.Fatal(err)
		}
		if string(env.Type) == string(KeepAlive) {
			continue
		}
		if win.Seen(dedupe.Fingerprint(env.ID, env.Timestamp), env.Timestamp) {
			continue
		}
		delivered++
		newest = max(newest, env.Timestamp)
	}
	if delivered == 0 || newest == 0 {
		b.Fatal("nothing delivered")
	}
}

// BenchmarkPipelineNaive is the baseline, written the way public samples do it:
// bufio.Scanner, json.Unmarshal into map[string]any, a map for dedupe.
func BenchmarkPipelineNaive(b *testing.B) {
	sc := bufio.NewScanner(newLineSource())
	sc.Buffer(make([]byte, 64<<10), DefaultMaxEventSize)
	seen := map[string]bool{}
	b.SetBytes(int64(len(benchTemplate)))
	b.ReportAllocs()
	for b.Loop() {
		if !sc.Scan() {
			b.Fatal(sc.Err())
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			b.Fatal(err)
		}
		if m["eventType"] == "KEEP_ALIVE" {
			continue
		}
		id, _ := m["recordUid"].(string)
		k := id + strconv.FormatFloat(m["recordTimestamp"].(float64), 'f', 0, 64)
		if seen[k] {
			continue
		}
		seen[k] = true
	}
}
