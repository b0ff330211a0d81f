package dedupe

import (
	"strconv"
	"testing"
)

// Benchmarks run at the default capacity in steady state: the window is
// full, so every new fingerprint also evicts the oldest entry.
//
//	go test -run '^$' -bench . -benchmem ./internal/dedupe/

// mix turns a counter into a well-spread fingerprint (splitmix64), so the
// benchmarks measure the window, not Fingerprint.
func mix(i uint64) uint64 {
	i += golden64
	i = (i ^ (i >> 30)) * mixMul1
	i = (i ^ (i >> 27)) * mixMul2
	return i ^ (i >> 31) | 1
}

func fullWindow() (*Window, uint64) {
	w := New(DefaultCapacity)
	var i uint64
	for ; i < DefaultCapacity; i++ {
		w.Seen(mix(i), int64(i))
	}
	return w, i
}

func BenchmarkSeenNew(b *testing.B) {
	w, next := fullWindow()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if w.Seen(mix(next), int64(next)) {
			b.Fatal("new fingerprint reported seen")
		}
		next++
	}
}

func BenchmarkSeenDuplicate(b *testing.B) {
	w, next := fullWindow()
	b.ReportAllocs()
	b.ResetTimer()
	var i uint64
	for range b.N {
		// Stride through the live entries in a cache-unfriendly order.
		i = (i + 40503) % next
		if !w.Seen(mix(i), int64(i)) {
			b.Fatal("duplicate not seen")
		}
	}
}

// BenchmarkFingerprintSeenNew is the per-event cost in the engine: hash a
// 14-byte uid and its timestamp, then check and insert.
func BenchmarkFingerprintSeenNew(b *testing.B) {
	w, next := fullWindow()
	id := make([]byte, 0, 32)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		id = append(id[:0], "event-"...)
		id = strconv.AppendUint(id, next&0xffffffff, 16)
		ts := 1641977166586 + int64(next)
		if w.Seen(Fingerprint(id, ts), ts) {
			b.Fatal("new fingerprint reported seen")
		}
		next++
	}
}

func BenchmarkFingerprint(b *testing.B) {
	id := []byte("event-f3e19217")
	b.ReportAllocs()
	b.SetBytes(int64(len(id)))
	var sink uint64
	for i := range b.N {
		sink += Fingerprint(id, int64(i))
	}
	_ = sink
}

// baseline is the obvious alternative: a map of fingerprints plus a FIFO
// queue of them for eviction.
type baseline struct {
	set   map[uint64]struct{}
	queue []uint64
	cap   int
}

func (m *baseline) seen(fp uint64) bool {
	if _, ok := m.set[fp]; ok {
		return true
	}
	if len(m.queue) == m.cap {
		delete(m.set, m.queue[0])
		m.queue = m.queue[1:]
	}
	m.set[fp] = struct{}{}
	m.queue = append(m.queue, fp)
	return false
}

func fullBaseline() (*baseline, uint64) {
	m := &baseline{set: make(map[uint64]struct{}, DefaultCapacity), cap: DefaultCapacity}
	var i uint64
	for ; i < DefaultCapacity; i++ {
		m.seen(mix(i))
	}
	return m, i
}

func BenchmarkBaselineMapSeenNew(b *testing.B) {
	m, next := fullBaseline()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if m.seen(mix(next)) {
			b.Fatal("new fingerprint reported seen")
		}
		next++
	}
}

func BenchmarkBaselineMapSeenDuplicate(b *testing.B) {
	m, next := fullBaseline()
	b.ReportAllocs()
	b.ResetTimer()
	var i uint64
	for range b.N {
		i = (i + 40503) % next
		if !m.seen(mix(i)) {
			b.Fatal("duplicate not seen")
		}
	}
}
