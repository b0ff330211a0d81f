package firehose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/firehose-go/firehose/firehosetest"
	"github.com/firehose-go/firehose/proto/firehosev1"
)

// One JSON per event on every channel: firehosetest serves one log on its
// three channels from one server; each event as the client delivers it over
// HTTP, WebSocket and gRPC (rendered from the record by renderProto) must be
// the line the HTTP channel serves, as a JSON value — same keys, same values,
// defaults included — and its typed record must be the same on the three.

// channelEvent is what a test keeps of a delivered event.
type channelEvent struct {
	typ       EventType
	json      []byte
	record    *firehosev1.EventRecord
	recordErr error
}

// consumeChannel reads every event of want over one transport.
func consumeChannel(t *testing.T, url string, tr Transport, want []firehosetest.Event) map[string]channelEvent {
	t.Helper()
	c, err := New(
		WithEndpoint(url),
		WithAPIKey(firehosetest.DefaultAPIKey),
		WithTransport(tr),
		WithStart(want[0].Emit.Add(-time.Minute)),
		WithBackoff(time.Millisecond, 20*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := c.Open(ctx)
	if err != nil {
		t.Fatalf("%s: %v", tr, err)
	}
	defer s.Close()
	wanted := make(map[string]bool, len(want))
	for _, e := range want {
		wanted[channelKey(e.UID, e.Timestamp)] = true
	}
	got := make(map[string]channelEvent, len(want))
	for len(got) < len(want) {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("%s: after %d of %d events: %v", tr, len(got), len(want), err)
		}
		k := channelKey(ev.ID(), ev.Timestamp())
		if !wanted[k] {
			continue // a keep-alive
		}
		if _, dup := got[k]; dup {
			t.Fatalf("%s: %s delivered twice", tr, ev)
		}
		rec, rerr := ev.Record()
		got[k] = channelEvent{typ: ev.Type(), json: bytes.Clone(ev.JSON()), record: rec, recordErr: rerr}
	}
	return got
}

func channelKey(uid string, ts int64) string { return uid + "/" + strconv.FormatInt(ts, 10) }

// decodeJSONValue decodes b with numbers kept as written.
func decodeJSONValue(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

// jsonValueDiffs compares two JSON values strictly: the same keys, arrays of
// the same length, equal strings and booleans, numbers of equal value (as
// written, else as float64: "7.0" and "7" are one number). It returns every
// difference with its path.
func jsonValueDiffs(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: object became %v", path, got)}
		}
		var diffs []string
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				diffs = append(diffs, path+"."+k+": missing")
				continue
			}
			diffs = append(diffs, jsonValueDiffs(path+"."+k, wv, gv)...)
		}
		for k, gv := range g {
			if _, ok := w[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: extra %v", path, k, gv))
			}
		}
		sort.Strings(diffs)
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: %v became %v", path, want, got)}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, jsonValueDiffs(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return diffs
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			return []string{fmt.Sprintf("%s: number %v became %v", path, want, got)}
		}
		if w == g {
			return nil
		}
		wf, err1 := w.Float64()
		gf, err2 := g.Float64()
		if err1 != nil || err2 != nil || wf != gf {
			return []string{fmt.Sprintf("%s: %v became %v", path, w, g)}
		}
		return nil
	default:
		if want != got {
			return []string{fmt.Sprintf("%s: %v became %v", path, want, got)}
		}
		return nil
	}
}

// protoTypeNames are the event types of the proto's EventType enum but
// KEEP_ALIVE: those the log serves.
func protoTypeNames() []string {
	var out []string
	for n, name := range firehosev1.EventType_name {
		if n != int32(firehosev1.EventType_KEEP_ALIVE) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// markFilled records the fields set in m and its sub-messages.
func markFilled(m protoreflect.Message, filled map[protoreflect.FullName]bool) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		filled[fd.FullName()] = true
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				markFilled(v.List().Get(i).Message(), filled)
			}
		case fd.Message() != nil && !fd.IsMap():
			markFilled(v.Message(), filled)
		}
		return true
	})
}

// reachableFields lists the fields of md and of every message its fields
// can hold, sorted.
func reachableFields(md protoreflect.MessageDescriptor) []protoreflect.FullName {
	done := map[protoreflect.FullName]bool{}
	var out []protoreflect.FullName
	var walk func(protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		if done[md.FullName()] {
			return
		}
		done[md.FullName()] = true
		for i := range md.Fields().Len() {
			fd := md.Fields().Get(i)
			out = append(out, fd.FullName())
			if fd.Message() != nil {
				walk(fd.Message())
			}
		}
	}
	walk(md)
	slices.Sort(out)
	return out
}

