package octavetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// get calls the REST API with the default user and token.
func get(t *testing.T, s *Server, path string, q url.Values, hdr map[string]string) (int, envelope, []map[string]any) {
	t.Helper()
	u := s.URL + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if hdr == nil {
		hdr = map[string]string{"X-Auth-User": DefaultUser, "X-Auth-Token": DefaultToken}
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	var body []map[string]any
	if env.Head.OK {
		if err := json.Unmarshal(env.Body, &body); err != nil {
			t.Fatalf("body %s: %v", env.Body, err)
		}
	}
	return resp.StatusCode, env, body
}

func ids(body []map[string]any) string {
	var out []string
	for _, e := range body {
		out = append(out, fmt.Sprint(e["id"]))
	}
	return strings.Join(out, ",")
}

func evIDs(evs []Event) string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return strings.Join(out, ",")
}

func TestREST(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithStream("a", 10), WithPageLimits(3, 4))
	a := s.Streams()[0]
	evs := publish(t, s, a.ID, 15) // 5 evicted
	kept := evs[5:]
	if got := evIDs(s.Stored(a.ID)); got != evIDs(kept) {
		t.Fatalf("Stored: %s", got)
	}
	if len(s.Events(a.ID)) != 15 {
		t.Fatal("Events lost evicted ones")
	}
	byID := RESTPrefix + "/" + DefaultCompany + "/event/" + a.ID
	byPath := RESTPrefix + "/" + DefaultCompany + "/event"
	rev := func(evs []Event) []Event {
		out := make([]Event, len(evs))
		for i, e := range evs {
			out[len(evs)-1-i] = e
		}
		return out
	}
	mid := kept[4].CreationDate
	var atOrAfter, after []Event
	for _, e := range kept {
		if e.CreationDate >= mid {
			atOrAfter = append(atOrAfter, e)
		}
		if e.CreationDate > mid {
			after = append(after, e)
		}
	}
	tests := []struct {
		name string
		path string
		q    url.Values
		want []Event
	}{
		{"default: desc, limit 3", byID, nil, rev(kept)[:3]},
		{"asc page 1", byID, url.Values{"order": {"asc"}, "limit": {"2"}}, kept[:2]},
		{"asc page 2", byID, url.Values{"order": {"asc"}, "limit": {"2"}, "start": {"2"}}, kept[2:4]},
		{"limit cut to 4", byID, url.Values{"order": {"asc"}, "limit": {"100"}}, kept[:4]},
		{"past the end", byID, url.Values{"start": {"10"}}, nil},
		{"by path", byPath, url.Values{"path": {a.Path}, "order": {"asc"}, "sort": {"creationDate"}, "limit": {"4"}}, kept[:4]},
		{">=", byID, url.Values{"filter": {fmt.Sprintf("creationDate>=%d", mid)}, "order": {"asc"}, "limit": {"4"}}, atOrAfter[:min(4, len(atOrAfter))]},
		{">", byID, url.Values{"filter": {fmt.Sprintf("creationDate > %d", mid)}, "order": {"asc"}, "limit": {"4"}}, after[:min(4, len(after))]},
		{"&&", byID, url.Values{"filter": {fmt.Sprintf("creationDate>=%d && version==0 && creationDate<=%d", mid, mid)}, "order": {"asc"}, "limit": {"4"}}, func() []Event {
			var out []Event
			for _, e := range kept {
				if e.CreationDate == mid {
					out = append(out, e)
				}
			}
			return out[:min(4, len(out))]
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, env, body := get(t, s, tt.path, tt.q, nil)
			if st != 200 || !env.Head.OK || env.Head.Status != 200 {
				t.Fatalf("%d %+v", st, env.Head)
			}
			if got := ids(body); got != evIDs(tt.want) {
				t.Fatalf("got  %s\nwant %s", got, evIDs(tt.want))
			}
		})
	}

	// only projects.
	_, _, body := get(t, s, byID, url.Values{"only": {"id,creationDate"}, "limit": {"1"}}, nil)
	if len(body) != 1 || len(body[0]) != 2 {
		t.Fatalf("only: %v", body)
	}
	// A served event is byte for byte the pushed one.
	_, env, _ := get(t, s, byID, url.Values{"limit": {"1"}}, nil)
	var raw []json.RawMessage
	json.Unmarshal(env.Body, &raw)
	if string(raw[0]) != string(kept[len(kept)-1].JSON()) {
		t.Fatalf("REST event %s, pushed %s", raw[0], kept[len(kept)-1].JSON())
	}
}

func TestRESTErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithStream("a", -1), WithAuthStatus(401), WithRESTFailures(500, 503))
	a := s.Streams()[0]
	byID := RESTPrefix + "/" + DefaultCompany + "/event/" + a.ID
	for _, want := range []int{500, 503} {
		if st, env, _ := get(t, s, byID, nil, nil); st != want || env.Head.OK || len(env.Head.Errors) == 0 {
			t.Fatalf("scripted failure: %d %+v", st, env.Head)
		}
	}
	tests := []struct {
		name string
		path string
		q    url.Values
		hdr  map[string]string
		want int
	}{
		{"bad token", byID, nil, map[string]string{"X-Auth-User": DefaultUser, "X-Auth-Token": "x"}, 401},
		{"wrong company", RESTPrefix + "/other/event/" + a.ID, nil, nil, 401},
		{"unknown stream", RESTPrefix + "/" + DefaultCompany + "/event/s1", nil, nil, 404},
		{"unknown path", RESTPrefix + "/" + DefaultCompany + "/event", url.Values{"path": {"/test-co/zz"}}, nil, 404},
		{"id given as path", RESTPrefix + "/" + DefaultCompany + "/event", url.Values{"path": {a.ID}}, nil, 404},
		{"no path", RESTPrefix + "/" + DefaultCompany + "/event", nil, nil, 400},
		{"bad filter", byID, url.Values{"filter": {"creationDate~1"}}, nil, 400},
		{"filter on a string", byID, url.Values{"filter": {"path>=1"}}, nil, 400},
		{"filter not a number", byID, url.Values{"filter": {"creationDate>=x"}}, nil, 400},
		{"bad order", byID, url.Values{"order": {"up"}}, nil, 400},
		{"bad sort", byID, url.Values{"sort": {"elems"}}, nil, 400},
		{"bad limit", byID, url.Values{"limit": {"0"}}, nil, 400},
		{"bad start", byID, url.Values{"start": {"-1"}}, nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, env, _ := get(t, s, tt.path, tt.q, tt.hdr)
			if st != tt.want || env.Head.OK || env.Head.Status != tt.want || len(env.Head.Errors) == 0 {
				t.Fatalf("%d %+v, want %d", st, env.Head, tt.want)
			}
		})
	}
	if n := len(s.RESTRequests()); n != 2+len(tests) {
		t.Fatalf("RESTRequests: %d", n)
	}
}

func TestRESTRestrictedToken(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithCredentials("co", "", "rt"), WithStream("a", -1))
	a := s.Streams()[0]
	p := RESTPrefix + "/co/event/" + a.ID
	if st, _, _ := get(t, s, p, nil, map[string]string{"X-Auth-Token": "rt"}); st != 200 {
		t.Fatalf("restricted token: %d", st)
	}
	if st, _, _ := get(t, s, p, nil, map[string]string{"X-Auth-Token": "rt", "X-Auth-User": "u"}); st != 400 {
		t.Fatalf("restricted token with a user: %d", st)
	}
}

func TestCapacityZero(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithStream("a", 0), WithStream("b", 1))
	publish(t, s, "/test-co/a", 3)
	evs := publish(t, s, "/test-co/b", 3)
	if len(s.Stored("/test-co/a")) != 0 {
		t.Fatal("capacity 0 kept events")
	}
	if got := s.Stored("/test-co/b"); len(got) != 1 || got[0].ID != evs[2].ID {
		t.Fatalf("capacity 1 kept %v", got)
	}
}
