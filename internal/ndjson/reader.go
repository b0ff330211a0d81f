// Package ndjson splits a stream of newline-delimited JSON into lines in
// bounded memory: a line longer than the maximum is read to its end and
// thrown away, never held whole.
package ndjson

import (
	"bytes"
	"errors"
	"io"
	"math"
)

var (
	// ErrLineTooLong is returned once per line longer than the maximum; the
	// line has been discarded and the next call continues after it.
	ErrLineTooLong = errors.New("ndjson: line exceeds the maximum size")
	// ErrTornLine is returned once when the stream ends (io.EOF or a read
	// error) inside a line; the partial bytes are dropped and the next call
	// returns the stream's error.
	ErrTornLine = errors.New("ndjson: stream ended inside a line")

	errNegativeRead = errors.New("ndjson: reader returned an invalid count")
)

// initialSize is the buffer a Reader starts with.
const initialSize = 64 << 10

// maxEmptyReads is how many (0, nil) reads in a row make io.ErrNoProgress.
const maxEmptyReads = 100

// Reader returns the lines of a stream one by one. It is not safe for
// concurrent use.
//
// Memory: the buffer starts at 64 KiB and grows, by doubling, only while a
// single line needs it, up to max(64 KiB, maxLine+2) bytes (the line, a
// "\r" and the "\n"); it never shrinks. An oversized line is discarded as
// it arrives. Lines that fit are returned as views of the buffer (no copy),
// each byte is searched for "\n" once, and each read asks for all the free
// space, so one read can bring many lines.
type Reader struct {
	r          io.Reader
	buf        []byte
	limit      int   // largest buffer size
	max        int   // maximum line length
	start      int   // first byte not yet returned
	end        int   // end of the buffered bytes
	searched   int   // buf[start:searched] holds no '\n'
	discarding bool  // inside an oversized line: dropping bytes until its '\n'
	discarded  int64 // bytes of oversized lines dropped
	err        error // read error, reported once the buffered lines are out
}

// NewReader returns a Reader of r for lines of at most maxLine bytes
// (excluding the "\n" and a "\r" before it). It panics if maxLine < 1;
// values above math.MaxInt/2 act as math.MaxInt/2.
func NewReader(r io.Reader, maxLine int) *Reader {
	return newReaderSize(r, maxLine, initialSize)
}

// newReaderSize lets tests start with a small buffer.
func newReaderSize(r io.Reader, maxLine, size int) *Reader {
	if maxLine < 1 {
		panic("ndjson: maxLine < 1")
	}
	maxLine = min(maxLine, math.MaxInt/2)
	return &Reader{r: r, buf: make([]byte, size), limit: max(maxLine+2, size), max: maxLine}
}

// Next returns the next non-empty line without its "\n" (and without a
// "\r" before it). The slice aliases the Reader's buffer and is valid only
// until the next call.
//
// A line longer than maxLine is read to its "\n" in bounded memory and
// dropped, and Next returns ErrLineTooLong; the next call continues with
// the following line. When the stream ends inside a line, Next returns
// ErrTornLine once (ErrLineTooLong if that partial line was already too
// long), then io.EOF. A read error is returned after the complete lines
// buffered before it (and ErrTornLine for a partial line), and again on
// every later call.
func (r *Reader) Next() ([]byte, error) {
	for {
		if r.discarding {
			if i := bytes.IndexByte(r.buf[r.start:r.end], '\n'); i >= 0 {
				r.discarded += int64(i)
				r.start += i + 1
				r.searched = r.start
				r.discarding = false
				return nil, ErrLineTooLong
			}
			r.discarded += int64(r.end - r.start)
			r.start, r.end, r.searched = 0, 0, 0
			if r.err != nil {
				r.discarding = false
				return nil, ErrLineTooLong
			}
		} else {
			if i := bytes.IndexByte(r.buf[r.searched:r.end], '\n'); i >= 0 {
				nl := r.searched + i
				line := r.buf[r.start:nl]
				r.start, r.searched = nl+1, nl+1
				raw := len(line)
				if raw > 0 && line[raw-1] == '\r' {
					line = line[:raw-1]
				}
				if len(line) > r.max {
					r.discarded += int64(raw)
					return nil, ErrLineTooLong
				}
				if len(line) == 0 {
					continue
				}
				return line, nil
			}
			r.searched = r.end
			if r.end-r.start > r.max+1 {
				// Too long whatever comes next (a "\r" would still leave more
				// than max bytes): drop it as it arrives.
				r.discarded += int64(r.end - r.start)
				r.start, r.end, r.searched = 0, 0, 0
				r.discarding = true
				continue
			}
			if r.err != nil {
				partial := r.start < r.end
				r.start, r.end, r.searched = 0, 0, 0
				if partial {
					// Cut inside a line, cleanly (EOF) or not (a reset, a
					// truncated chunk): report the torn line, then the error.
					return nil, ErrTornLine
				}
				return nil, r.err
			}
		}
		r.fill()
	}
}

// fill reads once into the free space, making room first: it compacts the
// partial line to the front, and grows the buffer only when that line
// already fills it.
func (r *Reader) fill() {
	if r.start > 0 {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.searched -= r.start
		r.start, r.end = 0, n
	}
	if r.end == len(r.buf) {
		size := min(2*len(r.buf), r.limit)
		if size <= len(r.buf) {
			panic("ndjson: internal error: buffer full") // Next discards before this
		}
		buf := make([]byte, size)
		copy(buf, r.buf[:r.end])
		r.buf = buf
	}
	for range maxEmptyReads {
		n, err := r.r.Read(r.buf[r.end:])
		if n < 0 || n > len(r.buf)-r.end {
			r.err = errNegativeRead
			return
		}
		r.end += n
		if err != nil {
			r.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	r.err = io.ErrNoProgress
}

// Buffered returns the number of bytes held and not yet returned.
func (r *Reader) Buffered() int { return r.end - r.start }

// Discarded returns the number of bytes of oversized lines thrown away so
// far (everything before each such line's "\n").
func (r *Reader) Discarded() int64 { return r.discarded }
