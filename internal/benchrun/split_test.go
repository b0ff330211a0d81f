package benchrun

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"testing"
)

// wsFrame is an unmasked text frame of n payload bytes (RFC 6455 §5.2).
func wsFrame(n int) []byte {
	var h []byte
	switch {
	case n < 126:
		h = []byte{0x81, byte(n)}
	case n < 1<<16:
		h = binary.BigEndian.AppendUint16([]byte{0x81, 126}, uint16(n))
	default:
		h = binary.BigEndian.AppendUint64([]byte{0x81, 127}, uint64(n))
	}
	return append(h, bytes.Repeat([]byte{'x'}, n)...)
}

// frameSize reads the three length forms, and leaves the frame unread.
func TestFrameSize(t *testing.T) {
	for _, n := range []int{0, 125, 126, 65535, 65536, 200000} {
		frame := wsFrame(n)
		br := bufio.NewReader(bytes.NewReader(append(frame, wsFrame(1)...)))
		got, err := frameSize(br)
		if err != nil || got != len(frame) {
			t.Errorf("payload %d: frameSize = %d, %v; want %d", n, got, err, len(frame))
		}
		if br.Buffered() == 0 {
			t.Errorf("payload %d: frameSize consumed the frame", n)
		}
	}
}
