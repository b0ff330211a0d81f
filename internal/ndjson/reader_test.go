package ndjson

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// result is one Next call: a line, or an error.
type result struct {
	line string
	err  error
}

// readAll calls Next until io.EOF or another error repeats, copying lines.
func readAll(t testing.TB, r *Reader) []result {
	t.Helper()
	var out []result
	for range 1 << 20 {
		line, err := r.Next()
		if err != nil {
			if line != nil {
				t.Fatalf("Next returned a line with error %v", err)
			}
			out = append(out, result{err: err})
			if err != ErrLineTooLong && err != ErrTornLine {
				return out
			}
			continue
		}
		if len(line) == 0 {
			t.Fatal("Next returned an empty line")
		}
		out = append(out, result{line: string(line)})
	}
	t.Fatal("Next never ended")
	return nil
}

// reference splits input the simple way, with the documented rules.
func reference(input string, max int) (out []result, discarded int64) {
	pieces := strings.Split(input, "\n")
	last := pieces[len(pieces)-1]
	for _, p := range pieces[:len(pieces)-1] {
		content := strings.TrimSuffix(p, "\r")
		switch {
		case len(content) > max:
			out = append(out, result{err: ErrLineTooLong})
			discarded += int64(len(p))
		case content != "":
			out = append(out, result{line: content})
		}
	}
	switch {
	case len(last) > max+1:
		out = append(out, result{err: ErrLineTooLong})
		discarded += int64(len(last))
	case last != "":
		out = append(out, result{err: ErrTornLine})
	}
	return append(out, result{err: io.EOF}), discarded
}

func TestReader(t *testing.T) {
	tests := []struct {
		name  string
		input string
		max   int
		want  []result
	}{
		{"empty stream", "", 10, []result{{err: io.EOF}}},
		{"one line", "abc\n", 10, []result{{line: "abc"}, {err: io.EOF}}},
		{"lines", "a\nbb\nccc\n", 10, []result{{line: "a"}, {line: "bb"}, {line: "ccc"}, {err: io.EOF}}},
		{"CRLF", "a\r\nbb\r\n", 10, []result{{line: "a"}, {line: "bb"}, {err: io.EOF}}},
		{"only one CR stripped", "a\r\r\n", 10, []result{{line: "a\r"}, {err: io.EOF}}},
		{"CR inside kept", "a\rb\n", 10, []result{{line: "a\rb"}, {err: io.EOF}}},
		{"empty lines skipped", "\n\n\r\na\n\n\nb\n\r\n", 10, []result{{line: "a"}, {line: "b"}, {err: io.EOF}}},
		{"spaces are not empty", " \n", 10, []result{{line: " "}, {err: io.EOF}}},
		{"exactly max", "12345\n", 5, []result{{line: "12345"}, {err: io.EOF}}},
		{"exactly max with CR", "12345\r\n", 5, []result{{line: "12345"}, {err: io.EOF}}},
		{"max+1", "123456\nok\n", 5, []result{{err: ErrLineTooLong}, {line: "ok"}, {err: io.EOF}}},
		{"max+1 with CR", "123456\r\nok\n", 5, []result{{err: ErrLineTooLong}, {line: "ok"}, {err: io.EOF}}},
		{"oversized in the middle", "a\n" + strings.Repeat("x", 50) + "\nb\n", 5,
			[]result{{line: "a"}, {err: ErrLineTooLong}, {line: "b"}, {err: io.EOF}}},
		{"two oversized", strings.Repeat("x", 50) + "\n" + strings.Repeat("y", 7) + "\r\nz\n", 5,
			[]result{{err: ErrLineTooLong}, {err: ErrLineTooLong}, {line: "z"}, {err: io.EOF}}},
		{"torn", "a\nbc", 10, []result{{line: "a"}, {err: ErrTornLine}, {err: io.EOF}}},
		{"torn CR", "a\n\r", 10, []result{{line: "a"}, {err: ErrTornLine}, {err: io.EOF}}},
		{"torn at max+1", "a\n123456", 5, []result{{line: "a"}, {err: ErrTornLine}, {err: io.EOF}}},
		{"torn and oversized", "a\n1234567", 5, []result{{line: "a"}, {err: ErrLineTooLong}, {err: io.EOF}}},
		{"no final newline after empty", "a\n\n", 10, []result{{line: "a"}, {err: io.EOF}}},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+err": iotest.DataErrReader,
	}
	for _, tt := range tests {
		for rname, wrap := range readers {
			for _, size := range []int{initialSize, 1, 3, 8} {
				r := newReaderSize(wrap(strings.NewReader(tt.input)), tt.max, size)
				got := readAll(t, r)
				if !slices.Equal(got, tt.want) {
					t.Errorf("%s (%s, buffer %d): got %v, want %v", tt.name, rname, size, got, tt.want)
				}
				ref, discarded := reference(tt.input, tt.max)
				if !slices.Equal(ref, tt.want) {
					t.Errorf("%s: test disagrees with the reference: %v", tt.name, ref)
				}
				if r.Discarded() != discarded {
					t.Errorf("%s (%s, buffer %d): Discarded %d, want %d", tt.name, rname, size, r.Discarded(), discarded)
				}
				if line, err := r.Next(); err != io.EOF || line != nil {
					t.Errorf("%s: after EOF: %q, %v", tt.name, line, err)
				}
			}
		}
	}
}

// TestLinesAcrossReads feeds many lines of varied lengths in every chunking,
// so lines straddle reads, compaction and growth.
func TestLinesAcrossReads(t *testing.T) {
	var sb strings.Builder
	var want []result
	for i := range 500 {
		line := strings.Repeat(string(rune('a'+i%26)), 1+(i*37)%300)
		sb.WriteString(line)
		if i%3 == 0 {
			sb.WriteString("\r")
		}
		sb.WriteString("\n")
		want = append(want, result{line: line})
	}
	want = append(want, result{err: io.EOF})
	for _, size := range []int{1, 64, 1000, initialSize} {
		for _, wrap := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.HalfReader, func(r io.Reader) io.Reader { return r }} {
			r := newReaderSize(wrap(strings.NewReader(sb.String())), 400, size)
			if got := readAll(t, r); !slices.Equal(got, want) {
				t.Fatalf("buffer %d: lines differ", size)
			}
			if cap(r.buf) > max(size, 402) {
				t.Fatalf("buffer %d grew to %d, limit %d", size, cap(r.buf), 402)
			}
		}
	}
}

// chunkReader returns its data in the given chunk sizes, cycling.
type chunkReader struct {
	data   []byte
	chunks []int
	i      int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data))
	if len(c.chunks) > 0 {
		n = min(n, c.chunks[c.i%len(c.chunks)])
		c.i++
	}
	n = copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// TestReadsUseFreeSpace checks that a read asks for all the free space and
// that no byte is searched twice (the reader brings many lines per read).
func TestReadsUseFreeSpace(t *testing.T) {
	line := strings.Repeat("x", 1700) + "\n"
	src := &countingReader{r: strings.NewReader(strings.Repeat(line, 1000))}
	r := NewReader(src, 1<<20)
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1000 {
		t.Fatalf("%d lines", n)
	}
	// 1.7 MB through a 64 KiB buffer: about 27 reads, plus the final EOF.
	if src.reads > 30 {
		t.Fatalf("%d reads for %d bytes; reads do not fill the buffer", src.reads, len(line)*1000)
	}
	if src.minAsk < initialSize-len(line) {
		t.Fatalf("a read asked for only %d bytes", src.minAsk)
	}
	if cap(r.buf) != initialSize {
		t.Fatalf("buffer grew to %d for lines that fit", cap(r.buf))
	}
}

type countingReader struct {
	r      io.Reader
	reads  int
	minAsk int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	if c.minAsk == 0 || len(p) < c.minAsk {
		c.minAsk = len(p)
	}
	return c.r.Read(p)
}

// patternReader yields a line of n 'x' bytes, then "\n", then tail.
type patternReader struct {
	n    int64
	tail []byte
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.n > 0 {
		k := int(min(int64(len(b)), p.n))
		for i := range k {
			b[i] = 'x'
		}
		p.n -= int64(k)
		return k, nil
	}
	if len(p.tail) == 0 {
		return 0, io.EOF
	}
	k := copy(b, p.tail)
	p.tail = p.tail[k:]
	return k, nil
}

