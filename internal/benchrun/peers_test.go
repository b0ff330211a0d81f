package benchrun

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The repository's peers, from this package's directory.
var repoPeers = filepath.Join("..", "..", DefaultPeersDir)

// TestPeersSkipWithReason: without a peers directory, without node, or
// without node_modules, every peer row is skipped, saying what to do, and
// no process is started. (A repository checkout without `npm ci` is the
// third case: CI's.)
func TestPeersSkipWithReason(t *testing.T) {
	empty := t.TempDir()
	_, nodeErr := exec.LookPath("node")
	cases := []struct {
		name, dir, path, want string
	}{
		{"no dir", "", "", "no peers directory"},
		{"dir missing", filepath.Join(empty, "nowhere"), "", "no peers directory " + filepath.Join(empty, "nowhere") + " here"},
		{"no node", repoPeers, t.TempDir(), "node is not on PATH"},
		{"no node_modules", empty, "", "has no node_modules/ws: run npm ci --prefix " + empty},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.path != "" {
				t.Setenv("PATH", c.path)
			} else if c.dir != "" && nodeErr != nil {
				t.Skip("node is not on PATH: the node_modules check comes after it")
			}
			rs := PeerRunners([]string{HTTP, WS, WSUnbatched, GRPC}, c.dir)
			if len(rs) != 6 {
				t.Fatalf("%d peer rows, want 6 (node and node-raw on ws, ws-unbatched, grpc)", len(rs))
			}
			m := &Mock{URL: "http://127.0.0.1:1", UnbatchedURL: "http://127.0.0.1:1", Key: "k"}
			for _, r := range rs {
				err := r.Probe(context.Background(), m, 10)
				if !IsSkip(err) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: Probe = %v, want a skip saying %q", r.Name(), err, c.want)
				}
				if strings.Count(err.Error(), "skipped") != 1 {
					t.Errorf("%s: %q says skipped more than once", r.Name(), err)
				}
			}
		})
	}
}

// TestPeerDigestIsGos: the peers' fingerprint (bench/peers/digest.mjs)
// is the harness's, so their digests check like the SDK rows'. It needs
// node, not node_modules.
func TestPeerDigestIsGos(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	cases := []struct {
		uid string
		ts  int64
	}{
		{"event-1a2b", 1700000000123}, {"", 0}, {"x", -5}, {"é-ü", 99},
		{"event-ffffffff", 9007199254740993}, {"event-0", 1<<62 + 12345}, {strings.Repeat("z", 300), 1},
		{"a", 123456789012345}, {"b", 1234567890123456}, {"c", -1},
	}
	args := []string{filepath.Join(repoPeers, "digest.mjs")}
	for _, c := range cases {
		args = append(args, c.uid, strconv.FormatInt(c.ts, 10))
	}
	out, err := exec.Command(node, args...).Output()
	if err != nil {
		t.Fatalf("node digest.mjs: %v", err)
	}
	got := strings.Fields(string(out))
	if len(got) != len(cases) {
		t.Fatalf("node printed %d fingerprints, want %d: %q", len(got), len(cases), out)
	}
	for i, c := range cases {
		if want := strconv.FormatUint(fingerprint(c.uid, c.ts), 10); got[i] != want {
			t.Errorf("fingerprint(%q, %d): node %s, Go %s", c.uid, c.ts, got[i], want)
		}
	}
}

// TestReportPeers: peer rows show no allocations, the targets compare with
// them in words, and the note says how they were measured.
func TestReportPeers(t *testing.T) {
	go1 := []Sample{{Wall: time.Second, CPU: time.Second, Events: 1000, Mallocs: 1000}}
	peer := []Sample{{Wall: 4 * time.Second, CPU: 4 * time.Second, Events: 1000, Peer: true, StartCPU: 50 * time.Millisecond}}
	rep := &Report{Machine: "test", Events: 1000, Bytes: 1e6, Rounds: 1, Peers: "Node v20", Rows: []*Row{
		{Transport: WS, Client: Borrowed, Samples: go1},
		{Transport: WS, Client: Node, Samples: peer},
		{Transport: WSUnbatched, Client: Borrowed, Samples: go1},
		{Transport: WSUnbatched, Client: Node, Skipped: "node is not on PATH"},
		{Transport: GRPC, Client: Tail, Samples: go1},
		{Transport: GRPC, Client: Node, Samples: peer},
	}}
	var b strings.Builder
	rep.WriteMarkdown(&b)
	out := b.String()
	for _, want := range []string{
		"| ws | node | 250 (250) | 0 | 4000.000 (4000.000) | – |",
		"ok   ws/borrowed CPU vs node ≤ 0.5×: 0.25× — Client.RunBorrowed, from a server that batches its writes, against a Node ws client",
		"n/a  ws-unbatched/borrowed CPU vs node ≤ 0.5×: the row it compares with did not run",
		"ok   grpc/tail events/s vs node ≥ 4×: 4× — the CLI's tail",
		"Machine: test  \nPeers: Node v20  \n",
		"Peer rows (node, node-raw; bench/peers)",
		"ws/node 50 ms",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
