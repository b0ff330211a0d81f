// Package envelope extracts the envelope of a Cisco Spaces firehose event
// (recordUid, recordTimestamp, eventType, the tenant fields, and where the
// payload is) from one JSON line without decoding the payload.
//
// On the wire order (the six envelope keys first, the payload key last) the
// scan reads only the envelope: the payload's end is taken to be the line's
// final "}" minus one, so the cost is independent of the payload's size. Any
// other order is handled exactly, by skipping values properly.
package envelope

import (
	"errors"
	"strconv"
)

// Envelope is what Scan extracts from one event line. Byte fields alias the
// line, except that a JSON string containing escapes is unescaped into a
// freshly allocated slice. A field absent from the line (or null) is nil.
type Envelope struct {
	ID               []byte // recordUid, never empty after a successful Scan
	Timestamp        int64  // recordTimestamp, epoch ms
	Type             []byte // eventType, never empty after a successful Scan
	SpacesTenantID   []byte // spacesTenantId
	SpacesTenantName []byte // spacesTenantName
	PartnerTenantID  []byte // partnerTenantId
	PayloadKey       []byte // e.g. "deviceLocationUpdate"; nil when the event has no payload (KEEP_ALIVE)
	Payload          []byte // the raw JSON value of PayloadKey (an object), nil when none: test this for presence
}

// Errors returned by Scan: the Missing ones as is, the others wrapped in an
// *Error that adds the byte offset (use errors.Is). Any error means the line
// is malformed and should be dropped.
var (
	ErrNotObject        = errors.New("envelope: not a JSON object")
	ErrSyntax           = errors.New("envelope: syntax error")
	ErrMissingID        = errors.New("envelope: missing recordUid")
	ErrMissingTimestamp = errors.New("envelope: missing recordTimestamp")
	ErrMissingType      = errors.New("envelope: missing eventType")
	ErrBadTimestamp     = errors.New("envelope: recordTimestamp is not an int64")
	ErrBadField         = errors.New("envelope: an envelope field is not a string")
)

// Error locates a Scan or SkipValue error in the line.
type Error struct {
	Offset int   // byte offset in the line where the problem was found
	Err    error // one of the Err* sentinels
}

func (e *Error) Error() string { return e.Err.Error() + " at byte " + strconv.Itoa(e.Offset) }

func (e *Error) Unwrap() error { return e.Err }

func errAt(err error, off int) error { return &Error{Offset: off, Err: err} }

// Envelope keys, as bits of a "seen" mask.
const (
	kID = 1 << iota
	kTimestamp
	kType
	kSpacesTenantID
	kSpacesTenantName
	kPartnerTenantID
	kAll = 1<<iota - 1
)

// wireOrder lists the envelope keys in the order Cisco sends them.
var wireOrder = [...]struct {
	quoted string
	bit    int
}{
	{`"recordUid"`, kID},
	{`"recordTimestamp"`, kTimestamp},
	{`"spacesTenantId"`, kSpacesTenantID},
	{`"spacesTenantName"`, kSpacesTenantName},
	{`"partnerTenantId"`, kPartnerTenantID},
	{`"eventType"`, kType},
}

// keyBit returns the envelope key bit for key, or 0 for any other key.
// Matching is exact (case-sensitive), as for protobuf JSON names.
func keyBit(key []byte) int {
	switch len(key) {
	case 9:
		switch string(key) {
		case "recordUid":
			return kID
		case "eventType":
			return kType
		}
	case 14:
		if string(key) == "spacesTenantId" {
			return kSpacesTenantID
		}
	case 15:
		switch string(key) {
		case "recordTimestamp":
			return kTimestamp
		case "partnerTenantId":
			return kPartnerTenantID
		}
	case 16:
		if string(key) == "spacesTenantName" {
			return kSpacesTenantName
		}
	}
	return 0
}

