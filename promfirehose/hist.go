package promfirehose

import (
	"math"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// histVec is a histogram per label values (at most two), kept with atomics so
// observing costs no lock once a series exists, and sent as const histograms.
type histVec struct {
	bounds []float64
	mu     sync.RWMutex
	series map[[2]string]*hist
}

type hist struct {
	counts []atomic.Uint64 // per bucket, the last one +Inf
	sum    atomic.Uint64   // float64 bits
}

func newHistVec(bounds []float64) *histVec {
	return &histVec{bounds: bounds, series: map[[2]string]*hist{}}
}

func (v *histVec) observe(labels [2]string, x float64) {
	v.mu.RLock()
	h := v.series[labels]
	v.mu.RUnlock()
	if h == nil {
		v.mu.Lock()
		if h = v.series[labels]; h == nil {
			h = &hist{counts: make([]atomic.Uint64, len(v.bounds)+1)}
			v.series[labels] = h
		}
		v.mu.Unlock()
	}
	h.counts[sort.SearchFloat64s(v.bounds, x)].Add(1) // le: the first bound >= x
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+x)) {
			return
		}
	}
}

// collect sends one const histogram per series; n is the number of labels.
func (v *histVec) collect(ch chan<- prometheus.Metric, d *prometheus.Desc, n int) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for labels, h := range v.series {
		buckets := make(map[float64]uint64, len(v.bounds))
		var cum uint64
		for i, b := range v.bounds {
			cum += h.counts[i].Load()
			buckets[b] = cum
		}
		cum += h.counts[len(v.bounds)].Load()
		ch <- prometheus.MustNewConstHistogram(d, cum, math.Float64frombits(h.sum.Load()), buckets, labels[:n]...)
	}
}
