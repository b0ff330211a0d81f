package benchrun

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/firehose-go/firehose/firehosetest"
)

// Peers: clients written in another stack (Node), run as processes of their
// own against the same mock, so that the SDK can be compared with what a
// consumer in that stack would run. The clients are ours, in bench/peers
// (their README says what each does); their packages come from npm
// (`npm ci --prefix bench/peers`). A row whose client cannot run here —
// no peers directory, no node on PATH, no node_modules — is skipped with
// the reason.
//
// A pass starts `node DIR/SCRIPT` with the mock's address and the count,
// waits for its "ready" line (modules and proto loaded), says go on its
// stdin and reads its one-line result: the events it counted and, except
// for the raw rows, the digest of their (recordUid, recordTimestamp) — the
// same one the SDK rows reproduce. Its CPU is the process's user + system
// time (wait4's rusage, all threads) less the CPU it reported at "ready";
// its wall time runs from go to the result. The process is killed by its
// own handle (its process group) on every path out but the clean one.

// Peer client names.
const (
	// Node is the Node peer doing what a consumer must: WebSocket (ws):
	// JSON.parse of every message; gRPC (@grpc/grpc-js + proto-loader):
	// the decoded record. Both skip keep-alives and drop a repeated
	// (recordUid, recordTimestamp) in a window as large as the SDK's.
	Node = "node"
	// NodeRaw is the Node peer counting messages (records), nothing
	// decoded: its transport's limit in Node.
	NodeRaw = "node-raw"
)

// DefaultPeersDir is where `firehose bench` looks for the peers by default:
// bench/peers of the repository, relative to the working directory.
const DefaultPeersDir = "bench/peers"

// peerModules are the npm packages the peers import.
var peerModules = []string{"ws", "@grpc/grpc-js", "@grpc/proto-loader"}

// peerWait bounds the wait for a peer's "ready" line, and for its exit
// after its result.
const peerWait = 30 * time.Second

// PeerRunners returns the peer rows for transports, in table order: node
// and node-raw on WebSocket (both servers) and gRPC; none on HTTP. dir holds
// the clients and their node_modules ("" skips every row, saying so). The
// gRPC rows read the history's prefix, as the Go gRPC rows do.
func PeerRunners(transports []string, dir string) []*Runner {
	var rs []*Runner
	add := func(t, c string, f runFunc) {
		rs = append(rs, &Runner{Transport: t, Client: c, run: f, Short: t == GRPC, Peer: true})
	}
	for _, t := range transports {
		switch t {
		case WS:
			add(t, Node, nodeRun(dir, "ws.mjs", false, wsPeerArgs))
			add(t, NodeRaw, nodeRun(dir, "ws.mjs", true, wsPeerArgs))
		case WSUnbatched:
			add(t, Node, unbatched(nodeRun(dir, "ws.mjs", false, wsPeerArgs)))
			add(t, NodeRaw, unbatched(nodeRun(dir, "ws.mjs", true, wsPeerArgs)))
		case GRPC:
			add(t, Node, nodeRun(dir, "grpc.mjs", false, grpcPeerArgs))
			add(t, NodeRaw, nodeRun(dir, "grpc.mjs", true, grpcPeerArgs))
		}
	}
	return rs
}

// wsPeerArgs point the WebSocket peer at the mock with the query the SDK
// sends: fromTimestamp and the partitions 1–12.
func wsPeerArgs(m *Mock) []string {
	q := url.Values{}
	q.Set("minPartition", "1")
	q.Set("maxPartition", "12")
	q.Set("fromTimestamp", strconv.FormatInt(m.Expect.From, 10))
	u := "ws://" + m.hostPort() + firehosetest.EventsPath + "?" + q.Encode()
	return []string{"--url", u, "--key", m.Key}
}

// grpcPeerArgs point the gRPC peer at the mock: the request the raw gRPC
// row sends (partitions 1–12 from the history's oldest timestamp).
func grpcPeerArgs(m *Mock) []string {
	return []string{"--url", m.hostPort(), "--key", m.Key, "--from", strconv.FormatInt(m.Expect.From, 10)}
}

// PeersReady reports why the peers in dir cannot run here (an *errSkip
// saying what to do), or nil and the node executable when they can.
func PeersReady(dir string) (node string, err error) {
	if dir == "" {
		return "", &errSkip{errors.New("no peers directory (firehose bench -peers DIR; the repository's is " + DefaultPeersDir + ")")}
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", &errSkip{fmt.Errorf("no peers directory %s here (run from the repository's root, or -peers DIR)", dir)}
	}
	node, err = exec.LookPath("node")
	if err != nil {
		return "", &errSkip{errors.New("node is not on PATH: install Node.js 20 or later")}
	}
	for _, mod := range peerModules {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", mod, "package.json")); err != nil {
			return "", &errSkip{fmt.Errorf("%s has no node_modules/%s: run npm ci --prefix %s", dir, mod, dir)}
		}
	}
	return node, nil
}

