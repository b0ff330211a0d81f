// Package dedupe keeps a bounded window of recently delivered events so that
// an event replayed by the server (at-least-once delivery, resume with a
// margin) is dropped instead of delivered twice.
//
// An event is identified by a [Fingerprint] of its recordUid and its
// recordTimestamp. The [Window] holds the fingerprints of the last Cap()
// distinct events in insertion order (FIFO) and answers "seen before?" in
// O(1) expected time with no allocation and no pointers per entry.
package dedupe

// FNV-1a 64 and splitmix64 constants used by Fingerprint. They are part of
// the persisted format: never change them.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
	golden64    = 0x9E3779B97F4A7C15
	mixMul1     = 0xBF58476D1CE4E5B9
	mixMul2     = 0x94D049BB133111EB
)

// Fingerprint is the fixed 64-bit hash of (id, ts) that a Window stores.
// Checkpoints persist it, so the formula below must never change:
//
//	h := 14695981039346656037                 // FNV-1a 64 offset basis
//	for each byte c of id:
//	    h = (h ^ uint64(c)) * 1099511628211   // FNV-1a 64 prime
//	h ^= uint64(ts) * 0x9E3779B97F4A7C15      // mix in the timestamp
//	h ^= h >> 30; h *= 0xBF58476D1CE4E5B9     // splitmix64 finalizer
//	h ^= h >> 27; h *= 0x94D049BB133111EB
//	h ^= h >> 31
//	if h == 0 { h = 1 }
//
// All arithmetic is on uint64 and wraps modulo 2^64; uint64(ts) is the
// two's-complement bit pattern of ts. The result is never 0.
func Fingerprint(id []byte, ts int64) uint64 {
	h := uint64(fnvOffset64)
	for _, c := range id {
		h = (h ^ uint64(c)) * fnvPrime64
	}
	h ^= uint64(ts) * golden64
	h ^= h >> 30
	h *= mixMul1
	h ^= h >> 27
	h *= mixMul2
	h ^= h >> 31
	if h == 0 {
		h = 1
	}
	return h
}

// DefaultCapacity is the window size the client uses unless configured
// otherwise: 262,144 entries, 6 MiB (a 4 MiB ring and a 2 MiB index).
const DefaultCapacity = 1 << 18

// MaxCapacity is the largest capacity New accepts (a 6 GiB window; the
// bound keeps the index arithmetic within int on 32-bit platforms).
const MaxCapacity = 1 << 28

type entry struct {
	fp uint64
	ts int64
}

// Window is a bounded set of fingerprints with FIFO eviction.
//
// Layout: a ring of exactly Cap() entries {fingerprint, timestamp} in
// insertion order, and an open-addressing index of uint32 slots whose count
// is the smallest power of two ≥ 2×Cap() (load ≤ 1/2), probed linearly from
// a home slot derived from the fingerprint (Fibonacci hashing), with
// backward-shift deletion on eviction. A slot is 0 when empty; otherwise
// its low bits hold the ring position + 1, and the bits the position does
// not need (13 at the default capacity, fewer for huge windows) hold the
// entry's distance from its home slot (saturating) and a few bits of its
// fingerprint as a tag. "Seen" is only ever answered by comparing the full
// 64-bit fingerprint in the ring; the tag and the distance merely spare most
// ring reads, so the common path (a new event) touches only the index and
// the ring's head. Memory is 16×Cap() bytes for the ring plus 4 bytes per
// index slot, allocated once by New.
//
// A Window is not safe for concurrent use.
type Window struct {
	ring    []entry  // len == capacity
	table   []uint32 // len is a power of two ≥ 2×capacity
	shift   uint     // 64 - log2(len(table)): home = (fp*golden64) >> shift
	mask    uint32   // len(table) - 1
	posBits uint     // slot bits 0..posBits-1: ring position + 1
	posMask uint32
	maxDist uint32 // slot bits posBits..: distance from home, saturating at maxDist (0: not stored)
	tagPos  uint   // slot bits tagPos..31: tag (none if tagPos == 32)
	tagMask uint32 // ^0 << tagPos
	tagSrc  uint   // tag = (fp*golden64) >> tagSrc, the bits below the home bits
	head    int    // ring position of the next insertion (the oldest entry when full)
	n       int    // number of entries held
}

// New returns an empty Window holding up to capacity entries. The capacity
// is used exactly as given (it is not rounded); only the internal index is
// sized to a power of two. New panics if capacity is < 1 or > MaxCapacity:
// callers validate user options before calling it.
func New(capacity int) *Window {
	if capacity < 1 || capacity > MaxCapacity {
		panic("dedupe: capacity out of range")
	}
	size, bits := 2, uint(1)
	for size < 2*capacity {
		size <<= 1
		bits++
	}
	posBits := uint(0)
	for 1<<posBits <= capacity {
		posBits++
	}
	return newWindow(capacity, size, bits, posBits)
}

