package benchrun

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"sync"
)

// splitter is a loopback relay in front of the mock's WebSocket channel
// that writes every server frame with its own write(2), as a server that
// flushes each message does (the mock itself batches what is ready into
// one write). The handshake and the client's frames pass through as they
// come. It runs in the mock's process, so its cost is not the client's.
type splitter struct {
	ln       net.Listener
	upstream string // host:port of the mock
	wg       sync.WaitGroup
}

func startSplitter(upstream string) (*splitter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &splitter{ln: ln, upstream: upstream}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *splitter) addr() string { return s.ln.Addr().String() }

func (s *splitter) close() {
	s.ln.Close()
	s.wg.Wait()
}

func (s *splitter) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.relay(c)
		}()
	}
}

func (s *splitter) relay(c net.Conn) {
	defer c.Close()
	u, err := net.Dial("tcp", s.upstream)
	if err != nil {
		return
	}
	defer u.Close()
	go func() {
		io.Copy(u, c) // the upgrade request, then the client's frames
		u.Close()
	}()
	br := bufio.NewReaderSize(u, 256<<10)
	// The response head, through to its blank line.
	var head []byte
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		b, err := br.ReadByte()
		if err != nil {
			return
		}
		head = append(head, b)
	}
	if _, err := c.Write(head); err != nil {
		return
	}
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101")) {
		io.Copy(c, br)
		return
	}
	var frame []byte
	for {
		n, err := frameSize(br)
		if err != nil {
			return
		}
		if cap(frame) < n {
			frame = make([]byte, n)
		}
		frame = frame[:n]
		if _, err := io.ReadFull(br, frame); err != nil {
			return
		}
		if _, err := c.Write(frame); err != nil { // one frame, one write(2)
			return
		}
	}
}

// frameSize is the size of the next WebSocket frame in br, header included
// (RFC 6455 §5.2), without consuming it.
func frameSize(br *bufio.Reader) (int, error) {
	h, err := br.Peek(2)
	if err != nil {
		return 0, err
	}
	hdr, n := 2, uint64(h[1]&0x7f)
	switch n {
	case 126:
		hdr = 4
	case 127:
		hdr = 10
	}
	if h[1]&0x80 != 0 {
		hdr += 4 // masked (a server does not mask, but be exact)
	}
	if hdr > 2 {
		if h, err = br.Peek(hdr); err != nil {
			return 0, err
		}
		switch n {
		case 126:
			n = uint64(binary.BigEndian.Uint16(h[2:]))
		case 127:
			n = binary.BigEndian.Uint64(h[2:])
		}
	}
	if n > 1<<30 {
		return 0, io.ErrUnexpectedEOF
	}
	return hdr + int(n), nil
}
