package firehosetest

import (
	"bufio"
	"errors"
	"io"
	"net/http"
)

// route dispatches a request to its transport. The WebSocket handler (Upgrade: websocket) and the
// gRPC one (HTTP/2, Content-Type application/grpc) belong here, before the NDJSON default.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if s.serveWS(w, r) {
		return
	}
	if s.serveGRPC(w, r) {
		return
	}
	s.serveNDJSON(w, r)
}

// openHTTP opens a session for an HTTP request (a plain GET or a WebSocket
// handshake), or answers the rejection as a plain HTTP response and returns nil.
func (s *Server) openHTTP(w http.ResponseWriter, r *http.Request, channel string) *session {
	sess, rej := s.open(request{
		transport: channel,
		proto:     r.Proto,
		method:    r.Method,
		path:      r.URL.Path,
		key:       r.Header.Get("X-API-Key"),
		query:     r.URL.Query(),
	})
	if rej != nil {
		if rej.retryAfter != "" {
			w.Header().Set("Retry-After", rej.retryAfter)
		}
		if rej.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodGet)
		}
		http.Error(w, rej.message, rej.status)
		return nil
	}
	return sess
}

// serveNDJSON streams the firehose as NDJSON: status 200, one event per line, flushed whenever no
// further line is ready at once.
func (s *Server) serveNDJSON(w http.ResponseWriter, r *http.Request) {
	sess := s.openHTTP(w, r, ChannelHTTP)
	if sess == nil {
		return
	}
	defer sess.close()

	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if rc.Flush() != nil {
		return
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	flush := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	ctx := r.Context()
	for {
		f, err := sess.next(ctx)
		switch {
		case errors.Is(err, errCut), errors.Is(err, errServerClosed):
			flush()
			// Abort: HTTP/1 closes the connection without the final chunk, HTTP/2 resets the stream.
			panic(http.ErrAbortHandler)
		case errors.Is(err, io.EOF):
			flush()
			return
		case err != nil:
			return
		}
		if f.kind != frameBinary {
			bw.Write(f.line)
			if !f.partial {
				bw.WriteByte('\n')
			}
		}
		if !sess.pending() && flush() != nil {
			return
		}
	}
}
