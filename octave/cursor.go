package octave

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// The cursor (firehose.Cursor): the position of every stream, saved with each checkpoint, so
// that a restarted process gap-fills each stream from where the last one stopped. The engine
// keeps the dedupe keys with it, which drop what the inclusive (>=) gap-fill brings again.
//
//	{"v":1,"streams":{"/co/a":{"from":1700000000123,"ids":["e65…"]},"s53b…":{"from":…,"ids":[…]}}}
//
// A stream whose gap is open (it has had no subscription since from) saves the position the
// gap opened at, not the newest event delivered since: the gap still has to be filled.

type cursorJSON struct {
	V       int                    `json:"v"`
	Streams map[string]cursorEntry `json:"streams"`
}

type cursorEntry struct {
	From int64    `json:"from"`          // creationDate, ms: gap-fill from here (inclusive)
	IDs  []string `json:"ids,omitempty"` // the events at From already delivered: skipped, and proof against eviction
}

// SaveCursor returns the positions of the streams with one.
func (s *source) SaveCursor() []byte {
	out := cursorJSON{V: 1, Streams: map[string]cursorEntry{}}
	for _, name := range slices.Sorted(maps.Keys(s.pos)) {
		p := s.pos[name]
		e := cursorEntry{From: p.newest, IDs: p.newestIDs}
		if p.gapOpen {
			e = cursorEntry{From: p.gapFrom, IDs: p.gapIDs}
		}
		if e.From > 0 {
			out.Streams[name] = e
		}
	}
	b, _ := json.Marshal(out)
	return b
}

// LoadCursor restores the positions of a checkpoint: each stream of the set found in it starts
// with a gap from its saved position.
func (s *source) LoadCursor(b []byte) error {
	var c cursorJSON
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("octave: checkpoint cursor: %w", err)
	}
	if c.V != 1 {
		return fmt.Errorf("octave: checkpoint cursor version %d: want 1", c.V)
	}
	for name, e := range c.Streams {
		if validStream(name) != nil || e.From < 0 || len(e.IDs) > maxTies {
			return fmt.Errorf("octave: checkpoint cursor: bad entry for %q", name)
		}
		s.pos[name] = &position{newest: e.From, newestIDs: e.IDs, floor: e.From, acked: true}
	}
	return nil
}