// Scan resets e and fills it from line, one JSON object. Leading and
// trailing JSON whitespace (including a trailing "\r") is allowed.
//
// The envelope keys are recordUid, recordTimestamp, eventType,
// spacesTenantId, spacesTenantName and partnerTenantId, in any order.
// recordUid and eventType must be non-empty strings; recordTimestamp an
// integer in int64 range, as a JSON number or a quoted one ("1641977166586",
// without escapes), with no sign but "-", no leading zeros, fraction or
// exponent. The tenant fields are optional (string or null). If a key
// repeats, its first occurrence counts and later ones are skipped.
//
// The payload is the first other key whose value is an object; other keys
// are skipped. When all six envelope keys come before the payload and the
// line's last non-space byte before its final "}" is a "}", the payload is
// taken to run up to that byte without being read: its content is not
// validated, and keys after it (if any) are neither read nor validated, in
// which case Payload includes them. This is the wire order, and the reason
// Scan costs O(envelope), not O(line). In every other case the payload is
// skipped exactly and the scan continues.
//
// Bytes that are not UTF-8 pass through unchanged. Scan does not allocate
// unless an envelope string or a key contains escapes (or it fails: errors
// carrying an offset are allocated). After an error, e holds whatever was
// scanned before it and must not be used.
func Scan(line []byte, e *Envelope) error {
	*e = Envelope{}
	n := len(line)
	for n > 0 && isSpace(line[n-1]) {
		n--
	}
	b := line[:n]
	i := skipSpace(b, 0)
	if i >= n || b[i] != '{' {
		return errAt(ErrNotObject, i)
	}
	i = skipSpace(b, i+1)
	seen, hasTS := 0, false
	if i < n && b[i] == '}' {
		return e.check(hasTS, i+1, n)
	}
	for next := 0; ; {
		// Key. On the wire order, it is the next envelope key: compare it
		// whole, quotes included, instead of scanning it.
		var key []byte
		var bit int
		var err error
		if next < len(wireOrder) && hasLiteral(b, i, wireOrder[next].quoted) {
			bit = wireOrder[next].bit
			i += len(wireOrder[next].quoted)
			next++
		} else {
			if i >= n || b[i] != '"' {
				return errAt(ErrSyntax, i)
			}
			kEnd, esc, err := scanString(b, i)
			if err != nil {
				return err
			}
			key = b[i+1 : kEnd-1]
			if esc {
				if key, err = unescape(key, i+1); err != nil {
					return err
				}
			}
			bit = keyBit(key)
			i = kEnd
			next = len(wireOrder)
		}
		i = skipSpace(b, i)
		if i >= n || b[i] != ':' {
			return errAt(ErrSyntax, i)
		}
		i = skipSpace(b, i+1)
		if i >= n {
			return errAt(ErrSyntax, i)
		}

		// Value.
		switch {
		case bit == 0:
			if b[i] != '{' || e.PayloadKey != nil {
				i, err = skipValue(b, i, 1)
				break
			}
			e.PayloadKey = key
			if seen == kAll {
				// Lazy: the payload ends where the object does.
				if j := skipSpaceBack(b, n-2); b[n-1] == '}' && j > i && b[j] == '}' {
					e.Payload = b[i : j+1]
					return e.check(hasTS, n, n)
				}
			}
			start := i
			if i, err = skipValue(b, i, 1); err == nil {
				e.Payload = b[start:i]
			}
		case seen&bit != 0: // a repeated envelope key: the first one counts
			i, err = skipValue(b, i, 1)
		case bit == kTimestamp:
			seen |= bit
			hasTS, i, err = e.scanTimestamp(b, i)
		default:
			seen |= bit
			var v []byte
			v, i, err = scanField(b, i)
			switch bit {
			case kID:
				e.ID = v
			case kType:
				e.Type = v
			case kSpacesTenantID:
				e.SpacesTenantID = v
			case kSpacesTenantName:
				e.SpacesTenantName = v
			case kPartnerTenantID:
				e.PartnerTenantID = v
			}
		}
		if err != nil {
			return err
		}

		// Separator.
		i = skipSpace(b, i)
		if i < n && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < n && b[i] == '}' {
			return e.check(hasTS, i+1, n)
		}
		return errAt(ErrSyntax, i)
	}
}

