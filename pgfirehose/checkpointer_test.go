package pgfirehose_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/pgfirehose"
)

func sampleCheckpoint() *firehose.Checkpoint {
	return &firehose.Checkpoint{Ranges: []firehose.RangeCheckpoint{
		{Range: firehose.Range{Min: 1, Max: 6}, Watermark: 1_700_000_000_123, Seen: []firehose.SeenEvent{
			{Fingerprint: firehose.Fingerprint("a1", 1_700_000_000_100), Timestamp: 1_700_000_000_100},
			{Fingerprint: firehose.Fingerprint("ffff", 1_700_000_000_123), Timestamp: 1_700_000_000_123},
		}},
		{Range: firehose.Range{Min: 7, Max: 12}, Watermark: 1_700_000_000_050, Seen: []firehose.SeenEvent{}},
	}}
}

func TestCheckpointerRoundTrip(t *testing.T) {
	ckTable, _ := tables(t)
	ctx := context.Background()
	c, err := pgfirehose.NewCheckpointer("", "round-trip", pgfirehose.WithCheckpointTable(ckTable))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.Load(ctx)
	if err != nil || got != nil {
		t.Fatalf("Load before any save = %v, %v; want nil, nil", got, err)
	}
	want := sampleCheckpoint()
	if err := c.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err = c.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Load = %+v\nwant   %+v", got, want)
	}
	// A save replaces every row of the name: ranges gone from cp are gone.
	one := &firehose.Checkpoint{Ranges: want.Ranges[:1]}
	if err := c.Save(ctx, one); err != nil {
		t.Fatal(err)
	}
	// Another process, later, with the same name reads it back.
	c.Close()
	c2, err := pgfirehose.NewCheckpointer("", "round-trip", pgfirehose.WithCheckpointTable(ckTable))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	got, err = c2.Load(ctx)
	if err != nil || !reflect.DeepEqual(got, one) {
		t.Fatalf("Load after a smaller save = %+v, %v; want %+v", got, err, one)
	}
	// saved_at is set by the server.
	db := connect(t, ctx)
	defer db.Close(ctx)
	var savedAt time.Time
	if err := db.QueryRow(ctx, "SELECT saved_at FROM "+ckTable+" WHERE name = 'round-trip'").Scan(&savedAt); err != nil {
		t.Fatal(err)
	}
	if time.Since(savedAt).Abs() > time.Minute {
		t.Fatalf("saved_at %v, want about now", savedAt)
	}
}

func TestCheckpointerCorruptRows(t *testing.T) {
	ckTable, _ := tables(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, update, want string
	}{
		{"torn seen", "seen = substring(seen from 1 for 15)", "seen is 15 bytes"},
		{"range zero", "range_min = 0", "range"},
		{"range reversed", "range_min = 9", "range"},
		{"range too high", "range_max = 13", "range"},
		{"negative watermark", "watermark = -5", "watermark -5"},
		{"zero fingerprint", `seen = '\x00000000000000000000000000000001'::bytea`, "fingerprint 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "corrupt-" + strings.ReplaceAll(tc.name, " ", "-")
			c, err := pgfirehose.NewCheckpointer("", name, pgfirehose.WithCheckpointTable(ckTable))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Save(ctx, sampleCheckpoint()); err != nil {
				t.Fatal(err)
			}
			db := connect(t, ctx)
			defer db.Close(ctx)
			if _, err := db.Exec(ctx, "UPDATE "+ckTable+" SET "+tc.update+" WHERE name = $1 AND range_min = 1", name); err != nil {
				t.Fatal(err)
			}
			_, err = c.Load(ctx)
			if !errors.Is(err, pgfirehose.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), name) {
				t.Fatalf("Load = %v; want ErrCorrupt naming %q and saying %q", err, name, tc.want)
			}
			// Through a client, it ends Run as a fatal checkpoint error, before
			// any connection: never a silent start from live.
			client, err := firehose.New(firehose.WithAPIKey("k"), firehose.WithEndpoint("http://127.0.0.1:1"), firehose.WithCheckpointer(c))
			if err != nil {
				t.Fatal(err)
			}
			err = client.Run(ctx, func(context.Context, *firehose.Event) error { return nil })
			if !errors.Is(err, firehose.ErrCheckpoint) || !errors.Is(err, firehose.ErrFatal) || !errors.Is(err, pgfirehose.ErrCorrupt) {
				t.Fatalf("Run = %v; want a fatal ErrCheckpoint wrapping ErrCorrupt", err)
			}
		})
	}
}

func TestAdvisoryLockFencesSecondProcess(t *testing.T) {
	ckTable, _ := tables(t)
	ctx := context.Background()
	first, err := pgfirehose.NewCheckpointer("", "fenced", pgfirehose.WithCheckpointTable(ckTable))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	cp := sampleCheckpoint()
	if err := first.Save(ctx, cp); err != nil {
		t.Fatal(err)
	}
	second, err := pgfirehose.NewCheckpointer("", "fenced", pgfirehose.WithCheckpointTable(ckTable), pgfirehose.WithLockWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if _, err := second.Load(ctx); !errors.Is(err, pgfirehose.ErrLocked) || !strings.Contains(err.Error(), `"fenced"`) {
		t.Fatalf("second Load = %v; want ErrLocked naming the checkpoint", err)
	}
	if err := second.Save(ctx, &firehose.Checkpoint{}); !errors.Is(err, pgfirehose.ErrLocked) {
		t.Fatalf("second Save = %v; want ErrLocked", err)
	}
	// Another name is not fenced.
	other, err := pgfirehose.NewCheckpointer("", "fenced-other", pgfirehose.WithCheckpointTable(ckTable))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Load(ctx); err != nil {
		t.Fatalf("another name: %v", err)
	}
	// The fenced process wrote nothing; once the first one is gone, it may go.
	first.Close()
	got, err := second.Load(ctx)
	if err != nil || !reflect.DeepEqual(got, cp) {
		t.Fatalf("Load after the holder closed = %+v, %v; want the holder's checkpoint", got, err)
	}
}
