package octave

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Gap-fill over REST (spec/dialects.md §2.7). The WebSocket cannot replay, but a stream keeps its
// newest events (its capacity, 1,000 by default) and REST serves them:
//
//	GET {rest}/v5.0/{company}/event/{streamId}?filter=creationDate>=X&sort=creationDate&order=asc&start=S&limit=N
//	GET {rest}/v5.0/{company}/event?path=/co/…&filter=…                    (a stream named by path)
//
// with X-Auth-User (unless the token is restricted) and X-Auth-Token (and X-Auth-Company). The answer is
// {"head":{…},"body":[event,…]}; a non-empty head.errors is a failure, whatever the status.
//
// The filler pages by key rather than by offset alone: each request asks for creationDate >= the
// newest creationDate returned so far, and start skips the events at exactly that date already
// returned, minus one: the page must begin with the last event returned. If it does not, an
// eviction at the old end of the stream shifted the offsets, and the filler asks again from
// start 0 at that date, dropping what it returned already. So no stored event is skipped. It
// stops at an empty page, or once it is past the bound the caller sets (the first creationDate
// pushed live on the new socket: everything after it comes live). A page shorter than the limit
// is not taken as the last (a server may cut the limit).

// restClient reads events over REST.
type restClient struct {
	hc    *http.Client
	base  string // e.g. https://octave-api.sierrawireless.io, no trailing slash
	creds credentials
	limit int // page size asked for
}

// page asks for up to limit events of stream (an id, or a path) with creationDate >= from, in
// ascending creationDate, skipping the first start.
func (c *restClient) page(ctx context.Context, stream string, from int64, start, limit int) ([]event, error) {
	q := url.Values{}
	u := c.base + "/v5.0/" + url.PathEscape(c.creds.company) + "/event"
	if isPath(stream) {
		q.Set("path", stream)
	} else {
		u += "/" + url.PathEscape(stream)
	}
	q.Set("filter", "creationDate>="+strconv.FormatInt(from, 10))
	q.Set("sort", "creationDate")
	q.Set("order", "asc")
	q.Set("start", strconv.Itoa(start))
	q.Set("limit", strconv.Itoa(limit))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("octave: gap-fill %s: %w", stream, err)
	}
	c.creds.setHeaders(req.Header, true)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("octave: gap-fill %s: %w", stream, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("octave: gap-fill %s: reading the answer: %w", stream, err)
	}
	var env struct {
		Head head              `json:"head"`
		Body []json.RawMessage `json:"body"`
	}
	parsed := json.Unmarshal(b, &env) == nil
	if resp.StatusCode/100 != 2 || !parsed || len(env.Head.Errors) > 0 || !env.Head.OK {
		st := resp.StatusCode
		if st/100 == 2 && env.Head.Status/100 != 2 && env.Head.Status != 0 {
			st = env.Head.Status
		}
		msg := env.Head.message(b, parsed)
		if parsed && msg == "" && !env.Head.OK {
			msg = "head.ok is false"
		}
		return nil, &httpError{op: "gap-fill " + stream, status: st, message: c.creds.redact(msg)}
	}
	out := make([]event, len(env.Body))
	for i, raw := range env.Body {
		if err := parseEvent(raw, &out[i], "body["+strconv.Itoa(i)+"]."); err != nil {
			return nil, fmt.Errorf("octave: gap-fill %s: %w", stream, err)
		}
		out[i].Value = raw
	}
	return out, nil
}

// evicted is what a filler found missing: the stream no longer holds the newest events received
// before the gap, so events created from From on (up to To, the first one still held; 0 when none
// is) may have been deleted by the stream's capacity before they could be fetched.
type evicted struct {
	Stream   string
	From, To int64
}