func TestOneJSONPerEventOnEveryChannel(t *testing.T) {
	srv := firehosetest.NewServer(firehosetest.WithHistory(1500, time.Minute), firehosetest.WithUnknownTypes(true))
	defer srv.Close()
	want := srv.Log().Events(1, firehosetest.NumPartitions)

	channels := []Transport{TransportHTTP, TransportWebSocket, TransportGRPC}
	got := map[Transport]map[string]channelEvent{}
	for _, tr := range channels {
		got[tr] = consumeChannel(t, srv.URL, tr, want)
	}

	seen := map[Transport]map[string]int{}
	unknown := 0
	for _, e := range want {
		line, err := decodeJSONValue(e.Line)
		if err != nil {
			t.Fatalf("event %d: the served line is not JSON: %v", e.Index, err)
		}
		known := e.Type != "SPACE_OCCUPANCY"
		var strict *firehosev1.EventRecord
		if known {
			// The line is all proto: strict protojson reads every key.
			strict = new(firehosev1.EventRecord)
			if err := protojson.Unmarshal(e.Line, strict); err != nil {
				t.Fatalf("event %d (%s): strict protojson: %v", e.Index, e.Type, err)
			}
		} else {
			unknown++
		}
		for _, tr := range channels {
			ce := got[tr][channelKey(e.UID, e.Timestamp)]
			if seen[tr] == nil {
				seen[tr] = map[string]int{}
			}
			seen[tr][string(ce.typ)]++
			if !known && tr == TransportGRPC {
				// The gRPC wire has no number for the type: the record carries
				// UnknownEventTypeNumber and no payload (README, gRPC).
				wantType := EventType("EVENT_TYPE_" + strconv.Itoa(firehosetest.UnknownEventTypeNumber))
				env := line.(map[string]any)
				trimmed := map[string]any{}
				for _, k := range []string{"recordUid", "recordTimestamp", "spacesTenantId", "spacesTenantName", "partnerTenantId"} {
					trimmed[k] = env[k]
				}
				trimmed["eventType"] = string(wantType)
				g, err := decodeJSONValue(ce.json)
				if err != nil {
					t.Fatalf("grpc: event %d: rendering is not JSON: %v", e.Index, err)
				}
				if diffs := jsonValueDiffs("$", trimmed, g); ce.typ != wantType || len(diffs) > 0 {
					t.Fatalf("grpc: unknown-type event %d as %s: %v\n%s", e.Index, ce.typ, diffs, ce.json)
				}
				continue
			}
			g, err := decodeJSONValue(ce.json)
			if err != nil {
				t.Fatalf("%s: event %d: JSON is not JSON: %v", tr, e.Index, err)
			}
			if diffs := jsonValueDiffs("$", line, g); len(diffs) > 0 {
				t.Fatalf("%s: event %d (%s) differs from the HTTP line:\n%v\nline: %s\ngot:  %s", tr, e.Index, e.Type, diffs, e.Line, ce.json)
			}
			if !known {
				if !errors.Is(ce.recordErr, ErrUnknownType) {
					t.Fatalf("%s: Record of unknown-type event %d: %v", tr, e.Index, ce.recordErr)
				}
				continue
			}
			if ce.recordErr != nil {
				t.Fatalf("%s: Record of event %d (%s): %v", tr, e.Index, e.Type, ce.recordErr)
			}
			if !proto.Equal(ce.record, strict) {
				t.Fatalf("%s: record of event %d (%s) differs from the line's:\ngot  %v\nwant %v", tr, e.Index, e.Type, ce.record, strict)
			}
		}
	}
	for _, tr := range channels {
		for _, typ := range protoTypeNames() {
			if seen[tr][typ] == 0 {
				t.Errorf("%s: no %s event served", tr, typ)
			}
		}
	}
	if unknown == 0 {
		t.Error("no unknown-type event in the log")
	}
	// Every field of every message an EventRecord can hold is set (not at its
	// default) in the record of some event: Record decodes them all.
	filled := map[protoreflect.FullName]bool{}
	for _, ce := range got[TransportHTTP] {
		if ce.recordErr == nil {
			markFilled(ce.record.ProtoReflect(), filled)
		}
	}
	for _, name := range reachableFields((*firehosev1.EventRecord)(nil).ProtoReflect().Descriptor()) {
		if !filled[name] {
			t.Errorf("no event's record has %s set", name)
		}
	}
	t.Logf("%d events (%d of a type without an enum number) equal on %d channels", len(want), unknown, len(channels))
}
