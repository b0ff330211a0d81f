package callevents

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// addGoldenSeeds adds every golden fixture to the corpus, next to the kept seeds in
// testdata/fuzz/<target>.
func addGoldenSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// FuzzNormalize: no input panics; an object always gets a non-empty id and a JSON object as
// Object, the same every time; normalising an unwrapped Object again finds the same shape and id.
func FuzzNormalize(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		n, err := Normalize(msg)
		if err != nil {
			return
		}
		if n.ID == "" {
			t.Fatal("an empty id")
		}
		if len(n.Object) == 0 || n.Object[0] != '{' || !json.Valid(n.Object) {
			t.Fatalf("Object %q is not a JSON object", n.Object)
		}
		again, err := Normalize(msg)
		if err != nil || again.ID != n.ID || again.Timestamp != n.Timestamp || again.Type != n.Type {
			t.Fatalf("not deterministic: %+v vs %+v (%v)", n, again, err)
		}
		if n.Timestamp < 0 {
			t.Fatalf("negative timestamp %d", n.Timestamp)
		}
		if n.Wrap == WrapNone {
			return
		}
		inner, err := Normalize(n.Object)
		if err != nil || inner.Shape != n.Shape {
			t.Fatalf("the unwrapped object normalises to %+v, %v; want shape %v", inner, err, n.Shape)
		}
	})
}

// FuzzSplit: no input panics; every value is valid JSON found in the message; a message of one
// valid non-array value is that value.
func FuzzSplit(f *testing.F) {
	addGoldenSeeds(f)
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\n"))
	f.Add([]byte(`[{"a":1},{"b":2}]`))
	f.Add([]byte("{\"a\":1}\n{\"b\":"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		vals, _ := Split(msg)
		for _, v := range vals {
			if !json.Valid(v) {
				t.Fatalf("value %q is not JSON", v)
			}
		}
		trimmed := bytes.TrimSpace(msg)
		if len(trimmed) > 0 && trimmed[0] != '[' && json.Valid(trimmed) {
			if len(vals) != 1 || !bytes.Equal(vals[0], trimmed) {
				t.Fatalf("one value %q split into %q", trimmed, vals)
			}
		}
	})
}
