package benchrun

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/firehose-go/firehose/internal/dedupe"
)

func TestSpecRoundTrip(t *testing.T) {
	want := MockSpec{History: 300000, Span: time.Minute, Rate: 5e6, Seed: 3, CPUProfile: "/tmp/x.pprof"}
	got, err := parseSpec(want.encode())
	if err != nil || got != want {
		t.Fatalf("parseSpec(%q) = %+v, %v", want.encode(), got, err)
	}
	if _, err := parseSpec("history=x"); err == nil {
		t.Fatal("a bad spec parsed")
	}
}

func TestFingerprintIsTheEngines(t *testing.T) {
	for _, id := range []string{"event-1a2b", "", "x"} {
		ts := int64(1700000000123)
		if a, b := fingerprint(id, ts), fingerprint([]byte(id), ts); a != b {
			t.Fatalf("string and []byte fingerprints differ: %x %x", a, b)
		}
		if a, b := fingerprint(id, ts), dedupe.Fingerprint([]byte(id), ts); a != b {
			t.Fatalf("fingerprint(%q) = %x, dedupe.Fingerprint = %x", id, a, b)
		}
	}
}

func TestStatAndReport(t *testing.T) {
	ss := []Sample{
		{Wall: time.Second, CPU: time.Second, Events: 100, Bytes: 1e6, Mallocs: 200},
		{Wall: 2 * time.Second, CPU: 2 * time.Second, Events: 100, Bytes: 1e6, Mallocs: 100},
		{Wall: 4 * time.Second, CPU: 4 * time.Second, Events: 100, Bytes: 1e6, Mallocs: 300},
	}
	ev := stat(ss, Sample.EventsPerSec, true)
	if ev.Median != 50 || ev.Best != 100 {
		t.Fatalf("events/s %+v", ev)
	}
	cpu := stat(ss, Sample.CPUPerEvent, false)
	if math.Abs(cpu.Median-20000) > 1e-6 || math.Abs(cpu.Best-10000) > 1e-6 {
		t.Fatalf("cpu %+v", cpu)
	}
	if s := stat(ss[:2], Sample.AllocsPerEvent, false); s.Median != 1.5 || s.Best != 1 {
		t.Fatalf("allocs %+v", s)
	}
	if got := thousands(1234567.4); got != "1,234,567" {
		t.Fatalf("thousands = %q", got)
	}
	rep := &Report{Machine: "test", Events: 100, Bytes: 1e6, Rounds: 3, Rows: []*Row{
		{Transport: HTTP, Client: Raw, Samples: ss},
		{Transport: HTTP, Client: Naive, Samples: ss},
		{Transport: HTTP, Client: Owned, Samples: ss},
		{Transport: WS, Client: Raw, Skipped: "not served | yet"},
		{Transport: HTTP, Client: Borrowed, Err: "incorrect"},
	}}
	var b strings.Builder
	rep.WriteMarkdown(&b)
	out := b.String()
	for _, want := range []string{"| http | owned | 50 (100) |", `skipped: not served \| yet`, "FAILED: incorrect", "MISS http/owned events/s vs naive"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
