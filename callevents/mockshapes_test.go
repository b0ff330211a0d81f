package callevents

import (
	"testing"
	"time"

	"github.com/firehose-go/firehose/callevents/calleventstest"
)

// TestMockShapes normalises what the mock sends in every shape and envelope: the object, name, call
// and account come back, the time is the publish time (to the second), and the ids of different
// events differ.
func TestMockShapes(t *testing.T) {
	t.Parallel()
	srv := calleventstest.NewServer()
	defer srv.Close()
	shapes := map[calleventstest.Shape]Shape{
		calleventstest.ShapeKazoo:      ShapeKazoo,
		calleventstest.ShapeWebhook:    ShapeWebhook,
		calleventstest.ShapeFreeSWITCH: ShapeFreeSWITCH,
	}
	wraps := map[calleventstest.Wrap]Wrap{
		calleventstest.WrapNone:      WrapNone,
		calleventstest.WrapBlackhole: WrapData,
		calleventstest.WrapArgs:      WrapArgs,
	}
	ids := map[string]bool{}
	for ms, shape := range shapes {
		for mw, wrap := range wraps {
			srv.SetShape(ms)
			srv.SetWrap(mw)
			for _, name := range []string{ChannelCreate, ChannelBridge, ChannelDestroy, ParkParked, "CHANNEL_HANGUP_COMPLETE"} {
				e := srv.Publish(calleventstest.CustomerAccount, name, nil)
				vals, err := Split(e.Message)
				if err != nil || len(vals) != 1 {
					t.Fatalf("%v/%v: %d values, %v", ms, mw, len(vals), err)
				}
				n, err := Normalize(vals[0])
				if err != nil {
					t.Fatal(err)
				}
				if n.Shape != shape || n.Wrap != wrap || n.Type != name || n.CallID != e.CallID ||
					n.AccountID != calleventstest.CustomerAccount || string(n.Object) != string(e.Object) {
					t.Errorf("%v/%v %s: %+v", ms, mw, name, n)
				}
				if d := time.UnixMilli(n.Timestamp).Sub(e.Time.Truncate(time.Second)); d < 0 || d > time.Second {
					t.Errorf("%v/%v: timestamp %d is %v off %v", ms, mw, n.Timestamp, d, e.Time)
				}
				if ids[n.ID] {
					t.Errorf("%v/%v: id %q repeats", ms, mw, n.ID)
				}
				ids[n.ID] = true
			}
		}
	}
}
