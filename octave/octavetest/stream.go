package octavetest

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Streams and their events. A stream keeps its newest Capacity events for REST (a ring); every
// event ever published stays in Server.Events for assertions. An event is rendered once, when it
// is published, and the same bytes are pushed and served by REST.

// Stream is a stream the server holds.
type Stream struct {
	ID       string // "s" + 24 hex digits
	Path     string // "/{company}/…"
	Capacity int    // events kept for REST; 0 keeps none
}

// Event is an event the server published.
type Event struct {
	ID            string // "e" + an ObjectId: 8 hex digits of creation seconds, then 16 more
	StreamID      string
	Path          string
	CreationDate  int64 // ms since the epoch, the server's clock; never decreases within a server
	GeneratedDate int64 // ms; CreationDate − 5
	Version       int
	Elems         json.RawMessage
	Tags          map[string]string

	raw []byte
}

// JSON returns the event as pushed and served: id, streamId, creationDate, generatedDate,
// lastEditDate, lastEditorId, creatorId, path, version, elems, hash, location, metadata, tags.
// The slice is shared: do not modify it.
func (e Event) JSON() []byte { return e.raw }

type stream struct {
	Stream
	ring  []*Event // grows to Capacity, then wraps
	head  int      // index of the oldest event once the ring is full
	count int      // events ever published
}

func (st *stream) add(e *Event) {
	st.count++
	switch {
	case st.Capacity == 0:
	case len(st.ring) < st.Capacity:
		st.ring = append(st.ring, e)
	default:
		st.ring[st.head] = e
		st.head = (st.head + 1) % st.Capacity
	}
}

// stored returns the kept events, oldest first, in a new slice.
func (st *stream) stored() []*Event {
	out := make([]*Event, 0, len(st.ring))
	out = append(out, st.ring[st.head:]...)
	return append(out, st.ring[:st.head]...)
}

// objectIDs makes MongoDB-style ObjectIds: 4 bytes of Unix seconds, 5 random bytes per server and
// a 3-byte counter from a random start.
type objectIDs struct {
	random  [5]byte
	counter atomic.Uint32
}

func newObjectIDs() *objectIDs {
	o := new(objectIDs)
	var b [8]byte
	rand.Read(b[:])
	copy(o.random[:], b[:5])
	o.counter.Store(binary.BigEndian.Uint32(b[4:]) & 0xffffff)
	return o
}

func (o *objectIDs) next(prefix byte, t time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(t.Unix()))
	copy(b[4:9], o.random[:])
	n := o.counter.Add(1)
	b[9], b[10], b[11] = byte(n>>16), byte(n>>8), byte(n)
	out := make([]byte, 1, 25)
	out[0] = prefix
	return string(hex.AppendEncode(out, b[:]))
}

// AddStream creates a stream at path and returns it. A path without a leading "/" is taken as
// relative to the company ("cpu" becomes "/{company}/cpu"). capacity is how many events REST keeps
// (older ones are deleted, as on Octave); 0 keeps none, negative means WithCapacity's value. It
// fails if the path exists.
func (s *Server) AddStream(path string, capacity int) (Stream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addStreamLocked(path, capacity)
}

func (s *Server) addStreamLocked(path string, capacity int) (Stream, error) {
	if path == "" {
		return Stream{}, errors.New("octavetest: empty stream path")
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + s.cfg.company + "/" + path
	}
	if _, ok := s.byPath[path]; ok {
		return Stream{}, fmt.Errorf("octavetest: stream %s exists", path)
	}
	if capacity < 0 {
		capacity = s.cfg.capacity
	}
	st := &stream{Stream: Stream{ID: s.ids.next('s', time.Now()), Path: path, Capacity: capacity}}
	s.byID[st.ID] = st
	s.byPath[path] = st
	s.streamList = append(s.streamList, st)
	return st.Stream, nil
}

// Streams returns the streams in order of creation.
func (s *Server) Streams() []Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Stream, len(s.streamList))
	for i, st := range s.streamList {
		out[i] = st.Stream
	}
	return out
}

// lookup finds a stream by id or path; s.mu is held.
func (s *Server) lookup(ref string) *stream {
	if st, ok := s.byID[ref]; ok {
		return st
	}
	return s.byPath[ref]
}

