package octavetest

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// REST, read-only and for events only:
//
//	GET /v5.0/{company}/event/{streamId}?…
//	GET /v5.0/{company}/event?path=/{company}/…&…
//
// Headers X-Auth-Token and X-Auth-User (omitted with a restricted token); the company is the
// path's. Parameters:
//
//	filter  comparisons joined by &&: creationDate, generatedDate, lastEditDate or version, then
//	        >=, >, <=, <, == or !=, then an integer (e.g. creationDate>=1700000000000)
//	sort    creationDate (default), generatedDate, lastEditDate, version or id; ties keep the
//	        order of creation
//	order   asc or desc (default desc: the exact reverse of asc)
//	start   offset into the sorted, filtered events (default 0)
//	limit   page size (default WithPageLimits' def; larger than its max is cut to the max)
//	only    comma-separated members to keep in each event
//
// Only the events the stream still keeps (its capacity) are served. The answer is
// {"head":{"ok":true,"status":200,…},"body":[event,…]}; errors are envelopes with head.ok false:
// 400 for a bad parameter, the auth status for bad credentials, 404 for an unknown stream.

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rec := RESTRequest{Path: r.URL.Path, Query: q, Time: time.Now()}
	status, body, msg := s.answerREST(r, q)
	rec.Status, rec.Events = status, len(body)
	s.mu.Lock()
	s.rest = append(s.rest, rec)
	s.mu.Unlock()
	if msg != "" {
		writeEnvelope(w, status, nil, msg)
		return
	}
	b := []byte{'['}
	for i, e := range body {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	b = append(b, ']')
	writeEnvelope(w, status, b, "")
}

// answerREST returns the status and either the events or an error message.
func (s *Server) answerREST(r *http.Request, q url.Values) (int, [][]byte, string) {
	if r.Method != http.MethodGet {
		return http.StatusMethodNotAllowed, nil, "method not allowed"
	}
	s.mu.Lock()
	if len(s.restFails) > 0 {
		st := s.restFails[0]
		s.restFails = s.restFails[1:]
		s.mu.Unlock()
		return st, nil, "scripted failure " + strconv.Itoa(st)
	}
	s.mu.Unlock()

	rest := strings.TrimPrefix(r.URL.Path, RESTPrefix+"/")
	company, rest, _ := strings.Cut(rest, "/")
	if !s.restAuthOK(r, company) {
		return s.cfg.authStatus, nil, "Invalid credentials"
	}
	var ref string
	switch {
	case rest == "event":
		ref = q.Get("path")
		if ref == "" {
			return http.StatusBadRequest, nil, "path is required"
		}
	case strings.HasPrefix(rest, "event/") && !strings.Contains(rest[len("event/"):], "/"):
		ref = rest[len("event/"):]
	default:
		return http.StatusNotFound, nil, NotFoundMessage
	}

	filter, err := parseFilter(q.Get("filter"))
	if err != nil {
		return http.StatusBadRequest, nil, "Invalid filter: " + err.Error()
	}
	sortBy := q.Get("sort")
	if sortBy == "" {
		sortBy = "creationDate"
	}
	if _, ok := (&Event{}).numericField(sortBy); !ok && sortBy != "id" {
		return http.StatusBadRequest, nil, "Invalid sort: " + sortBy
	}
	desc := true
	switch q.Get("order") {
	case "", "desc":
	case "asc":
		desc = false
	default:
		return http.StatusBadRequest, nil, "Invalid order: " + q.Get("order")
	}
	start, ok := intParam(q, "start", 0)
	if !ok || start < 0 {
		return http.StatusBadRequest, nil, "Invalid start"
	}
	limit, ok := intParam(q, "limit", s.cfg.pageLimit)
	if !ok || limit < 1 {
		return http.StatusBadRequest, nil, "Invalid limit"
	}
	limit = min(limit, s.cfg.maxPageLimit)
	var only map[string]bool
	if v := q.Get("only"); v != "" {
		only = map[string]bool{}
		for f := range strings.SplitSeq(v, ",") {
			only[strings.TrimSpace(f)] = true
		}
	}

	s.mu.Lock()
	st := s.lookup(ref)
	var kept []*Event
	if st != nil && (rest == "event") == (st.Path == ref) {
		kept = st.stored()
	} else {
		st = nil
	}
	s.mu.Unlock()
	if st == nil {
		return http.StatusNotFound, nil, NotFoundMessage
	}

	sel := kept[:0]
	for _, e := range kept {
		if filter.match(e) {
			sel = append(sel, e)
		}
	}
	slices.SortStableFunc(sel, func(a, b *Event) int {
		if sortBy == "id" {
			return strings.Compare(a.ID, b.ID)
		}
		x, _ := a.numericField(sortBy)
		y, _ := b.numericField(sortBy)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	if desc {
		slices.Reverse(sel)
	}
	if start >= len(sel) {
		return http.StatusOK, [][]byte{}, ""
	}
	sel = sel[start:min(len(sel), start+limit)]
	out := make([][]byte, len(sel))
	for i, e := range sel {
		if only != nil {
			out[i] = renderEvent(e, only)
		} else {
			out[i] = e.raw
		}
	}
	return http.StatusOK, out, ""
}

func (s *Server) restAuthOK(r *http.Request, company string) bool {
	token := r.Header.Get("X-Auth-Token")
	if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.token)) != 1 || company != s.cfg.company {
		return false
	}
	hasUser := len(r.Header.Values("X-Auth-User")) > 0
	if s.cfg.user == "" {
		return !hasUser
	}
	return r.Header.Get("X-Auth-User") == s.cfg.user
}

func intParam(q url.Values, name string, def int) (int, bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// filter is a conjunction of comparisons of numeric members with integers.
type filter []comparison

type comparison struct {
	field string
	op    string
	value int64
}

var filterOps = []string{">=", "<=", "==", "!=", ">", "<"} // two-character operators first

func parseFilter(expr string) (filter, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, nil
	}
	var f filter
	for term := range strings.SplitSeq(expr, "&&") {
		term = strings.TrimSpace(term)
		var c comparison
		for _, op := range filterOps {
			if i := strings.Index(term, op); i > 0 {
				c = comparison{field: strings.TrimSpace(term[:i]), op: op}
				v, err := strconv.ParseInt(strings.TrimSpace(term[i+len(op):]), 10, 64)
				if err != nil {
					return nil, errors.New("not an integer in " + strconv.Quote(term))
				}
				c.value = v
				break
			}
		}
		if c.op == "" {
			return nil, errors.New("no comparison in " + strconv.Quote(term))
		}
		if _, ok := (&Event{}).numericField(c.field); !ok {
			return nil, errors.New("unsupported member " + strconv.Quote(c.field))
		}
		f = append(f, c)
	}
	return f, nil
}

func (f filter) match(e *Event) bool {
	for _, c := range f {
		x, _ := e.numericField(c.field)
		var ok bool
		switch c.op {
		case ">=":
			ok = x >= c.value
		case "<=":
			ok = x <= c.value
		case "==":
			ok = x == c.value
		case "!=":
			ok = x != c.value
		case ">":
			ok = x > c.value
		case "<":
			ok = x < c.value
		}
		if !ok {
			return false
		}
	}
	return true
}
