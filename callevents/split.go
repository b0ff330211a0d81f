package callevents

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrMalformed is the error of Split (wrapped with detail) for bytes that are not JSON.
var ErrMalformed = errors.New("callevents: malformed JSON")

// Split cuts one WebSocket message into the JSON values it holds. The documented case is one object
// per message; the undocumented ones are tolerated: several values one after another (joined by
// newlines or nothing), and a top-level array, whose elements are taken one by one. Whitespace around
// values is dropped. The values alias msg, except array elements, which are copies.
//
// If some part is not JSON, Split returns the values before it and an error wrapping ErrMalformed:
// a torn tail never costs the good events in front of it. A message of whitespace only holds no
// value and is no error.
func Split(msg []byte) ([][]byte, error) {
	t := bytes.TrimSpace(msg)
	if len(t) == 0 {
		return nil, nil
	}
	if t[0] != '[' && json.Valid(t) {
		return [][]byte{t}, nil // the common case: one value
	}
	var out [][]byte
	dec := json.NewDecoder(bytes.NewReader(t))
	for {
		start := dec.InputOffset()
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("%w: after %d values: %v", ErrMalformed, len(out), err)
		}
		v := bytes.TrimSpace(t[start:dec.InputOffset()])
		if len(v) > 0 && v[0] == '[' {
			var elems []json.RawMessage
			if err := json.Unmarshal(v, &elems); err != nil {
				return out, fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			for _, e := range elems {
				out = append(out, bytes.TrimSpace(e))
			}
			continue
		}
		out = append(out, v)
	}
}
