package octave

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firehose-go/firehose/octave/octavetest"
)

// fill runs a filler to the end and returns the ids and the evictions it reported.
func fill(t *testing.T, f *filler) (ids []string, gaps []evicted) {
	t.Helper()
	for range 100000 {
		ev, gap, ok, err := f.next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if gap != nil {
			gaps = append(gaps, *gap)
			continue
		}
		if !ok {
			return ids, gaps
		}
		ids = append(ids, ev.ID)
	}
	t.Fatal("the fill does not end")
	return nil, nil
}

func eventIDs(evs []octavetest.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

func newREST(srv *octavetest.Server, limit int) *restClient {
	return &restClient{hc: http.DefaultClient, base: srv.URL, creds: defaultCreds(), limit: limit}
}

func TestFillerPagesAndTies(t *testing.T) {
	t.Parallel()
	// The server cuts a limit of 5 to 3 (or 1); many events share a creationDate.
	for _, max := range []int{3, 1} {
		t.Run(fmt.Sprint(max), func(t *testing.T) { testFillerPages(t, max) })
	}
}

func testFillerPages(t *testing.T, max int) {
	srv := octavetest.NewServer(octavetest.WithStream("a", -1), octavetest.WithPageLimits(3, max))
	defer srv.Close()
	elems := make([]any, 50)
	for i := range elems {
		elems[i] = i
	}
	evs, err := srv.Publish("/test-co/a", elems...)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{evs[0].StreamID, evs[0].Path} {
		// From the 10th event (known): everything at or after its creationDate but it, in order.
		start := evs[10]
		f := newFiller(newREST(srv, 5), ref, start.CreationDate, []string{start.ID})
		ids, gaps := fill(t, f)
		var want []string
		for _, e := range evs {
			if e.CreationDate >= start.CreationDate && e.ID != start.ID {
				want = append(want, e.ID)
			}
		}
		if strings.Join(ids, ",") != strings.Join(want, ",") || len(gaps) != 0 {
			t.Fatalf("%s: got %d events %v, gaps %v; want %d", ref, len(ids), ids, gaps, len(want))
		}
	}
	for _, r := range srv.RESTRequests() {
		q := r.Query
		if !strings.HasPrefix(q.Get("filter"), "creationDate>=") || q.Get("sort") != "creationDate" || q.Get("order") != "asc" || q.Get("limit") != "5" {
			t.Fatalf("request %v", q)
		}
	}
}

func TestFillerUntil(t *testing.T) {
	t.Parallel()
	srv := octavetest.NewServer(octavetest.WithStream("a", -1), octavetest.WithPageLimits(2, 2))
	defer srv.Close()
	var evs []octavetest.Event
	for i := range 3 {
		e, _ := srv.Publish("/test-co/a", i)
		evs = append(evs, e...)
	}
	f := newFiller(newREST(srv, 2), "/test-co/a", 0, nil)
	f.setUntil(evs[1].CreationDate)
	f.setUntil(evs[2].CreationDate) // never raises the bound
	ids, _ := fill(t, f)
	for _, id := range ids {
		for _, e := range evs {
			if e.ID == id && e.CreationDate > evs[1].CreationDate {
				t.Fatalf("returned %s past the bound", id)
			}
		}
	}
	if len(ids) < 2 {
		t.Fatalf("got %v", ids)
	}
}

func TestFillerEviction(t *testing.T) {
	t.Parallel()
	srv := octavetest.NewServer(octavetest.WithStream("a", 10), octavetest.WithStream("zero", 0))
	defer srv.Close()
	seen, _ := srv.Publish("/test-co/a", 0) // the last event received before the outage
	time.Sleep(2 * time.Millisecond)        // a later creationDate for the rest
	var missed []octavetest.Event
	for i := range 25 { // the outage: 25 events, only the newest 10 kept
		e, _ := srv.Publish("/test-co/a", i)
		missed = append(missed, e...)
	}
	f := newFiller(newREST(srv, 4), "/test-co/a", seen[0].CreationDate, []string{seen[0].ID})
	ids, gaps := fill(t, f)
	if strings.Join(ids, ",") != strings.Join(eventIDs(missed[15:]), ",") {
		t.Fatalf("got %v", ids)
	}
	if len(gaps) != 1 || gaps[0].From != seen[0].CreationDate || gaps[0].To != missed[15].CreationDate {
		t.Fatalf("gaps %+v", gaps)
	}

	// Nothing evicted: no gap, and the known event does not come again.
	f = newFiller(newREST(srv, 4), "/test-co/a", missed[20].CreationDate, []string{missed[20].ID})
	ids, gaps = fill(t, f)
	if len(gaps) != 0 || slices.Contains(ids, missed[20].ID) || ids[len(ids)-1] != missed[24].ID {
		t.Fatalf("ids %v gaps %v", ids, gaps)
	}

	// A capacity-0 stream holds nothing: a known position is reported, without an end.
	z, _ := srv.Publish("/test-co/zero", 1)
	f = newFiller(newREST(srv, 4), "/test-co/zero", z[0].CreationDate, []string{z[0].ID})
	if ids, gaps = fill(t, f); len(ids) != 0 || len(gaps) != 1 || gaps[0].To != 0 {
		t.Fatalf("ids %v gaps %v", ids, gaps)
	}
	// Without a known event nothing can be said.
	f = newFiller(newREST(srv, 4), "/test-co/zero", 0, nil)
	if ids, gaps = fill(t, f); len(ids) != 0 || len(gaps) != 0 {
		t.Fatalf("ids %v gaps %v", ids, gaps)
	}
}

// Offsets shift when the old end of the stream is evicted during a fill; paging by key does not
// skip what is still stored.
func TestFillerEvictionDuringFill(t *testing.T) {
	t.Parallel()
	srv := octavetest.NewServer(octavetest.WithStream("a", 6))
	defer srv.Close()
	evs, _ := srv.Publish("/test-co/a", 0, 1, 2, 3, 4, 5)
	f := newFiller(newREST(srv, 2), "/test-co/a", 0, nil)
	var ids []string
	for len(ids) < 2 {
		ev, _, _, err := f.next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	more, _ := srv.Publish("/test-co/a", 6, 7) // evicts evs[0] and evs[1], already returned
	rest, _ := fill(t, f)
	got := strings.Join(append(ids, rest...), ",")
	want := strings.Join(append(eventIDs(evs), eventIDs(more)...), ",")
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestFillerErrors(t *testing.T) {
	t.Parallel()
	srv := octavetest.NewServer(octavetest.WithStream("a", -1), octavetest.WithRESTFailures(503))
	defer srv.Close()
	srv.Publish("/test-co/a", 1)
	f := newFiller(newREST(srv, 5), "/test-co/a", 0, nil)
	_, _, _, err := f.next(context.Background())
	var he *httpError
	if !errors.As(err, &he) || he.status != 503 || he.auth() {
		t.Fatalf("err = %v", err)
	}
	if ids, _ := fill(t, f); len(ids) != 1 { // the next call retries
		t.Fatalf("after a retry: %v", ids)
	}

	bad := &restClient{hc: http.DefaultClient, base: srv.URL, creds: credentials{company: "test-co", user: "test-user", token: "wrong-token"}, limit: 5}
	_, _, _, err = newFiller(bad, "/test-co/a", 0, nil).next(context.Background())
	if !errors.As(err, &he) || !he.auth() || strings.Contains(err.Error(), "wrong-token") {
		t.Fatalf("bad token: %v", err)
	}
	_, _, _, err = newFiller(newREST(srv, 5), "/test-co/nope", 0, nil).next(context.Background())
	if !errors.As(err, &he) || he.status != 404 {
		t.Fatalf("unknown stream: %v", err)
	}
}
