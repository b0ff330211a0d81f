package firehose

import (
	"reflect"
	"sync/atomic"
	"testing"
)

// TestAbsorbKeepsEveryCount fills every counter of a stream with a distinct
// value and folds it into the retired totals: every count Stats shows must
// come through, so a counter added to addCounts but not to absorb fails here.
func TestAbsorbKeepsEveryCount(t *testing.T) {
	var o counters
	v := reflect.ValueOf(&o).Elem()
	n := int64(1)
	var fill func(f reflect.Value)
	fill = func(f reflect.Value) {
		switch {
		case f.Type() == reflect.TypeFor[atomic.Int64]():
			(*atomic.Int64)(f.Addr().UnsafePointer()).Store(n) // unexported: no Interface
			n++
		case f.Kind() == reflect.Array:
			for i := range f.Len() {
				fill(f.Index(i))
			}
		}
	}
	for i := range v.NumField() {
		fill(v.Field(i))
	}
	o.source, o.lastErr = "script", "last trouble"
	o.gapsBy = map[GapReason]int64{GapNoReplay: 3}
	var retired counters
	retired.absorb(&o)
	counts := func(c *counters) Stats {
		s := Stats{Reconnects: map[Cause]int64{}}
		c.addCounts(&s)
		return s
	}
	if want, got := counts(&o), counts(&retired); !reflect.DeepEqual(got, want) {
		t.Fatalf("absorbed counts differ:\n got %+v\nwant %+v", got, want)
	}
}
