package dedupe

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestFingerprintGolden pins the persisted fingerprint formula (values
// computed independently, with Python, from the documented formula). If this test
// fails, checkpoints written by earlier releases would no longer match: do
// not update the values, restore the formula.
func TestFingerprintGolden(t *testing.T) {
	tests := []struct {
		id   string
		ts   int64
		want uint64
	}{
		{"", 0, 0xf52a15e9a9b5e89b},
		{"event-f3e19217", 1641977166586, 0x4c072cfdc74c0c10},
		{"event-57de904", 1641977171470, 0x78e55b1f426c527e},
		{"event-57de904", 1641977171471, 0x7540df62106b06fc},
		{"event-67d17b11", -1, 0xefab14affa545e40},
		{"\xff\x00é", 9223372036854775807, 0xaa67794cfce7fc10},
	}
	for _, tt := range tests {
		if got := Fingerprint([]byte(tt.id), tt.ts); got != tt.want {
			t.Errorf("Fingerprint(%q, %d) = %#x, want %#x", tt.id, tt.ts, got, tt.want)
		}
	}
}

// TestFingerprintReference recomputes the documented formula independently.
func TestFingerprintReference(t *testing.T) {
	ref := func(id []byte, ts int64) uint64 {
		h := uint64(14695981039346656037)
		for _, c := range id {
			h ^= uint64(c)
			h *= 1099511628211
		}
		h ^= uint64(ts) * 0x9E3779B97F4A7C15
		h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9
		h = (h ^ (h >> 27)) * 0x94D049BB133111EB
		h ^= h >> 31
		if h == 0 {
			return 1
		}
		return h
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		id := make([]byte, r.IntN(40))
		for i := range id {
			id[i] = byte(r.Uint32())
		}
		ts := int64(r.Uint64())
		if got, want := Fingerprint(id, ts), ref(id, ts); got != want {
			t.Fatalf("Fingerprint(%q, %d) = %#x, reference %#x", id, ts, got, want)
		}
	}
}

// model is the reference: a map plus a FIFO queue.
type model struct {
	cap   int
	set   map[uint64]int64
	queue []uint64
}

func (m *model) seen(fp uint64, ts int64) bool {
	if _, ok := m.set[fp]; ok {
		return true
	}
	if len(m.queue) == m.cap {
		delete(m.set, m.queue[0])
		m.queue = m.queue[1:]
	}
	m.set[fp] = ts
	m.queue = append(m.queue, fp)
	return false
}

func TestSeenMatchesModel(t *testing.T) {
	for _, capacity := range []int{1, 2, 3, 7, 8, 64, 1000} {
		t.Run(strconv.Itoa(capacity), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(capacity), 42))
			w := New(capacity)
			m := &model{cap: capacity, set: map[uint64]int64{}}
			// Draw ids from a pool about 3× the capacity so that hits,
			// misses, evictions and re-insertions after eviction all occur.
			// Some fingerprints share their low/high bits to provoke long
			// probe runs and backward shifts.
			pool := 3*capacity + 2
			for step := range 200_000 {
				k := uint64(r.IntN(pool))
				fp := k + 1
				if k%3 == 0 {
					fp = k<<40 | 1
				}
				ts := int64(k)
				got, want := w.Seen(fp, ts), m.seen(fp, ts)
				if got != want {
					t.Fatalf("step %d: Seen(%#x) = %v, model %v", step, fp, got, want)
				}
				if w.Len() != len(m.queue) {
					t.Fatalf("step %d: Len = %d, model %d", step, w.Len(), len(m.queue))
				}
			}
			checkInvariants(t, w)
			// Recent (newest first) must list the model's queue reversed.
			var got []uint64
			w.Recent(-1<<63, func(fp uint64, ts int64) bool { got = append(got, fp); return true })
			want := slices.Clone(m.queue)
			slices.Reverse(want)
			if !slices.Equal(got, want) {
				t.Fatalf("Recent order differs from the model")
			}
		})
	}
}