// Publish creates one event per elems value on the stream named by id or path, in order, keeps
// them (subject to the capacity) and pushes each to every socket subscribed to the stream. Each
// value is marshalled with encoding/json; a json.RawMessage is taken as is. It returns the events.
func (s *Server) Publish(stream string, elems ...any) ([]Event, error) {
	raws := make([]json.RawMessage, len(elems))
	for i, v := range elems {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("octavetest: elems %d: %w", i, err)
		}
		raws[i] = b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.lookup(stream)
	if st == nil {
		return nil, fmt.Errorf("octavetest: no stream %q", stream)
	}
	out := make([]Event, 0, len(raws))
	for _, el := range raws {
		e := s.newEventLocked(st, el)
		out = append(out, *e)
		s.pushLocked(st, e)
	}
	return out, nil
}

// newEventLocked makes, stores and records an event; s.mu is held.
func (s *Server) newEventLocked(st *stream, elems json.RawMessage) *Event {
	now := time.Now()
	ms := max(now.UnixMilli(), s.lastMS)
	s.lastMS = ms
	e := &Event{
		ID:            s.ids.next('e', time.UnixMilli(ms)),
		StreamID:      st.ID,
		Path:          st.Path,
		CreationDate:  ms,
		GeneratedDate: ms - 5,
		Elems:         elems,
		Tags:          map[string]string{},
	}
	e.raw = renderEvent(e, nil)
	st.add(e)
	s.events = append(s.events, e)
	return e
}

// Events returns every event published on the stream (id or path), evicted ones included, in
// order of creation; nil for an unknown stream.
func (s *Server) Events(stream string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.lookup(stream)
	if st == nil {
		return nil
	}
	var out []Event
	for _, e := range s.events {
		if e.StreamID == st.ID {
			out = append(out, *e)
		}
	}
	return out
}

// AllEvents returns every event published on any stream, in order of creation.
func (s *Server) AllEvents() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.events))
	for i, e := range s.events {
		out[i] = *e
	}
	return out
}

// Stored returns the events the stream keeps for REST now (at most its capacity), oldest first.
func (s *Server) Stored(stream string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.lookup(stream)
	if st == nil {
		return nil
	}
	kept := st.stored()
	out := make([]Event, len(kept))
	for i, e := range kept {
		out[i] = *e
	}
	return out
}

// eventFields lists the members of an event in the order they are rendered.
var eventFields = []string{
	"id", "streamId", "creationDate", "generatedDate", "lastEditDate", "lastEditorId", "creatorId",
	"path", "version", "elems", "hash", "location", "metadata", "tags",
}

// renderEvent renders e; only, when not nil, keeps the members it names.
func renderEvent(e *Event, only map[string]bool) []byte {
	b := make([]byte, 0, 256+len(e.Elems))
	b = append(b, '{')
	first := true
	for _, f := range eventFields {
		if only != nil && !only[f] {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, f)
		b = append(b, ':')
		switch f {
		case "id":
			b = appendJSONString(b, e.ID)
		case "streamId":
			b = appendJSONString(b, e.StreamID)
		case "creationDate", "lastEditDate":
			b = strconv.AppendInt(b, e.CreationDate, 10)
		case "generatedDate":
			b = strconv.AppendInt(b, e.GeneratedDate, 10)
		case "lastEditorId", "creatorId":
			b = append(b, `"i000000000000000000000001"`...)
		case "path":
			b = appendJSONString(b, e.Path)
		case "version":
			b = strconv.AppendInt(b, int64(e.Version), 10)
		case "elems":
			b = append(b, e.Elems...)
		case "hash", "location", "metadata":
			b = append(b, "null"...)
		case "tags":
			t, _ := json.Marshal(e.Tags)
			b = append(b, t...)
		}
	}
	return append(b, '}')
}

// numericField returns a numeric member usable in a REST filter or sort.
func (e *Event) numericField(name string) (int64, bool) {
	switch name {
	case "creationDate", "lastEditDate":
		return e.CreationDate, true
	case "generatedDate":
		return e.GeneratedDate, true
	case "version":
		return int64(e.Version), true
	}
	return 0, false
}