// PeerVersions names node and the peers' packages as installed in dir, for
// the report ("" when the peers cannot run).
func PeerVersions(dir string) string {
	node, err := PeersReady(dir)
	if err != nil {
		return ""
	}
	v, err := exec.Command(node, "--version").Output()
	if err != nil {
		return ""
	}
	parts := []string{"Node " + strings.TrimSpace(string(v))}
	for _, mod := range peerModules {
		var pkg struct{ Version string }
		b, err := os.ReadFile(filepath.Join(dir, "node_modules", mod, "package.json"))
		if err == nil && json.Unmarshal(b, &pkg) == nil {
			parts = append(parts, mod+" "+pkg.Version)
		}
	}
	return strings.Join(parts, ", ")
}

// nodeRun runs `node DIR/script` for one pass: args(m) and --count n, and
// --raw for the raw rows.
func nodeRun(dir, script string, raw bool, args func(*Mock) []string) runFunc {
	return func(ctx context.Context, m *Mock, n int64) (result, error) {
		node, err := PeersReady(dir)
		if err != nil {
			return result{}, err
		}
		argv := append([]string{filepath.Join(dir, script)}, args(m)...)
		argv = append(argv, "--count", strconv.FormatInt(n, 10))
		if raw {
			argv = append(argv, "--raw")
		}
		return runPeer(ctx, node, argv)
	}
}

// peerLine is one line a peer prints: "ready", then its result, or an error.
type peerLine struct {
	Ready    bool   `json:"ready"`
	CPUUs    int64  `json:"cpuUs"` // the process's CPU so far (user + system), µs
	Events   int64  `json:"events"`
	Messages int64  `json:"messages"`
	Bytes    int64  `json:"bytes"`
	XOR      string `json:"xor"` // decimal uint64; absent for a raw row
	Sum      string `json:"sum"`
	Error    string `json:"error"`
}

// runPeer runs one peer process through the handshake (see the top of
// this file) and returns what it counted, with its CPU and wall time.
func runPeer(ctx context.Context, node string, argv []string) (res result, err error) {
	cmd := exec.Command(node, argv...)
	setProcessGroup(cmd)
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return result{}, err
	}
	// Our own pipe rather than StdoutPipe, as for the mock: Wait, which runs
	// concurrently, must not close the reader under us.
	out, pw, err := os.Pipe()
	if err != nil {
		stdin.Close()
		return result{}, err
	}
	cmd.Stdout = pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		out.Close()
		stdin.Close()
		return result{}, fmt.Errorf("starting %s: %w", filepath.Base(argv[0]), err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	quit := make(chan struct{})
	lines := make(chan []byte)
	go func() {
		defer close(lines)
		defer out.Close()
		br := bufio.NewReader(out)
		for {
			l, err := br.ReadBytes('\n')
			if len(l) > 0 {
				select {
				case lines <- l:
				case <-quit:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	clean := false
	defer func() {
		close(quit)
		if !clean {
			killGroup(cmd)
		}
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(peerWait):
			killGroup(cmd)
			<-exited
		}
	}()

	next := func(timeout <-chan time.Time) (peerLine, error) {
		var pl peerLine
		select {
		case l, ok := <-lines:
			if !ok {
				return pl, fmt.Errorf("the peer closed its stdout without its line; stderr: %q", stderr.String())
			}
			if err := json.Unmarshal(l, &pl); err != nil {
				return pl, fmt.Errorf("the peer printed %q: %v", oneLine(string(l)), err)
			}
			if pl.Error != "" {
				return pl, fmt.Errorf("the peer failed: %s", pl.Error)
			}
			return pl, nil
		case <-timeout:
			return pl, errors.New("the peer did not say ready")
		case <-ctx.Done():
			return pl, ctx.Err()
		}
	}

	ready, err := next(time.After(peerWait))
	if err != nil {
		return result{}, err
	}
	if !ready.Ready {
		return result{}, fmt.Errorf("the peer's first line is not ready: %+v", ready)
	}
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		return result{}, err
	}
	t0 := time.Now()
	pl, err := next(nil)
	wall := time.Since(t0)
	if err != nil {
		return result{}, err
	}
	res = result{events: pl.Events, bytes: pl.Bytes, peer: true, wall: wall, startCPU: time.Duration(ready.CPUUs) * time.Microsecond}
	if pl.XOR != "" {
		res.digest = true
		if res.xor, err = strconv.ParseUint(pl.XOR, 10, 64); err == nil {
			res.sum, err = strconv.ParseUint(pl.Sum, 10, 64)
		}
		if err != nil {
			return res, fmt.Errorf("the peer's digest: %w", err)
		}
	}
	// The peer exits after its result; its stdin closing also ends it.
	stdin.Close()
	select {
	case <-exited:
	case <-time.After(peerWait):
		return res, errors.New("the peer did not exit after its result")
	case <-ctx.Done():
		return res, ctx.Err()
	}
	clean = true
	ps := cmd.ProcessState
	if !ps.Success() {
		return res, fmt.Errorf("the peer exited with %v; stderr: %q", ps, stderr.String())
	}
	res.cpu = ps.UserTime() + ps.SystemTime() - res.startCPU
	return res, nil
}
