package ndjson

import (
	"io"
	"slices"
	"testing"
	"testing/iotest"
)

// FuzzReader compares the Reader with the simple reference splitter on
// random input, random maximum line length, random initial buffer size and
// random read chunking. Seeds are in testdata/fuzz/FuzzReader.
func FuzzReader(f *testing.F) {
	f.Add([]byte("a\nbb\r\n\nccc"), uint16(2), uint16(4), uint16(0))
	f.Fuzz(func(t *testing.T, input []byte, maxLine, size, chunking uint16) {
		maxLen := 1 + int(maxLine)%300
		bufSize := 1 + int(size)%512
		var src io.Reader = &chunkReader{data: input, chunks: chunkSizes(chunking)}
		switch chunking % 4 {
		case 1:
			src = iotest.OneByteReader(src)
		case 2:
			src = iotest.HalfReader(src)
		case 3:
			src = iotest.DataErrReader(src)
		}
		r := newReaderSize(src, maxLen, bufSize)
		got := readAll(t, r)
		want, discarded := reference(string(input), maxLen)
		if !slices.Equal(got, want) {
			t.Fatalf("max %d, buffer %d, chunking %d:\n got %v\nwant %v", maxLen, bufSize, chunking, got, want)
		}
		if r.Discarded() != discarded {
			t.Fatalf("Discarded %d, want %d", r.Discarded(), discarded)
		}
		if limit := max(bufSize, maxLen+2); cap(r.buf) > limit {
			t.Fatalf("buffer cap %d > %d", cap(r.buf), limit)
		}
	})
}

// chunkSizes derives read sizes (1..16) from the fuzzer's chunking value.
func chunkSizes(c uint16) []int {
	if c < 4 {
		return nil
	}
	return []int{1 + int(c>>2)%16, 1 + int(c>>6)%16, 1 + int(c>>10)%16}
}
