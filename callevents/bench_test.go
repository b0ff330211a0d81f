package callevents

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkNormalize measures Split and Normalize on each golden fixture.
func BenchmarkNormalize(b *testing.B) {
	for _, name := range []string{"kazoo_create_bare", "kazoo_destroy_blackhole", "webhook_bridge", "freeswitch_answer"} {
		msg, err := os.ReadFile(filepath.Join("testdata", "golden", name+".json"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				vals, err := Split(msg)
				if err != nil {
					b.Fatal(err)
				}
				for _, v := range vals {
					if _, err := Normalize(v); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
