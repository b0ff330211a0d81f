package firehose

import (
	"fmt"
	"strconv"
	"strings"
)

// Partitions is the number of partitions of the Cisco Spaces Firehose; every
// event lives in exactly one of them, numbered 1 to 12.
const Partitions = 12

// Range is an inclusive range of partitions, the minPartition and
// maxPartition of a request. The zero Range means all partitions.
type Range struct {
	Min, Max int
}

// AllPartitions is the range 1-12.
var AllPartitions = Range{Min: 1, Max: Partitions}

// Validate reports whether 1 <= Min <= Max <= 12.
func (r Range) Validate() error {
	if r.Min < 1 || r.Max > Partitions || r.Min > r.Max {
		return fmt.Errorf("firehose: partition range %d-%d: want 1 <= min <= max <= %d", r.Min, r.Max, Partitions)
	}
	return nil
}

// Contains reports whether partition p is in r.
func (r Range) Contains(p int) bool { return p >= r.Min && p <= r.Max }

// Overlaps reports whether r and o share a partition.
func (r Range) Overlaps(o Range) bool { return r.Min <= o.Max && o.Min <= r.Max }

// String formats r as "MIN-MAX".
func (r Range) String() string { return strconv.Itoa(r.Min) + "-" + strconv.Itoa(r.Max) }

// ParseRange parses "MIN-MAX" or a single partition "P".
func ParseRange(s string) (Range, error) {
	lo, hi, found := strings.Cut(s, "-")
	if !found {
		hi = lo
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil {
		return Range{}, fmt.Errorf("firehose: partition range %q: want MIN-MAX", s)
	}
	r := Range{Min: a, Max: b}
	return r, r.Validate()
}

// Plan splits the 12 partitions over n receivers: n contiguous, disjoint,
// balanced ranges covering 1-12, larger ranges first. Plan(4) is 1-3, 4-6,
// 7-9, 10-12; Plan(5) is 1-3, 4-6, 7-8, 9-10, 11-12. The plan is stable: the
// same n always gives the same ranges, so receiver i keeps its partitions
// across restarts and rolling upgrades.
func Plan(n int) ([]Range, error) {
	if n < 1 || n > Partitions {
		return nil, fmt.Errorf("firehose: %d receivers: want 1 to %d", n, Partitions)
	}
	out := make([]Range, n)
	size, extra := Partitions/n, Partitions%n
	next := 1
	for i := range out {
		k := size
		if i < extra {
			k++
		}
		out[i] = Range{Min: next, Max: next + k - 1}
		next += k
	}
	return out, nil
}

// Receiver returns the range of receiver i (0-based, like a Kubernetes
// StatefulSet ordinal) of n: Plan(n)[i].
func Receiver(i, n int) (Range, error) {
	plan, err := Plan(n)
	if err != nil {
		return Range{}, err
	}
	if i < 0 || i >= n {
		return Range{}, fmt.Errorf("firehose: receiver %d of %d: want 0 <= i < n", i, n)
	}
	return plan[i], nil
}