// newWindow builds a Window; tests pass a larger posBits to exercise the
// slot layouts of huge capacities (fewer or no distance and tag bits).
func newWindow(capacity, size int, bits, posBits uint) *Window {
	spare := 32 - posBits
	distBits := min(spare, 5)
	return &Window{
		ring:    make([]entry, capacity),
		table:   make([]uint32, size),
		shift:   64 - bits,
		mask:    uint32(size - 1),
		posBits: posBits,
		posMask: 1<<posBits - 1,
		maxDist: 1<<distBits - 1,
		tagPos:  posBits + distBits,
		tagMask: ^uint32(0) << (posBits + distBits),
		tagSrc:  64 - bits - (spare - distBits),
	}
}

// hash returns fp's home slot and its tag, placed at tagPos (0 when the
// slots have no room for a tag). The tag takes the product bits just below
// those that choose the home slot, so it is independent of the slot.
func (w *Window) hash(fp uint64) (home, tag uint32) {
	m := fp * golden64
	// A uint32 shifted by 32 is 0 in Go: no tag bits, no tag.
	return uint32(m >> w.shift), uint32(m>>w.tagSrc) << w.tagPos
}

// home returns the home slot of the entry stored in slot k with value v.
func (w *Window) home(k, v uint32) uint32 {
	if d := (v >> w.posBits) & w.maxDist; d < w.maxDist {
		return (k - d) & w.mask
	}
	h, _ := w.hash(w.ring[v&w.posMask-1].fp)
	return h
}

// slot builds the index value for ring position pos stored at slot k.
func (w *Window) slot(pos int, k, home, tag uint32) uint32 {
	d := min((k-home)&w.mask, w.maxDist)
	return uint32(pos+1) | d<<w.posBits | tag
}

// Seen reports whether fp is in the window. If it is not, Seen inserts it
// with timestamp ts, evicting the oldest entry (by insertion) when the
// window is full. A fingerprint already present is neither moved nor
// updated.
func (w *Window) Seen(fp uint64, ts int64) bool {
	home, tag := w.hash(fp)
	full := w.n == len(w.ring)
	// When full, load the victim's home slot now: its cache miss then
	// overlaps the lookup's instead of following it.
	var vHome, vFirst uint32
	if full {
		vHome, _ = w.hash(w.ring[w.head].fp)
		vFirst = w.table[vHome]
	}
	i := home
	for {
		v := w.table[i]
		if v == 0 {
			break
		}
		if v&w.tagMask == tag && w.ring[v&w.posMask-1].fp == fp {
			return true
		}
		i = (i + 1) & w.mask
	}
	if full {
		// Deletion leaves exactly one new empty slot, the final hole; every
		// other move fills a hole. Slots home..i-1 were all occupied, so the
		// first empty slot from home is now the hole if it lies among them,
		// else still i.
		if hole := w.evictOldest(vHome, vFirst); (hole-home)&w.mask < (i-home)&w.mask {
			i = hole
		}
	} else {
		w.n++
	}
	w.ring[w.head] = entry{fp: fp, ts: ts}
	w.table[i] = w.slot(w.head, i, home, tag)
	w.head++
	if w.head == len(w.ring) {
		w.head = 0
	}
	return false
}

// evictOldest removes the entry at ring position w.head (the oldest; the
// window is full) from the index; j is its home slot and v the value
// there. It returns the slot left empty. The ring entry itself is
// overwritten by the caller.
func (w *Window) evictOldest(j, v uint32) uint32 {
	want := uint32(w.head) + 1
	for v&w.posMask != want {
		j = (j + 1) & w.mask
		v = w.table[j]
	}
	// Backward-shift deletion: pull later members of the probe run into
	// the hole unless that would move them before their home slot.
	k := j
	for {
		k = (k + 1) & w.mask
		v := w.table[k]
		if v == 0 {
			break
		}
		h := w.home(k, v)
		if (k-h)&w.mask >= (k-j)&w.mask {
			w.table[j] = w.slot(int(v&w.posMask)-1, j, h, v&w.tagMask)
			j = k
		}
	}
	w.table[j] = 0
	return j
}

// Add inserts fp with timestamp ts like Seen, without reporting whether it
// was present. It is meant for pre-filling a window from a checkpoint
// (oldest first, so that eviction order is preserved).
func (w *Window) Add(fp uint64, ts int64) { w.Seen(fp, ts) }

// Len returns the number of entries held.
func (w *Window) Len() int { return w.n }

// Cap returns the capacity given to New.
func (w *Window) Cap() int { return len(w.ring) }

// Recent calls fn(fp, ts) for each entry whose ts >= since, newest
// (last inserted) first, and stops early if fn returns false. Timestamps
// are not monotonic in insertion order, so every entry is examined.
func (w *Window) Recent(since int64, fn func(fp uint64, ts int64) bool) {
	p := w.head
	for range w.n {
		if p == 0 {
			p = len(w.ring)
		}
		p--
		e := w.ring[p]
		if e.ts >= since && !fn(e.fp, e.ts) {
			return
		}
	}
}

// Reset empties the window, keeping its memory.
func (w *Window) Reset() {
	clear(w.table)
	w.head, w.n = 0, 0
}
