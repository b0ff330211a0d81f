// Package benchrun is the end-to-end benchmark harness behind `firehose
// bench` and the bench package's `go test -bench`.
//
// The mock (firehosetest) runs in a child process — the current binary
// re-executed with ChildEnv set — so the client's CPU (getrusage
// RUSAGE_SELF) and allocations (runtime.MemStats) are the client's alone.
// Every pass reads the mock's whole deterministic history (about 70%
// DEVICE_LOCATION_UPDATE, 1.3 KB lines) from its oldest event, and is checked:
// the count and a fingerprint digest of (recordUid, recordTimestamp) must
// match the log's. Rows: the raw transport (the limit), a naive client
// written the way public samples are, the SDK with owned events (Client.Run)
// and with borrowed ones (Client.RunBorrowed), and the CLI's tail. Peers in
// another stack (PeerRunners: our Node clients of bench/peers) run as
// processes of their own; their CPU is their process's (see peers.go).
package benchrun
