package firehose

import (
	"context"
	"path/filepath"
	"testing"
)

// FuzzDecodeCheckpoint: a checkpoint file of any content either decodes into
// valid ranges or is a checkpoint error; it never panics, and what decodes
// re-encodes to the same checkpoint.
func FuzzDecodeCheckpoint(f *testing.F) {
	dir := f.TempDir()
	good := filepath.Join(dir, "seed.json")
	store := NewFileCheckpointer(good)
	_ = store.Save(context.Background(), &Checkpoint{Ranges: []RangeCheckpoint{
		{Range: Range{1, 6}, Watermark: 1700000000000, Seen: []SeenEvent{{1, 2}, {3, 4}}},
		{Range: Range{7, 12}, Watermark: 1},
	}})
	if cp, err := store.Load(context.Background()); err != nil || cp == nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"format":"firehose-checkpoint","version":1,"ranges":[],"crc32c":0}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, b []byte) {
		cp, err := decodeCheckpoint(b, "fuzz")
		if err != nil {
			if _, ok := err.(*checkpointError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for _, r := range cp.Ranges {
			if r.Range.Validate() != nil {
				t.Fatalf("invalid range decoded: %v", r.Range)
			}
		}
		path := filepath.Join(t.TempDir(), "cp.json")
		s := NewFileCheckpointer(path)
		if err := s.Save(context.Background(), cp); err != nil {
			t.Fatal(err)
		}
		back, err := s.Load(context.Background())
		if err != nil || len(back.Ranges) != len(cp.Ranges) {
			t.Fatalf("re-encoded checkpoint does not load: %v", err)
		}
	})
}
