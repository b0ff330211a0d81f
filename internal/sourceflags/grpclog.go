package sourceflags

import (
	"io"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc/grpclog"
)

// grpc-go writes its own errors to stderr unless the program installs a
// logger. The library installs nothing global; a command does, once, from
// main: discarding, or routed to stderr under -v.

var (
	grpcOnce sync.Once
	grpcDest atomic.Pointer[io.Writer]
)

// switchWriter writes to grpcDest, or nowhere.
type switchWriter struct{}

func (switchWriter) Write(p []byte) (int, error) {
	if w := grpcDest.Load(); w != nil {
		return (*w).Write(p)
	}
	return len(p), nil
}

// InstallGRPCLog installs grpc-go's logger for this process, discarding until
// RouteGRPCLog names a writer. Call it from main, before anything dials: it
// is the process's one global, and tests that run commands in-process leave
// it alone.
func InstallGRPCLog() {
	grpcOnce.Do(func() {
		// Warnings and errors (errors are written to each writer up the
		// chain, so one writer gets each line once); info stays silent.
		grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, switchWriter{}, io.Discard))
	})
}

// RouteGRPCLog sends grpc-go's warnings and errors to w (nil: discard),
// once InstallGRPCLog has run.
func RouteGRPCLog(w io.Writer) {
	if w == nil {
		grpcDest.Store(nil)
		return
	}
	grpcDest.Store(&w)
}
