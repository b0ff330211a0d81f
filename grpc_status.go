package firehose

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The gRPC channel's statuses: the code that ended a call mapped to the
// engine's taxonomy (a *StatusError with the HTTP equivalent, a network
// error, or grpc-go's own refusal of an oversized message).

// localTooLarge recognises grpc-go's own refusal of a message above the
// receive cap: a RESOURCE_EXHAUSTED made on this side, which is not the
// server throttling. It returns the message's size when it can read it.
func localTooLarge(err error) (int, bool) {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.ResourceExhausted {
		return 0, false
	}
	msg := st.Message()
	if !strings.HasPrefix(msg, "grpc: ") || !strings.Contains(msg, "larger than max") {
		return 0, false
	}
	n := 0
	if i := strings.Index(msg, "("); i >= 0 {
		if j := strings.Index(msg[i:], " vs."); j > 0 {
			n, _ = strconv.Atoi(msg[i+1 : i+j])
		}
	}
	return n, true
}

// grpcError turns the status that ended a call into the engine's taxonomy.
func grpcError(err error, md metadata.MD, now time.Time) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	code := st.Code()
	if code == codes.Unavailable && grpcLocalTransport(st.Message()) {
		// grpc-go's own report of a dial, TLS or connection failure: a
		// network error, not a status the server sent.
		return fmt.Errorf("firehose: grpc: %w", err)
	}
	if n, ok := localTooLarge(err); ok {
		return fmt.Errorf("firehose: grpc: message of %d bytes above the receive limit: %w", n, err)
	}
	se := &StatusError{
		Transport: "grpc",
		Code:      grpcHTTPCode(code),
		GRPCCode:  grpcCodeName(code),
		Message:   trimMessage([]byte(st.Message())),
	}
	if code == codes.ResourceExhausted {
		if v := md.Get("retry-after"); len(v) > 0 {
			se.RetryAfter, se.retryAfterSet = parseRetryAfter(v[0], now)
		}
	}
	return se
}

// grpcLocalTransport reports the messages grpc-go gives the UNAVAILABLE
// statuses it makes itself when a connection cannot be made or breaks.
func grpcLocalTransport(msg string) bool {
	for _, p := range [...]string{"connection error:", "error reading from server", "transport is closing", "name resolver error", "last connection error", "last resolver error", "connection closed", "failed to exit idle mode"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// grpcHTTPCode is the HTTP equivalent of a gRPC code, per design.md's table:
// the four fatal ones, 429 for RESOURCE_EXHAUSTED, and a retried 5xx for
// every other code.
func grpcHTTPCode(c codes.Code) int {
	switch c {
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.InvalidArgument:
		return http.StatusBadRequest
	case codes.Unimplemented:
		return http.StatusNotFound
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError // INTERNAL, UNKNOWN and every other code: retried
}

// grpcCodeName is the code's canonical name ("UNAUTHENTICATED").
func grpcCodeName(c codes.Code) string {
	switch c {
	case codes.OK:
		return "OK"
	case codes.Canceled:
		return "CANCELLED"
	case codes.Unknown:
		return "UNKNOWN"
	case codes.InvalidArgument:
		return "INVALID_ARGUMENT"
	case codes.DeadlineExceeded:
		return "DEADLINE_EXCEEDED"
	case codes.NotFound:
		return "NOT_FOUND"
	case codes.AlreadyExists:
		return "ALREADY_EXISTS"
	case codes.PermissionDenied:
		return "PERMISSION_DENIED"
	case codes.ResourceExhausted:
		return "RESOURCE_EXHAUSTED"
	case codes.FailedPrecondition:
		return "FAILED_PRECONDITION"
	case codes.Aborted:
		return "ABORTED"
	case codes.OutOfRange:
		return "OUT_OF_RANGE"
	case codes.Unimplemented:
		return "UNIMPLEMENTED"
	case codes.Internal:
		return "INTERNAL"
	case codes.Unavailable:
		return "UNAVAILABLE"
	case codes.DataLoss:
		return "DATA_LOSS"
	case codes.Unauthenticated:
		return "UNAUTHENTICATED"
	}
	return "CODE_" + strconv.Itoa(int(c))
}
