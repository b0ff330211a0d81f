package firehosetest

import (
	"math"
	"math/bits"
	"sort"
	"strconv"
	"sync/atomic"
	"time"
)

// NumPartitions is the number of partitions of the firehose: events are spread over 1..12.
const NumPartitions = 12

// Event is one event of the Log, as the server sends it.
type Event struct {
	// Index is the event's position in the log (emission order, 0-based).
	Index int
	// UID is the recordUid: "event-" and a 32-bit number in unpadded lowercase hex.
	UID string
	// Timestamp is the recordTimestamp, epoch ms: the emission time minus 0–2000 ms (see Log).
	Timestamp int64
	// Partition is Partition(UID), in 1..12.
	Partition int
	// Type is the eventType, e.g. "DEVICE_LOCATION_UPDATE".
	Type string
	// Line is the event's JSON line as sent, without the newline. It belongs to the caller.
	Line []byte
	// Emit is when the server may first send the event.
	Emit time.Time
}

// Log is the server's deterministic event log: every event is a pure function of the seed, the
// server's start time and the event's index, made on demand (nothing is stored per event, so a
// huge history or a fast rate cost no memory).
//
// Event i is emitted — may be sent — at its emission time: the history (WithHistory) spreads its n
// events evenly over the span ending at the start, and live events (WithRate) follow one every
// 1/rate seconds. Emission times never go back. The recordTimestamp of an event is its emission time
// in ms minus a random 0–2000 ms, so timestamps are NOT monotonic in the stream, as on the real
// firehose; a client's replay margin (2 s or more) absorbs the disorder.
//
// Each event's recordUid is "event-" + unpadded lowercase hex of a 32-bit number drawn from a keyed
// permutation of the index, so uids do not repeat by chance; but about one event in 128 deliberately
// reuses the uid of the event just before it, with another timestamp, as Cisco's short uids can
// repeat: a (uid, timestamp) pair is unique in the log, a uid alone is not.
//
// Events 0–18 are one of each documented type in the EventType enum's order (DEVICE_ENTRY,
// DEVICE_EXIT, PROFILE_UPDATE, LOCATION_CHANGE, APP_ACTIVATION, ACCOUNT_ADMIN_ACTIVATION,
// DEVICE_LOCATION_UPDATE, TP_PEOPLE_COUNT_UPDATE, APP_DE_ACTIVATION, DEVICE_PRESENCE, USER_PRESENCE,
// IOT_TELEMETRY, IOT_USER_ACTION, DEVICE_COUNT, CAMERA_COUNT, RAW_CAMERA_COUNT, NETWORK_TELEMETRY,
// LOCATION_ANCHOR_UPDATE, NETWORK_STATUS_UPDATE), then SPACE_OCCUPANCY with WithUnknownTypes, so a
// small history shows every type; after that about 70% are DEVICE_LOCATION_UPDATE (about 1.3 KB each)
// and the rest are spread over the other types.
//
// A Log is safe for concurrent use.
type Log struct {
	key       uint64 // from the seed
	start     time.Time
	startNs   int64
	n         uint64        // history size
	span      time.Duration // history span
	rate      float64       // live events per second
	unknown   bool
	cover     uint64 // the first cover events are one of each type
	cumWeight []int  // cumulative weights over types (per mille), indexed like typeTable
	tenants   []*tenant

	// lines caches the rendered history, filled as events are first served,
	// so replaying a history costs a write, not a render, per event. Live
	// events are rendered each time.
	lines []atomic.Pointer[[]byte]
}

// renderCacheMax bounds the history whose lines are cached (about 1.4 KB each).
const renderCacheMax = 1 << 20

// line returns event m's JSON line: the cached one for a history event
// (shared: never modify it), else rendered into buf (cached is then false).
func (l *Log) line(buf []byte, m *meta) (line []byte, cached bool) {
	if m.idx >= uint64(len(l.lines)) {
		return l.appendLine(buf[:0], m), false
	}
	if p := l.lines[m.idx].Load(); p != nil {
		return *p, true
	}
	b := l.appendLine(nil, m)
	b = b[:len(b):len(b)] // an append by a reader must copy, never write into the cache
	l.lines[m.idx].Store(&b)
	return b, true
}

func newLog(c *config, start time.Time) *Log {
	l := &Log{
		lines:   make([]atomic.Pointer[[]byte], min(c.historyN, renderCacheMax)),
		key:     mix64(uint64(c.seed) ^ 0x66697265686f7365),
		start:   start,
		startNs: start.UnixNano(),
		n:       uint64(c.historyN),
		span:    c.historySpan,
		rate:    c.rate,
		unknown: c.unknownTypes,
	}
	l.cover = uint64(numKnownTypes)
	if l.unknown {
		l.cover++
	}
	sum := 0
	for t := range typeTable {
		w := typeTable[t].weight
		switch {
		case t == typeDLU && l.unknown:
			w -= 20
		case t == typeSpaceOccupancy && l.unknown:
			w = 20
		}
		sum += w
		l.cumWeight = append(l.cumWeight, sum)
	}
	l.buildWorld()
	return l
}

// Len returns the number of events emitted so far (all partitions).
func (l *Log) Len() int {
	return int(l.emitted(time.Now()))
}

// Events returns every event emitted so far whose partition is within minPartition..maxPartition,
// in emission order (including those already gone from the replay window).
func (l *Log) Events(minPartition, maxPartition int) []Event {
	n := l.emitted(time.Now())
	var out []Event
	for i := uint64(0); i < n; i++ {
		m := l.meta(i)
		if int(m.part) < minPartition || int(m.part) > maxPartition {
			continue
		}
		out = append(out, l.event(&m))
	}
	return out
}