// goldenInverse is the multiplicative inverse of golden64 modulo 2^64, so
// that fpFor can choose the exact home slot and tag of a fingerprint.
var goldenInverse = func() uint64 {
	x := uint64(golden64) // Newton: x = x*(2 - a*x), 3 correct bits doubling
	for range 6 {
		x *= 2 - golden64*x
	}
	return x
}()

// fpFor returns the fingerprint whose hash product is m.
func fpFor(m uint64) uint64 { return m * goldenInverse }

// TestClusteredMatchesModel forces long probe runs: all fingerprints share
// one of three home slots (two adjacent) and mostly the same tag, so
// saturated distances, tag collisions and backward shifts across runs all
// happen. It also runs the slot layouts of huge capacities (posBits 31: one
// distance bit and no tag; 32: neither).
func TestClusteredMatchesModel(t *testing.T) {
	if goldenInverse*golden64 != 1 {
		t.Fatal("bad inverse")
	}
	for _, posBits := range []uint{0, 31, 32} {
		for _, capacity := range []int{1, 5, 40, 200} {
			name := strconv.Itoa(capacity) + "/" + strconv.Itoa(int(posBits))
			t.Run(name, func(t *testing.T) {
				w := New(capacity)
				if posBits != 0 {
					w = newWindow(capacity, len(w.table), 64-w.shift, posBits)
				}
				r := rand.New(rand.NewPCG(uint64(capacity), uint64(posBits)))
				m := &model{cap: capacity, set: map[uint64]int64{}}
				homes := []uint64{1 & w.uint64Mask(), 2 & w.uint64Mask(), w.uint64Mask()} // two adjacent, one wrapping
				pool := 3*capacity + 2
				for step := range 50_000 {
					k := uint64(r.IntN(pool))
					home := homes[k%3]
					prod := home<<w.shift | k<<8 // same tag bits (just below the home) for most k
					fp := fpFor(prod)
					if h, _ := w.hash(fp); uint64(h) != home {
						t.Fatalf("fpFor: home %d, want %d", h, home)
					}
					got, want := w.Seen(fp, int64(k)), m.seen(fp, int64(k))
					if got != want {
						t.Fatalf("step %d: Seen = %v, model %v", step, got, want)
					}
					if step%997 == 0 {
						checkInvariants(t, w)
					}
				}
				checkInvariants(t, w)
			})
		}
	}
}

func (w *Window) uint64Mask() uint64 { return uint64(w.mask) }

// checkInvariants verifies that the index holds exactly the ring's live
// entries, that every entry is reachable from its home slot, and that the
// distance and tag bits of every slot agree with its fingerprint.
func checkInvariants(t *testing.T, w *Window) {
	t.Helper()
	live := 0
	for i, v := range w.table {
		if v == 0 {
			continue
		}
		live++
		fp := w.ring[v&w.posMask-1].fp
		home, tag := w.hash(fp)
		for j := home; j != uint32(i); j = (j + 1) & w.mask {
			if w.table[j] == 0 {
				t.Fatalf("slot %d (fp %#x) unreachable from its home: empty slot %d on the way", i, fp, j)
			}
		}
		if got := w.home(uint32(i), v); got != home {
			t.Fatalf("slot %d: stored distance gives home %d, fingerprint gives %d", i, got, home)
		}
		if want := w.slot(int(v&w.posMask)-1, uint32(i), home, tag); v != want {
			t.Fatalf("slot %d = %#x, want %#x", i, v, want)
		}
	}
	if live != w.Len() {
		t.Fatalf("index holds %d entries, Len %d", live, w.Len())
	}
}

