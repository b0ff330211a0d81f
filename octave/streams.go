package octave

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Streams is the set of streams a source consumes (the zero value is an empty set), shared between the caller and the running
// source (Config.Streams): Subscribe and Unsubscribe may be called from any goroutine at any
// time. A change reaches the open socket as soon as the source next waits for data (at once
// when it is idle, after the event being handled otherwise), and every later socket subscribes
// the set as it is then.
//
// A stream is named by its id ("s" + 24 hex digits) or its path ("/company/…", starting with
// "/"); the name is also the type of its events. A stream whose subscribe Octave refuses with
// 404 or 403 is dropped from the set, and Err reports why.
type Streams struct {
	mu       sync.Mutex
	names    []string
	failed   map[string]error
	watchers map[chan struct{}]struct{}
}

// NewStreams returns a set holding names (see Subscribe for what a name may be). It ignores
// duplicates and reports the first invalid name.
func NewStreams(names ...string) (*Streams, error) {
	s := &Streams{failed: map[string]error{}, watchers: map[chan struct{}]struct{}{}}
	for _, n := range names {
		if err := s.Subscribe(n); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func validStream(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("octave: empty stream name")
	case strings.ContainsAny(name, "\x00\r\n"):
		return fmt.Errorf("octave: stream name %q holds a control character", name)
	case name == "/":
		return fmt.Errorf("octave: stream path %q names no stream", name)
	}
	return nil
}

// Subscribe adds a stream (a no-op if it is in the set) and clears a former refusal of it.
func (s *Streams) Subscribe(name string) error {
	if err := validStream(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	delete(s.failed, name)
	if !slices.Contains(s.names, name) {
		s.names = append(s.names, name)
		s.notifyLocked()
	}
	return nil
}

// Unsubscribe removes a stream and reports whether it was in the set. Its events stop being
// delivered at once, and its position is forgotten: subscribing again starts afresh.
func (s *Streams) Unsubscribe(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.Index(s.names, name)
	if i < 0 {
		return false
	}
	s.names = slices.Delete(s.names, i, i+1)
	s.notifyLocked()
	return true
}

// Names returns the streams in the set, in the order they were added.
func (s *Streams) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.names)
}

// Err returns why Octave refused the stream for good (404 or 403 on its subscribe), or nil.
func (s *Streams) Err(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed[name]
}

// initLocked makes the zero Streams usable.
func (s *Streams) initLocked() {
	if s.failed == nil {
		s.failed, s.watchers = map[string]error{}, map[chan struct{}]struct{}{}
	}
}

// fail drops a stream refused for good and records why.
func (s *Streams) fail(name string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.Index(s.names, name); i >= 0 {
		s.names = slices.Delete(s.names, i, i+1)
		s.initLocked()
		s.failed[name] = err
		s.notifyLocked()
	}
}

// failures returns the refusals of the streams refused for good, by name.
func (s *Streams) failures() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []error
	for _, n := range slices.Sorted(maps.Keys(s.failed)) {
		out = append(out, s.failed[n])
	}
	return out
}

// watch returns a channel that receives a value (coalesced) after each change, and its cancel.
func (s *Streams) watch() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.initLocked()
	s.watchers[ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.watchers, ch)
		s.mu.Unlock()
	}
}

func (s *Streams) notifyLocked() {
	for ch := range s.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
