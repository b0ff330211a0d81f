// Package printable makes text from a server safe to print on a terminal and
// to put in an error: the one cleaner for close reasons, status bodies and
// error messages, wherever they are shown.
package printable

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean makes text from a server (a close reason, an error message, a
// status body) safe to print on a terminal: escape sequences (CSI, OSC and
// the rest) are removed, other control characters (C0, DEL, C1) and the
// bidirectional overrides dropped, line breaks and tabs turned into spaces,
// and invalid UTF-8 replaced by U+FFFD.
func Clean(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case r == 0x1b: // ESC: skip the whole sequence
			i += escapeLen(s[i:])
			continue
		case r == 0x9b: // C1 CSI: parameters and a final byte follow
			i += size + csiLen(s[i+size:])
			continue
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		case unicode.Is(unicode.Cf, r): // format characters: bidi overrides, zero-width ones
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// escapeLen is the length of the escape sequence at the start of s (s[0] is
// ESC): CSI (ESC [ params final), OSC and the other strings (ESC ] ... BEL
// or ESC \), or ESC and one more byte.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		return 2 + csiLen(s[2:])
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC: up to BEL or ST
		for j := 2; j < len(s); j++ {
			if s[j] == 0x07 {
				return j + 1
			}
			if s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\' {
				return j + 2
			}
		}
		return len(s)
	}
	// ESC, intermediates (0x20-0x2f), one final byte.
	j := 1
	for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
		j++
	}
	if j < len(s) {
		j++
	}
	return j
}

// csiLen is the length of a CSI's parameters, intermediates and final byte.
func csiLen(s string) int {
	for j := 0; j < len(s); j++ {
		if s[j] >= 0x40 && s[j] <= 0x7e {
			return j + 1
		}
		if s[j] < 0x20 || s[j] > 0x7e { // not a CSI byte: the sequence is cut here
			return j
		}
	}
	return len(s)
}