func TestEvictionOrder(t *testing.T) {
	w := New(3)
	for fp := uint64(1); fp <= 3; fp++ {
		if w.Seen(fp, int64(fp)) {
			t.Fatalf("fresh %d reported seen", fp)
		}
	}
	if !w.Seen(1, 1) { // a hit does not refresh 1's position
		t.Fatal("1 not seen")
	}
	w.Seen(4, 4) // evicts 1, the oldest inserted
	for fp, want := range map[uint64]bool{2: true, 3: true, 4: true} {
		if !w.Seen(fp, 0) == want {
			t.Fatalf("after evicting 1: Seen(%d) = %v", fp, !want)
		}
	}
	if w.Seen(1, 1) { // 1 was evicted: new again, evicts 2
		t.Fatal("evicted 1 still seen")
	}
	if w.Seen(2, 2) { // 2 was evicted by 1: new again, evicts 3
		t.Fatal("2 should have been evicted by 1")
	}
	if !w.Seen(4, 4) || !w.Seen(1, 1) || !w.Seen(2, 2) || w.Len() != 3 {
		t.Fatal("window should hold 4, 1, 2")
	}
}

func TestCapacityOne(t *testing.T) {
	w := New(1)
	if w.Cap() != 1 || w.Len() != 0 {
		t.Fatalf("Cap %d Len %d", w.Cap(), w.Len())
	}
	if w.Seen(7, 1) || !w.Seen(7, 1) {
		t.Fatal("7")
	}
	if w.Seen(8, 2) || w.Seen(7, 1) || w.Seen(8, 2) || !w.Seen(8, 2) {
		t.Fatal("capacity 1 must remember only the last new fingerprint")
	}
	if w.Len() != 1 {
		t.Fatalf("Len %d", w.Len())
	}
}

func TestNewPanicsOnBadCapacity(t *testing.T) {
	for _, c := range []int{0, -1, MaxCapacity + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%d) did not panic", c)
				}
			}()
			New(c)
		}()
	}
}

func TestCapIsExact(t *testing.T) {
	for _, c := range []int{1, 3, 1000, DefaultCapacity} {
		w := New(c)
		if w.Cap() != c || len(w.ring) != c {
			t.Errorf("New(%d).Cap() = %d", c, w.Cap())
		}
		if n := len(w.table); n < 2*c || n&(n-1) != 0 || n >= 4*c && n > 2 {
			t.Errorf("New(%d): table size %d is not the smallest power of two ≥ 2×cap", c, n)
		}
	}
}

func TestRecent(t *testing.T) {
	w := New(5)
	// Insert 1..7 with non-monotonic timestamps; 1 and 2 get evicted.
	ts := map[uint64]int64{1: 10, 2: 50, 3: 30, 4: 5, 5: 40, 6: 20, 7: 35}
	for fp := uint64(1); fp <= 7; fp++ {
		w.Seen(fp, ts[fp])
	}
	type pair struct {
		fp uint64
		ts int64
	}
	collect := func(since int64, limit int) []pair {
		var out []pair
		w.Recent(since, func(fp uint64, ts int64) bool {
			out = append(out, pair{fp, ts})
			return len(out) < limit
		})
		return out
	}
	if got, want := collect(-1<<63, 100), []pair{{7, 35}, {6, 20}, {5, 40}, {4, 5}, {3, 30}}; !slices.Equal(got, want) {
		t.Errorf("all: got %v, want %v", got, want)
	}
	if got, want := collect(30, 100), []pair{{7, 35}, {5, 40}, {3, 30}}; !slices.Equal(got, want) {
		t.Errorf("since 30: got %v, want %v", got, want)
	}
	if got, want := collect(30, 2), []pair{{7, 35}, {5, 40}}; !slices.Equal(got, want) {
		t.Errorf("since 30, stop after 2: got %v, want %v", got, want)
	}
	if got := collect(41, 100); len(got) != 0 {
		t.Errorf("since 41: got %v, want none", got)
	}
	w.Reset()
	if got := collect(-1<<63, 100); len(got) != 0 || w.Len() != 0 {
		t.Errorf("after Reset: %v, Len %d", got, w.Len())
	}
	if w.Seen(7, 35) {
		t.Error("7 seen after Reset")
	}
}

