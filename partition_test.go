package firehose_test

import (
	"fmt"
	"testing"

	"github.com/firehose-go/firehose"
)

func TestPlan(t *testing.T) {
	cases := map[int]string{
		1:  "[1-12]",
		2:  "[1-6 7-12]",
		3:  "[1-4 5-8 9-12]",
		4:  "[1-3 4-6 7-9 10-12]",
		5:  "[1-3 4-6 7-8 9-10 11-12]",
		12: "[1-1 2-2 3-3 4-4 5-5 6-6 7-7 8-8 9-9 10-10 11-11 12-12]",
	}
	cases[7] = "[1-2 3-4 5-6 7-8 9-10 11-11 12-12]"
	for n, want := range cases {
		plan, err := firehose.Plan(n)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(plan); got != want {
			t.Errorf("Plan(%d) = %s, want %s", n, got, want)
		}
	}
	// Every n: contiguous, disjoint, covering, balanced within one.
	for n := 1; n <= 12; n++ {
		plan, _ := firehose.Plan(n)
		next, lo, hi := 1, 12, 0
		for _, r := range plan {
			if r.Min != next || r.Validate() != nil {
				t.Fatalf("Plan(%d) = %v: not contiguous", n, plan)
			}
			size := r.Max - r.Min + 1
			lo, hi = min(lo, size), max(hi, size)
			next = r.Max + 1
		}
		if next != 13 || hi-lo > 1 {
			t.Fatalf("Plan(%d) = %v: not covering or not balanced", n, plan)
		}
	}
	for _, n := range []int{0, -1, 13} {
		if _, err := firehose.Plan(n); err == nil {
			t.Errorf("Plan(%d) accepted", n)
		}
	}
}

func TestReceiverAndParseRange(t *testing.T) {
	r, err := firehose.Receiver(3, 4)
	if err != nil || r != (firehose.Range{Min: 10, Max: 12}) {
		t.Fatalf("Receiver(3,4) = %v, %v", r, err)
	}
	if _, err := firehose.Receiver(4, 4); err == nil {
		t.Fatal("Receiver(4,4) accepted")
	}
	for in, want := range map[string]firehose.Range{"1-12": {1, 12}, "5": {5, 5}, " 3 - 4 ": {3, 4}} {
		got, err := firehose.ParseRange(in)
		if err != nil || got != want {
			t.Errorf("ParseRange(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0-3", "4-2", "1-13", "a-b", "1-2-3"} {
		if _, err := firehose.ParseRange(in); err == nil {
			t.Errorf("ParseRange(%q) accepted", in)
		}
	}
}
