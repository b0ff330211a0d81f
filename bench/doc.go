// Package bench holds the end-to-end benchmarks of the SDK (go test -bench),
// driving the same harness as `firehose bench` (internal/benchrun): a mock in
// a child process, the raw transport, a naive client and the SDK, every pass
// checked. Without -bench, its tests only smoke-test the harness, prove that
// misuse of a borrowed event is caught, and check that a slow handler does
// not grow the heap; they take a few seconds.
//
//	go test -run XXX -bench . ./bench/
//	go test -run XXX -bench 'HTTP/owned' -cpuprofile owned.pprof ./bench/
//
// The node and node-raw rows run the Node peers of bench/peers as processes,
// where node and their node_modules are installed (npm ci --prefix
// bench/peers); elsewhere they are skipped, saying so.
//
// FIREHOSE_BENCH_EVENTS sets the history size (default 300,000; the naive
// and gRPC rows read its first 50,000);
// FIREHOSE_BENCH_MEMORY_EVENTS the events of BenchmarkMemory (default 10 M).
package bench