// filler back-fills one stream from a position: every stored event with creationDate >= from, in
// ascending order, page by page. Call next until it returns false.
type filler struct {
	rc     *restClient
	stream string
	start  int64           // the position the fill started from
	known  map[string]bool // ids of events at exactly start received before the gap: not returned again
	check  bool            // still looking for one of known, to prove nothing was evicted
	firstC int64           // creationDate of the first event the fill returned (for an eviction's end)
	until  int64           // stop after events newer than this; 0: no bound (see setUntil)

	from   int64           // lower bound of the next request (inclusive)
	ties   map[string]bool // ids returned at exactly from
	offset int             // start of the next request
	verify string          // the id the next page must begin with; "": no check
	page   []event         // new events of the last page, to return
	i      int
	done   bool
	pages  int // requests made
}

// newFiller starts a fill of stream from position from (the newest creationDate received before
// the gap). known are the ids of events received at exactly from: they are not returned again,
// and if the stream holds none of them any more, events may have been evicted, which next
// reports once.
func newFiller(rc *restClient, stream string, from int64, known []string) *filler {
	f := &filler{rc: rc, stream: stream, from: from, start: from, known: map[string]bool{}, check: len(known) > 0, ties: map[string]bool{}}
	for _, id := range known {
		f.known[id] = true
	}
	return f
}

// setUntil bounds the fill: events with a creationDate above until come live on the new socket,
// so the fill stops at the first of them. The bound only ever goes down.
func (f *filler) setUntil(until int64) {
	if f.until == 0 || until < f.until {
		f.until = until
	}
}

// next returns the next back-filled event (ok), or an eviction to report (gap non-nil; the fill
// goes on at the next call), or ok false when the fill is complete. An error leaves the filler
// where it was: calling next again retries the request.
func (f *filler) next(ctx context.Context) (ev event, gap *evicted, ok bool, err error) {
	for {
		if f.done {
			return event{}, nil, false, nil
		}
		if f.i < len(f.page) {
			e := f.page[f.i]
			if f.until != 0 && e.CreationDate > f.until {
				f.done = true
				continue
			}
			isKnown := e.CreationDate == f.start && f.known[e.ID]
			if f.check {
				switch {
				case isKnown:
					f.check = false
				case e.CreationDate > f.start:
					f.check = false
					return event{}, &evicted{Stream: f.stream, From: f.start, To: e.CreationDate}, false, nil
				}
			}
			if f.firstC == 0 {
				f.firstC = e.CreationDate
			}
			f.i++
			if isKnown {
				continue
			}
			return e, nil, true, nil
		}
		if err := f.fetch(ctx); err != nil {
			return event{}, nil, false, err
		}
		if f.done && f.check {
			f.check = false
			return event{}, &evicted{Stream: f.stream, From: f.start, To: f.firstC}, false, nil
		}
	}
}

// fetch asks for the next page and keeps its new events in f.page.
func (f *filler) fetch(ctx context.Context) error {
	page, err := f.rc.page(ctx, f.stream, f.from, f.offset, f.rc.limit)
	if err != nil {
		return err
	}
	f.pages++
	if f.verify != "" && len(page) > 0 && page[0].ID != f.verify {
		// Offsets shifted under us: read this date again from its beginning.
		if page, err = f.rc.page(ctx, f.stream, f.from, 0, f.rc.limit); err != nil {
			f.offset, f.verify = 0, ""
			return err
		}
		f.pages++
		f.offset = 0
	}
	f.page, f.i = f.page[:0], 0
	if len(page) == 0 {
		f.done = true
		return nil
	}
	moved := false
	atFrom := 0 // events of this page at the final from
	for _, e := range page {
		switch {
		case e.CreationDate > f.from:
			f.from, f.ties, moved, atFrom = e.CreationDate, map[string]bool{}, true, 0
		case e.CreationDate < f.from: // out of order: deliver it, it cannot move the key
			f.page = append(f.page, e)
			continue
		}
		atFrom++
		if !f.ties[e.ID] {
			f.ties[e.ID] = true
			f.page = append(f.page, e)
		}
	}
	next := atFrom
	if !moved {
		next += f.offset
	}
	// Overlap by one event when the page allows it, to notice shifted offsets.
	if len(page) >= 2 && atFrom >= 1 {
		f.offset, f.verify = next-1, page[len(page)-1].ID
	} else {
		f.offset, f.verify = next, ""
	}
	return nil
}