func (l *Log) event(m *meta) Event {
	return Event{
		Index:     int(m.idx),
		UID:       string(appendUID(nil, m.uid)),
		Timestamp: m.ts,
		Partition: int(m.part),
		Type:      typeTable[m.typ].name,
		Line:      l.appendLine(nil, m),
		Emit:      l.start.Add(l.offset(m.idx)),
	}
}

// Partition returns the partition (1..12) of an event by its recordUid: the 32-bit FNV-1a hash of
// the uid's bytes (the whole string, "event-" included), modulo 12, plus 1.
func Partition(uid string) int {
	h := uint32(fnvOffset)
	for i := 0; i < len(uid); i++ {
		h ^= uint32(uid[i])
		h *= fnvPrime
	}
	return int(h%NumPartitions) + 1
}

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

// fnvEventPrefix is the FNV-1a state after "event-".
var fnvEventPrefix = func() uint32 {
	h := uint32(fnvOffset)
	for _, c := range []byte("event-") {
		h ^= uint32(c)
		h *= fnvPrime
	}
	return h
}()

// partitionOf is Partition("event-" + hex(uid)) without building the string.
func partitionOf(uid uint32) uint8 {
	var buf [8]byte
	d := strconv.AppendUint(buf[:0], uint64(uid), 16)
	h := fnvEventPrefix
	for _, c := range d {
		h ^= uint32(c)
		h *= fnvPrime
	}
	return uint8(h%NumPartitions) + 1
}

func appendUID(b []byte, uid uint32) []byte {
	b = append(b, "event-"...)
	return strconv.AppendUint(b, uint64(uid), 16)
}

// meta is what a session needs to know about event idx before rendering it.
type meta struct {
	idx    uint64
	uid    uint32
	ts     int64 // recordTimestamp, ms
	part   uint8
	typ    uint8
	tenant uint8
	seed   uint64 // the payload's random stream
}

func (l *Log) meta(i uint64) meta {
	h := mix64(l.key ^ i*0x9e3779b97f4a7c15)
	m := meta{idx: i, seed: mix64(h ^ 0x7061796c6f6164)}
	// Type.
	if i < l.cover {
		m.typ = uint8(i)
	} else {
		u := int(h % 1000)
		m.typ = uint8(sort.SearchInts(l.cumWeight, u+1))
	}
	m.tenant = uint8((h >> 20) % uint64(len(l.tenants)))
	// Timestamp: emission time (ms) minus 0–2000 ms.
	emitMs := floorDiv(l.startNs+int64(l.offset(i)), 1e6)
	jitter := int64((h >> 32) % 2001)
	m.ts = emitMs - jitter
	// Uid: a permutation of the index; reuse the previous event's uid now and then.
	if i > 0 && l.reuses(i) {
		m.uid = l.perm(uint32(i - 1))
		prev := l.meta(i - 1) // not itself a reuse: no deeper recursion
		if m.ts == prev.ts {  // keep the pair unique, and the jitter within 0–2000 ms
			if jitter > 0 {
				m.ts++
			} else {
				m.ts--
			}
		}
	} else {
		m.uid = l.perm(uint32(i))
	}
	m.part = partitionOf(m.uid)
	return m
}

// reuses reports whether event i takes the uid of event i-1: about 1 in 128, never two in a row.
func (l *Log) reuses(i uint64) bool {
	bit := func(j uint64) bool { return mix64(l.key^0x726575736521^j)&127 == 0 }
	return bit(i) && (i < 2 || !bit(i-1))
}

// perm is a keyed permutation of uint32 (a 4-round Feistel network on 16-bit halves).
func (l *Log) perm(x uint32) uint32 {
	a, b := uint16(x>>16), uint16(x)
	for r := uint64(0); r < 4; r++ {
		f := uint16(mix64(l.key ^ (r+1)<<40 ^ uint64(b)))
		a, b = b, a^f
	}
	return uint32(a)<<16 | uint32(b)
}

// offset is event i's emission time relative to the start.
func (l *Log) offset(i uint64) time.Duration {
	if i < l.n {
		if l.span == 0 {
			return 0
		}
		hi, lo := bits.Mul64(uint64(l.span), i+1)
		q, _ := bits.Div64(hi, lo, l.n)
		return time.Duration(q) - l.span
	}
	if l.rate <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(float64(i-l.n+1) * 1e9 / l.rate)
}

// finite reports whether event i will ever be emitted.
func (l *Log) finite(i uint64) bool { return i < l.n || l.rate > 0 }

// emitted returns the number of events emitted at t: those whose emission time is not after t.
func (l *Log) emitted(t time.Time) uint64 {
	d := t.Sub(l.start)
	if d < 0 {
		return uint64(sort.Search(int(l.n), func(i int) bool { return l.offset(uint64(i)) > d }))
	}
	if l.rate <= 0 {
		return l.n
	}
	k := uint64(float64(d) * l.rate / 1e9) // live events emitted, roughly
	for k > 0 && l.offset(l.n+k-1) > d {
		k--
	}
	for l.offset(l.n+k) <= d {
		k++
	}
	return l.n + k
}

// firstEmittedAtOrAfter returns the first index below limit whose emission time in ms is ≥ ms.
func (l *Log) firstEmittedAtOrAfter(ms int64, limit uint64) uint64 {
	return uint64(sort.Search(int(limit), func(i int) bool {
		return floorDiv(l.startNs+int64(l.offset(uint64(i))), 1e6) >= ms
	}))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// mix64 is the SplitMix64 finaliser: a fixed, seedless 64-bit mixing function.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rng is a SplitMix64 stream: small, fast and stable across Go versions.
type rng struct{ s uint64 }

func (r *rng) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); n must be > 0.
func (r *rng) intn(n int) int { return int(r.u64() % uint64(n)) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }
