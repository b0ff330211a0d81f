package firehosetest

import (
	"strconv"
	"time"
)

// jw appends a JSON object member by member, in the order written (the wire's key order matters).
type jw struct {
	b     []byte
	comma bool // a member was written at this level: the next one needs a comma
}

func (w *jw) key(k string) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	w.comma = true
}

func (w *jw) str(k, v string)        { w.key(k); w.b = appendStr(w.b, v) }
func (w *jw) i64(k string, v int64)  { w.key(k); w.b = strconv.AppendInt(w.b, v, 10) }
func (w *jw) int(k string, v int)    { w.i64(k, int64(v)) }
func (w *jw) raw(k string, v []byte) { w.key(k); w.b = append(w.b, v...) }

func (w *jw) boolean(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

// fixed writes v/10^dec as a number with a decimal point (see appendFixed).
func (w *jw) fixed(k string, v int64, dec int) { w.key(k); w.b = appendFixed(w.b, v, dec) }

// hexStr writes the string prefix + v in unpadded lower-case hex.
func (w *jw) hexStr(k, prefix string, v uint32) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = append(w.b, prefix...)
	w.b = strconv.AppendUint(w.b, uint64(v), 16)
	w.b = append(w.b, '"')
}

// intStr writes the string prefix + v in decimal.
func (w *jw) intStr(k, prefix string, v int64) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = append(w.b, prefix...)
	w.b = strconv.AppendInt(w.b, v, 10)
	w.b = append(w.b, '"')
}

// mac writes a MAC address made of the low 48 bits of x.
func (w *jw) mac(k string, x uint64) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = appendMAC(w.b, x)
	w.b = append(w.b, '"')
}

// dateTime writes epoch ms as an ISO-8601 string at a fixed UTC offset (seconds).
func (w *jw) dateTime(k string, ms int64, offset int) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = appendDateTime(w.b, ms, offset)
	w.b = append(w.b, '"')
}

// uuid writes a random UUID-shaped string.
func (w *jw) uuid(k string, r *rng) {
	a, c := r.u64(), r.u64()
	w.key(k)
	w.b = append(w.b, '"')
	w.b = appendHex(w.b, a>>32, 8)
	w.b = append(w.b, '-')
	w.b = appendHex(w.b, a>>16, 4)
	w.b = append(w.b, '-')
	w.b = appendHex(w.b, a, 4)
	w.b = append(w.b, '-')
	w.b = appendHex(w.b, c>>48, 4)
	w.b = append(w.b, '-')
	w.b = appendHex(w.b, c, 12)
	w.b = append(w.b, '"')
}

// strs writes a string array; no values give [].
func (w *jw) strs(k string, vs ...string) {
	w.key(k)
	w.b = append(w.b, '[')
	for i, v := range vs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendStr(w.b, v)
	}
	w.b = append(w.b, ']')
}

// obj opens a member object; end closes it.
func (w *jw) obj(k string) {
	w.key(k)
	w.b = append(w.b, '{')
	w.comma = false
}

func (w *jw) end() {
	w.b = append(w.b, '}')
	w.comma = true
}

// arr opens a member array of objects: call elem before each element, end after it, then endArr.
func (w *jw) arr(k string) {
	w.key(k)
	w.b = append(w.b, '[')
	w.comma = false
}

func (w *jw) elem() {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '{')
	w.comma = false
}

func (w *jw) endArr() {
	w.b = append(w.b, ']')
	w.comma = true
}

// appendStr appends s as a JSON string.
func appendStr(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return appendEscaped(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendEscaped(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendHex appends the low 4·n bits of x as n lower-case hex digits.
func appendHex(b []byte, x uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, hexDigits[x>>(4*uint(i))&15])
	}
	return b
}

// appendHexUpper is appendHex in upper case.
func appendHexUpper(b []byte, x uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, "0123456789ABCDEF"[x>>(4*uint(i))&15])
	}
	return b
}

// appendMAC appends the low 48 bits of x as a MAC address, "aa:bb:cc:dd:ee:ff".
func appendMAC(b []byte, x uint64) []byte {
	for i := range 6 {
		if i > 0 {
			b = append(b, ':')
		}
		b = appendHex(b, x>>(8*(5-i)), 2)
	}
	return b
}

// appendDateTime appends epoch ms as an ISO-8601 local time with its UTC offset (seconds), e.g.
// "2024-05-01T10:20:30.123+02:00" ("Z" for offset 0).
func appendDateTime(b []byte, ms int64, offset int) []byte {
	t := time.UnixMilli(ms + int64(offset)*1000).UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendPadded(b, y, 4)
	b = append(b, '-')
	b = appendPadded(b, int(mo), 2)
	b = append(b, '-')
	b = appendPadded(b, d, 2)
	b = append(b, 'T')
	b = appendPadded(b, h, 2)
	b = append(b, ':')
	b = appendPadded(b, mi, 2)
	b = append(b, ':')
	b = appendPadded(b, s, 2)
	b = append(b, '.')
	b = appendPadded(b, t.Nanosecond()/1e6, 3)
	if offset == 0 {
		return append(b, 'Z')
	}
	if offset < 0 {
		b = append(b, '-')
		offset = -offset
	} else {
		b = append(b, '+')
	}
	b = appendPadded(b, offset/3600, 2)
	b = append(b, ':')
	return appendPadded(b, offset/60%60, 2)
}

// appendPadded appends a non-negative v with at least n digits.
func appendPadded(b []byte, v, n int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for v > 0 || n > 0 {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		n--
	}
	return append(b, tmp[i:]...)
}

var pow10 = [...]int64{1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// appendFixed appends v/10^dec (dec ≤ 9) with a decimal point and without trailing zeros, keeping
// at least one decimal: appendFixed(b, 3280, 1) gives "328.0", appendFixed(b, -9990, 1) "-999.0".
func appendFixed(b []byte, v int64, dec int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	p := pow10[dec]
	b = strconv.AppendInt(b, v/p, 10)
	b = append(b, '.')
	frac := v % p
	if frac == 0 {
		return append(b, '0')
	}
	var tmp [9]byte
	for i := dec - 1; i >= 0; i-- {
		tmp[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := dec
	for tmp[n-1] == '0' {
		n--
	}
	return append(b, tmp[:n]...)
}
