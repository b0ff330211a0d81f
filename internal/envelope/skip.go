package envelope

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting SkipValue accepts, as encoding/json does.
const maxDepth = 10000

// plain[c] is true for bytes that stand for themselves inside a JSON
// string: not '"', not '\\', not a control character. Bytes ≥ 0x80 are
// plain (UTF-8 is not checked).
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString finds the end of the string starting with the quote at b[i].
// It returns the index just past the closing quote and whether the string
// contains escapes; escapes are checked only for being two bytes long
// here (unescape and validEscapes check the rest).
func scanString(b []byte, i int) (end int, esc bool, err error) {
	j := i + 1
	for {
		// Eight bytes at a time while they last, then byte by byte.
		for j+8 <= len(b) {
			if m := special8(binary.LittleEndian.Uint64(b[j:])); m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				goto found
			}
			j += 8
		}
		for j < len(b) && plain[b[j]] {
			j++
		}
		if j >= len(b) {
			return 0, false, errAt(ErrSyntax, j)
		}
	found:
		switch b[j] {
		case '"':
			return j + 1, esc, nil
		case '\\':
			esc = true
			j += 2
		default: // a control character
			return 0, false, errAt(ErrSyntax, j)
		}
	}
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special8 flags the bytes of x (8 bytes, little-endian) that are '"',
// '\\' or < 0x20, in the high bit of each byte. Borrows can flag bytes
// above a flagged one wrongly, but never below, so the lowest flag is exact.
func special8(x uint64) uint64 {
	q := x ^ ('"' * ones)
	s := x ^ ('\\' * ones)
	return ((q-ones) & ^q | (s-ones) & ^s | (x-0x20*ones) & ^x) & highs
}

// unescape decodes the content s of a JSON string that contains escapes
// into a new slice; off is the offset of s in the line (for errors). Like
// encoding/json, an invalid or unpaired surrogate escape becomes U+FFFD.
// Other bytes, UTF-8 or not, are copied as they are.
func unescape(s []byte, off int) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return nil, errAt(ErrSyntax, off+i)
		}
		switch s[i+1] {
		case '"', '\\', '/':
			out = append(out, s[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(s, i+2)
			if r < 0 {
				return nil, errAt(ErrSyntax, off+i)
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2 := hex4(s, i+2); r2 >= 0 && s[i] == '\\' && s[i+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						out = utf8.AppendRune(out, d)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return nil, errAt(ErrSyntax, off+i)
		}
		i += 2
	}
	return out, nil
}

// hex4 decodes the four hex digits at s[i:], or returns -1.
func hex4(s []byte, i int) rune {
	if i < 0 || len(s)-i < 4 {
		return -1
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// validEscapes checks the escapes in the content s of a JSON string.
func validEscapes(s []byte, off int) error {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		i++
		if i >= len(s) {
			return errAt(ErrSyntax, off+i)
		}
		switch s[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		case 'u':
			if hex4(s, i+1) < 0 {
				return errAt(ErrSyntax, off+i)
			}
			i += 4
		default:
			return errAt(ErrSyntax, off+i)
		}
	}
	return nil
}

// SkipValue returns the index just past the JSON value that starts at b[i]
// (after optional whitespace). It validates the value fully (strings and
// their escapes, numbers, literals, nesting up to 10000 levels) except
// that bytes ≥ 0x80 are not checked for being UTF-8. Errors are *Error
// values wrapping ErrSyntax.
func SkipValue(b []byte, i int) (end int, err error) {
	return skipValue(b, i, 0)
}

func skipValue(b []byte, i, depth int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return 0, errAt(ErrSyntax, i)
	}
	switch c := b[i]; c {
	case '"':
		end, esc, err := scanString(b, i)
		if err == nil && esc {
			err = validEscapes(b[i+1:end-1], i+1)
		}
		return end, err
	case '{', '[':
		return skipContainer(b, i, depth+1)
	case 't':
		return literal(b, i, "true")
	case 'f':
		return literal(b, i, "false")
	case 'n':
		return literal(b, i, "null")
	default:
		if c == '-' || c-'0' < 10 {
			return skipNumber(b, i)
		}
	}
	return 0, errAt(ErrSyntax, i)
}

func literal(b []byte, i int, lit string) (int, error) {
	if !hasLiteral(b, i, lit) {
		return 0, errAt(ErrSyntax, i)
	}
	return i + len(lit), nil
}

// skipContainer skips the object or array opening at b[i].
func skipContainer(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return 0, errAt(ErrSyntax, i)
	}
	obj := b[i] == '{'
	closer := byte(']')
	if obj {
		closer = '}'
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, nil
	}
	for {
		var err error
		if obj {
			if i >= len(b) || b[i] != '"' {
				return 0, errAt(ErrSyntax, i)
			}
			if i, err = skipValue(b, i, depth); err != nil {
				return 0, err
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return 0, errAt(ErrSyntax, i)
			}
			i++
		}
		if i, err = skipValue(b, i, depth); err != nil {
			return 0, err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, errAt(ErrSyntax, i)
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case closer:
			return i + 1, nil
		default:
			return 0, errAt(ErrSyntax, i)
		}
	}
}

// skipNumber skips -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i].
func skipNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(b) && b[i]-'0' < 10 {
			i++
		}
		return i > j
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if !digits() {
		return 0, errAt(ErrSyntax, start)
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return 0, errAt(ErrSyntax, start)
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return 0, errAt(ErrSyntax, start)
		}
	}
	return i, nil
}