// TestOversizedBoundedMemory reads a 50 MiB line with a 1 MiB maximum: the
// buffer must stay within the limit and the next line must come through.
func TestOversizedBoundedMemory(t *testing.T) {
	const maxLine = 1 << 20
	const size = 50 << 20
	r := NewReader(&patternReader{n: size, tail: []byte("\r\n{\"ok\":1}\nend")}, maxLine)
	if _, err := r.Next(); err != ErrLineTooLong {
		t.Fatalf("first Next: %v", err)
	}
	if got := cap(r.buf); got > maxLine+2 {
		t.Fatalf("buffer cap %d > maxLine+2 (%d)", got, maxLine+2)
	}
	if r.Discarded() != size+1 { // the 'x's and the '\r'
		t.Fatalf("Discarded %d, want %d", r.Discarded(), size+1)
	}
	line, err := r.Next()
	if err != nil || string(line) != `{"ok":1}` {
		t.Fatalf("after the oversized line: %q, %v", line, err)
	}
	if _, err := r.Next(); err != ErrTornLine {
		t.Fatalf("torn end: %v", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

// TestGrowsForBigLine: a line above 64 KiB but within the maximum makes
// the buffer grow by doubling, no further than the limit.
func TestGrowsForBigLine(t *testing.T) {
	big := strings.Repeat("y", 300<<10)
	r := NewReader(iotest.HalfReader(strings.NewReader("a\n"+big+"\nb\n")), 300<<10)
	got := readAll(t, r)
	if want := []result{{line: "a"}, {line: big}, {line: "b"}, {err: io.EOF}}; !slices.Equal(got, want) {
		t.Fatal("lines differ")
	}
	if cap(r.buf) != 300<<10+2 {
		t.Fatalf("buffer cap %d, want %d (doubling capped at maxLine+2)", cap(r.buf), 300<<10+2)
	}
}

var errBoom = errors.New("boom")

// TestErrorAfterData: complete lines come first, then ErrTornLine for the
// partial line, then the error, which sticks.
func TestErrorAfterData(t *testing.T) {
	for _, sameCall := range []bool{false, true} {
		var src io.Reader = io.MultiReader(strings.NewReader("a\nb\npart"), iotest.ErrReader(errBoom))
		if sameCall {
			src = &dataErrReader{data: []byte("a\nb\npart"), err: errBoom}
		}
		r := NewReader(src, 100)
		var got []result
		for range 5 {
			line, err := r.Next()
			got = append(got, result{string(line), err})
		}
		want := []result{{line: "a"}, {line: "b"}, {err: ErrTornLine}, {err: errBoom}, {err: errBoom}}
		if !slices.Equal(got, want) {
			t.Fatalf("same call %v: got %v", sameCall, got)
		}
		if r.Buffered() != 0 {
			t.Fatalf("Buffered %d after the error", r.Buffered())
		}
	}
}

type dataErrReader struct {
	data []byte
	err  error
}

func (d *dataErrReader) Read(p []byte) (int, error) {
	n := copy(p, d.data)
	d.data = d.data[n:]
	if len(d.data) == 0 {
		return n, d.err
	}
	return n, nil
}

func TestNoProgress(t *testing.T) {
	r := NewReader(zeroReader{}, 10)
	if _, err := r.Next(); err != io.ErrNoProgress {
		t.Fatalf("got %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestBuffered(t *testing.T) {
	r := NewReader(strings.NewReader("abc\ndefg\nhi"), 10)
	if line, _ := r.Next(); string(line) != "abc" || r.Buffered() != len("defg\nhi") {
		t.Fatalf("Buffered %d", r.Buffered())
	}
}

func TestLinesAliasBuffer(t *testing.T) {
	r := NewReader(strings.NewReader("abc\n"), 10)
	line, _ := r.Next()
	if &line[0] != &r.buf[0] {
		t.Fatal("line is a copy")
	}
}

func TestHugeMaxLine(t *testing.T) {
	r := NewReader(strings.NewReader("a\nbb\n"), math.MaxInt)
	if got := readAll(t, r); !slices.Equal(got, []result{{line: "a"}, {line: "bb"}, {err: io.EOF}}) {
		t.Fatalf("got %v", got)
	}
}

func TestNewReaderPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for maxLine 0")
		}
	}()
	NewReader(strings.NewReader(""), 0)
}

func TestReferenceSelfCheck(t *testing.T) {
	got, d := reference("a\r\n\nxxxxxx\nb", 5)
	want := []result{{line: "a"}, {err: ErrLineTooLong}, {err: ErrTornLine}, {err: io.EOF}}
	if !slices.Equal(got, want) || d != 6 {
		t.Fatalf("%v %d", got, d)
	}
	_ = bytes.MinRead
}
