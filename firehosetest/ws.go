package firehosetest

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The WebSocket channel: the same path, parameters, key check, refusals (plain HTTP responses
// before the upgrade), log and script as NDJSON; each line goes out as one text message ending in
// "\n", as Cisco sends it. The handshake response carries a Date header.
//
// The script's faults on this channel:
//
//	Cut                   the TCP connection is closed without a close frame
//	CutMidLine            a frame that announces the whole message carries only its first half, then Cut
//	Stall                 nothing more is sent, but pings are still answered
//	EndStream             a close frame with Conn.CloseCode (default 1000) and Conn.Message as its reason
//	Inject BinaryMessage  a binary message holding an event; Oversized: a text message of Size bytes
//	Conn.LinesPerMessage  several lines ready at once packed into one text message
//
// permessage-deflate is accepted when the client offers it. Closing the server cuts open streams.

const (
	wsWriteBuffer = 32 << 10
	wsCloseWait   = time.Second // how long EndStream waits for the client's close frame
	wsControlWait = time.Second // deadline of a pong or close frame
	opText        = websocket.TextMessage
	opBinary      = websocket.BinaryMessage
)

// serveWS serves r if it asks for a WebSocket upgrade and reports whether it did.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) bool {
	if !websocket.IsWebSocketUpgrade(r) {
		return false
	}
	sess := s.openHTTP(w, r, ChannelWS)
	if sess == nil {
		return true
	}
	defer sess.close()

	up := websocket.Upgrader{
		HandshakeTimeout:  10 * time.Second,
		WriteBufferSize:   wsWriteBuffer,
		EnableCompression: true,
		CheckOrigin:       func(*http.Request) bool { return true },
	}
	ws, err := up.Upgrade(w, r, http.Header{"Date": {time.Now().UTC().Format(http.TimeFormat)}})
	if err != nil {
		return true // Upgrade has answered with an HTTP error
	}
	st := &wsStream{ws: ws, nc: ws.NetConn(), compress: offersDeflate(r.Header), batch: max(sess.conn.LinesPerMessage, 1)}
	if !st.compress {
		st.bw = bufio.NewWriterSize(st.nc, wsWriteBuffer)
	}
	st.serve(r.Context(), sess)
	return true
}

// offersDeflate reports whether the client offered permessage-deflate (which Upgrade then accepts).
func offersDeflate(h http.Header) bool {
	for _, v := range h.Values("Sec-Websocket-Extensions") {
		for ext := range strings.SplitSeq(v, ",") {
			name, _, _ := strings.Cut(ext, ";")
			if strings.TrimSpace(name) == "permessage-deflate" {
				return true
			}
		}
	}
	return false
}

// wsStream writes one session's frames. Without compression it frames messages itself into a
// buffered writer (one syscall per batch of ready lines, and torn frames); with compression gorilla
// writes them. A reader goroutine answers pings and the client's close frame and notices the client
// going away.
type wsStream struct {
	ws       *websocket.Conn
	nc       net.Conn
	bw       *bufio.Writer // nil when gorilla compresses
	compress bool
	wmu      sync.Mutex // raw writes vs the reader's pongs and close replies
	batch    int
	msg      []byte // the text message being packed
	lines    int
	hdr      []byte
}

func (st *wsStream) serve(parent context.Context, sess *session) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	// The end of the stream, the client's departure and the server's Close all end ctx; closing
	// the socket then unblocks any write.
	stop := context.AfterFunc(ctx, func() { st.nc.Close() })
	defer stop()

	ws := st.ws
	ws.SetReadLimit(64 << 10) // a client sends control frames only
	ws.SetPingHandler(func(data string) error {
		st.control(websocket.PongMessage, []byte(data))
		return nil
	})
	ws.SetCloseHandler(func(code int, _ string) error {
		st.control(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""))
		return nil
	})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer cancel()
		for {
			_, r, err := ws.NextReader()
			if err != nil {
				return
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
		}
	}()
	defer func() {
		st.nc.Close()
		<-readerDone
	}()

	for {
		f, err := sess.next(ctx)
		switch {
		case errors.Is(err, errCut):
			st.flush()
			return // the deferred Close cuts without a close frame
		case errors.Is(err, io.EOF):
			if st.flush() != nil {
				return
			}
			code := sess.conn.CloseCode
			if code == 0 {
				code = websocket.CloseNormalClosure
			}
			st.control(websocket.CloseMessage, websocket.FormatCloseMessage(code, truncateReason(sess.conn.Message)))
			t := time.NewTimer(wsCloseWait)
			defer t.Stop()
			select {
			case <-readerDone:
			case <-t.C:
			case <-ctx.Done():
			}
			return
		case err != nil:
			return
		}
		switch {
		case f.partial:
			if st.writeTorn(f.line) != nil {
				return
			}
			continue // next returns errCut
		case f.kind == frameBinary:
			if st.endMessage() != nil || st.write(opBinary, append(f.line, '\n')) != nil {
				return
			}
		default:
			st.msg = append(st.msg, f.line...)
			st.msg = append(st.msg, '\n')
			if st.lines++; st.lines >= st.batch && st.endMessage() != nil {
				return
			}
		}
		if !sess.pending() && st.flush() != nil {
			return
		}
	}
}

// endMessage writes the text message being packed, if any.
func (st *wsStream) endMessage() error {
	if st.lines == 0 {
		return nil
	}
	err := st.write(opText, st.msg)
	st.msg, st.lines = st.msg[:0], 0
	if cap(st.msg) > 1<<20 {
		st.msg = nil
	}
	return err
}

// write sends one whole message.
func (st *wsStream) write(op int, payload []byte) error {
	if st.compress {
		return st.ws.WriteMessage(op, payload)
	}
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.hdr = appendFrameHeader(st.hdr[:0], op, len(payload))
	st.bw.Write(st.hdr)
	_, err := st.bw.Write(payload)
	return err
}

// writeTorn sends a frame announcing more bytes than half, and half.
func (st *wsStream) writeTorn(half []byte) error {
	if err := st.flush(); err != nil {
		return err
	}
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.hdr = appendFrameHeader(st.hdr[:0], opText, 2*len(half)+2)
	_, err := st.nc.Write(append(st.hdr, half...))
	return err
}

// flush sends what is packed and buffered.
func (st *wsStream) flush() error {
	if err := st.endMessage(); err != nil {
		return err
	}
	if st.bw == nil {
		return nil
	}
	st.wmu.Lock()
	defer st.wmu.Unlock()
	return st.bw.Flush()
}

// control writes a control frame between raw writes, then clears the write deadline gorilla set
// for it (raw writes have none).
func (st *wsStream) control(op int, data []byte) {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.ws.WriteControl(op, data, time.Now().Add(wsControlWait))
	st.nc.SetWriteDeadline(time.Time{})
}

// appendFrameHeader appends the header of a final, unmasked (server) frame of n payload bytes.
func appendFrameHeader(b []byte, op, n int) []byte {
	b = append(b, 0x80|byte(op))
	switch {
	case n <= 125:
		return append(b, byte(n))
	case n <= 0xffff:
		return append(b, 126, byte(n>>8), byte(n))
	}
	b = append(b, 127)
	return binary.BigEndian.AppendUint64(b, uint64(n))
}

// truncateReason keeps a close reason within a control frame's 125 bytes.
func truncateReason(s string) string {
	const max = 123
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && s[len(s)-1]&0xc0 == 0x80 { // do not split a UTF-8 sequence
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xc0 {
		s = s[:len(s)-1]
	}
	return s
}