func TestAddPrefill(t *testing.T) {
	src := New(100)
	for i := range 250 {
		src.Seen(Fingerprint([]byte("id-"+strconv.Itoa(i)), int64(i)), int64(i))
	}
	// Persist the pairs (newest first), then pre-fill oldest first.
	type pair struct {
		fp uint64
		ts int64
	}
	var saved []pair
	src.Recent(200, func(fp uint64, ts int64) bool { saved = append(saved, pair{fp, ts}); return true })
	if len(saved) != 50 {
		t.Fatalf("saved %d pairs, want 50", len(saved))
	}
	dst := New(100)
	for _, p := range slices.Backward(saved) {
		dst.Add(p.fp, p.ts)
	}
	dst.Add(saved[0].fp, saved[0].ts) // already there: no duplicate entry
	if dst.Len() != 50 {
		t.Fatalf("Len %d, want 50", dst.Len())
	}
	for i := 200; i < 250; i++ {
		if !dst.Seen(Fingerprint([]byte("id-"+strconv.Itoa(i)), int64(i)), int64(i)) {
			t.Fatalf("id-%d not seen after pre-fill", i)
		}
	}
	if dst.Seen(Fingerprint([]byte("id-199"), 199), 199) {
		t.Fatal("id-199 seen but it was outside the margin")
	}
}

func TestSameIDDifferentTimestamp(t *testing.T) {
	w := New(16)
	if w.Seen(Fingerprint([]byte("event-57de904"), 1), 1) {
		t.Fatal("first")
	}
	if w.Seen(Fingerprint([]byte("event-57de904"), 2), 2) {
		t.Fatal("same uid, other timestamp must be a different event")
	}
	if !w.Seen(Fingerprint([]byte("event-57de904"), 1), 1) {
		t.Fatal("repeat not seen")
	}
}

func TestSeenZeroAllocs(t *testing.T) {
	w := New(1024)
	fps := make([]uint64, 1500)
	for i := range fps {
		fps[i] = Fingerprint([]byte("event-"+strconv.Itoa(i)), 7)
	}
	i := 0
	allocs := testing.AllocsPerRun(10_000, func() {
		i++
		w.Seen(fps[i%len(fps)], 7)
	})
	if allocs != 0 {
		t.Fatalf("Seen allocates %.1f times per call", allocs)
	}
	id := []byte("event-57de904")
	allocs = testing.AllocsPerRun(1000, func() { w.Seen(Fingerprint(id, 7), 7) })
	if allocs != 0 {
		t.Fatalf("Fingerprint+Seen allocates %.1f times per call", allocs)
	}
}

func TestDefaultMemory(t *testing.T) {
	w := New(DefaultCapacity)
	bytes := cap(w.ring)*16 + cap(w.table)*4
	if bytes > 8_000_000 {
		t.Fatalf("default window uses %d bytes, budget 8 MB", bytes)
	}
	if bytes != 6<<20 {
		t.Fatalf("default window uses %d bytes, expected 6 MiB", bytes)
	}
}

// TestNoFalsePositives inserts 1M distinct ids with one timestamp into a
// window large enough to hold them all: none may be reported as seen.
func TestNoFalsePositives(t *testing.T) {
	const n = 1 << 20
	if testing.Short() {
		t.Skip("short")
	}
	w := New(n)
	buf := make([]byte, 0, 32)
	for i := range n {
		buf = append(buf[:0], "event-"...)
		buf = strconv.AppendUint(buf, uint64(i), 16)
		if w.Seen(Fingerprint(buf, 1641977166586), 1641977166586) {
			t.Fatalf("false positive at id %s", buf)
		}
	}
	if w.Len() != n {
		t.Fatalf("Len %d", w.Len())
	}
}
