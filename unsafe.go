package firehose

import "unsafe"

// Every unsafe view of the package lives in this file. The rules:
//
//   - A view never outlives the memory it views, and that memory is never
//     written again while a view of it exists: strings of the descriptors or
//     of a decoded record (immutable), the owned copy of a line (an Event's
//     raw, never written after the copy), a gRPC message's fresh slice
//     (handed over to the Event, never written).
//   - Borrowed bytes (a reader's buffer, reused after the callback) are never
//     viewed as a string that could escape: they are copied first.
//   - No other file imports unsafe; a new view helper goes here, with its
//     own rule in its comment.

// stringBytes views an immutable string as bytes (never written).
func stringBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// bytesString views bytes that are never written again as a string.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// offsetIn reports where field starts inside base, if it aliases it.
func offsetIn(base, field []byte) (int, bool) {
	if len(field) == 0 || len(base) == 0 {
		return 0, false
	}
	b := uintptr(unsafe.Pointer(unsafe.SliceData(base)))
	f := uintptr(unsafe.Pointer(unsafe.SliceData(field)))
	if f < b || f+uintptr(len(field)) > b+uintptr(len(base)) {
		return 0, false
	}
	return int(f - b), true
}

// viewIn returns field as a string: a view into raw (the owned copy of base)
// when field aliases base, else a copy.
func viewIn(raw, base, field []byte) string {
	if len(field) == 0 {
		return ""
	}
	if off, ok := offsetIn(base, field); ok {
		return unsafe.String(&raw[off], len(field))
	}
	return string(field)
}