// check is the end of a scan: the object closed at end-1 must end the
// line (n), and the required fields must be there.
func (e *Envelope) check(hasTS bool, end, n int) error {
	switch {
	case end != n:
		return errAt(ErrSyntax, end)
	case len(e.ID) == 0:
		return ErrMissingID
	case !hasTS:
		return ErrMissingTimestamp
	case len(e.Type) == 0:
		return ErrMissingType
	}
	return nil
}

// scanField reads the string (or null) value of an envelope key at b[i].
func scanField(b []byte, i int) (v []byte, end int, err error) {
	switch b[i] {
	case '"':
		end, esc, err := scanString(b, i)
		if err != nil {
			return nil, 0, err
		}
		v = b[i+1 : end-1]
		if esc {
			if v, err = unescape(v, i+1); err != nil {
				return nil, 0, err
			}
		}
		return v, end, nil
	case 'n':
		if hasLiteral(b, i, "null") {
			return nil, i + 4, nil
		}
		return nil, 0, errAt(ErrSyntax, i)
	}
	return nil, 0, errAt(ErrBadField, i)
}

// scanTimestamp reads the recordTimestamp value at b[i]: an integer, a
// quoted integer or null (ok == false).
func (e *Envelope) scanTimestamp(b []byte, i int) (ok bool, end int, err error) {
	switch c := b[i]; {
	case c == '"':
		v, j, err := parseInt(b, i+1)
		if err != nil {
			return false, 0, err
		}
		if j >= len(b) || b[j] != '"' {
			return false, 0, errAt(ErrBadTimestamp, j)
		}
		e.Timestamp = v
		return true, j + 1, nil
	case c == '-' || c-'0' < 10:
		v, j, err := parseInt(b, i)
		if err != nil {
			return false, 0, err
		}
		e.Timestamp = v
		return true, j, nil
	case c == 'n' && hasLiteral(b, i, "null"):
		return false, i + 4, nil
	}
	return false, 0, errAt(ErrBadTimestamp, i)
}

// parseInt parses -?(0|[1-9][0-9]*) at b[i] into an int64. A fraction, an
// exponent or an out-of-range value is ErrBadTimestamp.
func parseInt(b []byte, i int) (int64, int, error) {
	start := i
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	if i >= len(b) || b[i]-'0' >= 10 {
		return 0, 0, errAt(ErrBadTimestamp, start)
	}
	var u uint64
	if b[i] == '0' {
		i++
	} else {
		for ; i < len(b) && b[i]-'0' < 10; i++ {
			if u > (1<<63)/10 {
				return 0, 0, errAt(ErrBadTimestamp, start)
			}
			u = u*10 + uint64(b[i]-'0')
		}
		if u > 1<<63 || (u == 1<<63 && !neg) {
			return 0, 0, errAt(ErrBadTimestamp, start)
		}
	}
	if i < len(b) {
		switch b[i] {
		case '.', 'e', 'E', '+', '-':
			return 0, 0, errAt(ErrBadTimestamp, start)
		default:
			if b[i]-'0' < 10 { // a leading zero
				return 0, 0, errAt(ErrBadTimestamp, start)
			}
		}
	}
	if neg {
		return int64(-u), i, nil //nolint:gosec // u ≤ 1<<63 checked above
	}
	return int64(u), i, nil
}

func hasLiteral(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

func isSpace(c byte) bool { return c <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r') }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipSpaceBack returns the index of the last non-space byte at or before
// i, or -1.
func skipSpaceBack(b []byte, i int) int {
	for i >= 0 && isSpace(b[i]) {
		i--
	}
	return i
}
