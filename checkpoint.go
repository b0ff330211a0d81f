package firehose

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/firehose-go/firehose/internal/dedupe"
)

// Checkpoint is what a process needs to resume without loss or repetition:
// for each partition range it receives, the watermark and the events already
// finished inside the replay margin.
type Checkpoint struct {
	Ranges []RangeCheckpoint
}

// RangeCheckpoint is one receiver's position.
type RangeCheckpoint struct {
	Range     Range
	Watermark int64       // epoch ms of the newest finished event
	Seen      []SeenEvent // finished events with Timestamp >= Watermark - margin
	// Cursor is a ResumeSource source's own position (see Cursor), opaque to
	// the engine; nil for the others.
	Cursor []byte
}

// SeenEvent identifies a finished event by Fingerprint(id, timestamp).
type SeenEvent struct {
	Fingerprint uint64
	Timestamp   int64
}

// Fingerprint is the fixed 64-bit hash the duplicate window and checkpoints
// store for an event: FNV-1a 64 over the id, mixed with the timestamp and
// finished with splitmix64 (internal/dedupe documents the exact formula). It
// never changes between releases, so checkpoints stay valid; it is never 0.
func Fingerprint(id string, timestamp int64) uint64 {
	return dedupe.Fingerprint([]byte(id), timestamp)
}

// Checkpointer loads and saves checkpoints, anywhere: a file (FileCheckpointer),
// a database, a Kubernetes-shared store. Load returns (nil, nil) when there is
// no checkpoint yet, and an error — never (nil, nil) — when one exists but
// cannot be read. Implementations must be safe for concurrent use.
type Checkpointer interface {
	Load(ctx context.Context) (*Checkpoint, error)
	Save(ctx context.Context, cp *Checkpoint) error
}

// ErrCheckpoint is the class of checkpoint errors that end a stream at Open
// (a corrupt or foreign checkpoint file, an unwritable directory); it is also
// ErrFatal. A stream never silently starts from live instead.
var ErrCheckpoint = errors.New("firehose: checkpoint")

type checkpointError struct{ err error }

func (e *checkpointError) Error() string { return "firehose: checkpoint: " + e.err.Error() }
func (e *checkpointError) Unwrap() error { return e.err }
func (e *checkpointError) Is(target error) bool {
	return target == ErrCheckpoint || target == ErrFatal
}

// WithCheckpointer loads the checkpoint before the first connection (it wins
// over WithStart, and its events pre-fill the duplicate window) and saves it
// every interval (default 1 s) and on Close. A graceful stop and restart is
// then exactly-once; a crash loses nothing and repeats at most about one
// interval of events. Use one Checkpointer per process: with separate
// processes sharing one file the last save would win.
func WithCheckpointer(cp Checkpointer) Option {
	return func(c *config) error {
		if cp == nil {
			return errors.New("firehose: nil checkpointer")
		}
		c.checkpointer = cp
		return nil
	}
}

// WithCheckpointInterval sets how often the checkpoint is saved. Default 1 s.
func WithCheckpointInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("firehose: checkpoint interval %v: want > 0", d)
		}
		c.checkpointIntv = d
		return nil
	}
}

// WithPreSave calls fn on the delivery goroutine right before each checkpoint
// snapshot, so a caller that buffers its output can flush it first: a
// checkpoint must never be ahead of what really left the process. If fn
// fails, that save is skipped (and the error reported like a failed save).
// With several receivers fn is called concurrently.
func WithPreSave(fn func() error) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("firehose: nil pre-save hook")
		}
		c.preSave = fn
		return nil
	}
}

// checkpoints coordinates the receivers of one process around one
// Checkpointer: each contributes its range's snapshot; each save writes all.
type checkpoints struct {
	store   Checkpointer
	every   time.Duration
	preSave func() error

	loadOnce sync.Once
	loaded   *Checkpoint
	loadErr  error

	mu     sync.Mutex // serializes saves and guards ranges
	ranges map[Range]RangeCheckpoint
}

func newCheckpoints(cfg *config) *checkpoints {
	if cfg.checkpointer == nil {
		return nil
	}
	return &checkpoints{store: cfg.checkpointer, every: cfg.checkpointIntv, preSave: cfg.preSave, ranges: map[Range]RangeCheckpoint{}}
}

func (c *checkpoints) load(ctx context.Context) (*Checkpoint, error) {
	c.loadOnce.Do(func() {
		cp, err := c.store.Load(ctx)
		if err != nil {
			if !errors.Is(err, ErrCheckpoint) {
				err = &checkpointError{err: err}
			}
			c.loadErr = err
			return
		}
		c.loaded = cp
		if cp != nil {
			c.mu.Lock()
			for _, r := range cp.Ranges {
				c.ranges[r.Range] = r
			}
			c.mu.Unlock()
		}
	})
	return c.loaded, c.loadErr
}

// seed merges the loaded ranges that overlap rng: the lowest watermark and
// the union of their events, so going from n receivers to m is routine.
// covered reports whether every partition of rng had a position.
func (cp *Checkpoint) seed(rng Range) (rc RangeCheckpoint, found, covered bool) {
	rc.Range = rng
	var have [Partitions + 1]bool
	for _, r := range cp.Ranges {
		if !r.Range.Overlaps(rng) || r.Watermark <= 0 {
			continue
		}
		if !found || r.Watermark < rc.Watermark {
			rc.Watermark = r.Watermark
		}
		found = true
		rc.Seen = append(rc.Seen, r.Seen...)
		if r.Range == rng {
			rc.Cursor = r.Cursor // a source's position is kept for its own range only
		}
		for p := max(r.Range.Min, rng.Min); p <= min(r.Range.Max, rng.Max); p++ {
			have[p] = true
		}
	}
	covered = found
	for p := rng.Min; p <= rng.Max; p++ {
		covered = covered && have[p]
	}
	return rc, found, covered
}

// save stores one receiver's snapshot and writes the whole checkpoint. Ranges
// that no receiver of this process owns any more (after a change of n) are
// dropped once every current range has saved.
func (c *checkpoints) save(ctx context.Context, rc RangeCheckpoint, live []Range) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ranges[rc.Range] = rc
	out := &Checkpoint{}
	liveSaved := true
	for _, r := range live {
		if _, ok := c.ranges[r]; !ok {
			liveSaved = false
		}
	}
	for r, v := range c.ranges {
		if liveSaved && !slices.Contains(live, r) {
			delete(c.ranges, r)
			continue
		}
		out.Ranges = append(out.Ranges, v)
	}
	slices.SortFunc(out.Ranges, func(a, b RangeCheckpoint) int { return a.Range.Min - b.Range.Min })
	return c.store.Save(ctx, out)
}

// FileCheckpointer keeps a checkpoint in one file, written atomically: a
// temporary file in the same directory, fsync, rename over the old one, fsync
// of the directory. A crash at any instant leaves the old checkpoint or the
// new one, never a mix. Use one file per process.
type FileCheckpointer struct {
	path string
}

// NewFileCheckpointer returns a Checkpointer for the file at path.
func NewFileCheckpointer(path string) *FileCheckpointer { return &FileCheckpointer{path: path} }

const (
	checkpointFormat  = "firehose-checkpoint"
	checkpointVersion = 1
)

type fileCheckpoint struct {
	Format  string      `json:"format"`
	Version int         `json:"version"`
	Saved   time.Time   `json:"saved"`
	Ranges  []fileRange `json:"ranges"`
	CRC32C  uint32      `json:"crc32c"`
}

type fileRange struct {
	Min       int    `json:"minPartition"`
	Max       int    `json:"maxPartition"`
	Watermark int64  `json:"watermark"`
	Seen      string `json:"seen"`             // base64 of big-endian (fingerprint uint64, timestamp int64) pairs
	Cursor    []byte `json:"cursor,omitempty"` // a source's own position (base64)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func rangesCRC(rs []fileRange) uint32 {
	b, _ := json.Marshal(rs)
	return crc32.Checksum(b, castagnoli)
}

// Load reads the checkpoint: (nil, nil) when the file does not exist. It
// also checks that the directory is writable, so an unwritable location fails
// at Open, not at the first save.
func (f *FileCheckpointer) Load(ctx context.Context) (*Checkpoint, error) {
	if err := f.probeDir(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &checkpointError{err: err}
	}
	return decodeCheckpoint(b, f.path)
}

func decodeCheckpoint(b []byte, name string) (*Checkpoint, error) {
	bad := func(why string, args ...any) error {
		return &checkpointError{err: fmt.Errorf("%s: %s; refusing to start from live (move the file away to start afresh)", name, fmt.Sprintf(why, args...))}
	}
	var fc fileCheckpoint
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return nil, bad("corrupt: %v", err)
	}
	if fc.Format != checkpointFormat {
		return nil, bad("not a firehose checkpoint (format %q)", fc.Format)
	}
	if fc.Version != checkpointVersion {
		return nil, bad("version %d, this build reads version %d", fc.Version, checkpointVersion)
	}
	if rangesCRC(fc.Ranges) != fc.CRC32C {
		return nil, bad("corrupt: checksum mismatch")
	}
	cp := &Checkpoint{}
	for _, r := range fc.Ranges {
		rng := Range{Min: r.Min, Max: r.Max}
		if err := rng.Validate(); err != nil {
			return nil, bad("corrupt: %v", err)
		}
		raw, err := base64.StdEncoding.DecodeString(r.Seen)
		if err != nil || len(raw)%16 != 0 {
			return nil, bad("corrupt: seen events of %s", rng)
		}
		rc := RangeCheckpoint{Range: rng, Watermark: r.Watermark, Seen: make([]SeenEvent, len(raw)/16), Cursor: r.Cursor}
		for i := range rc.Seen {
			rc.Seen[i] = SeenEvent{
				Fingerprint: binary.BigEndian.Uint64(raw[16*i:]),
				Timestamp:   int64(binary.BigEndian.Uint64(raw[16*i+8:])),
			}
		}
		cp.Ranges = append(cp.Ranges, rc)
	}
	return cp, nil
}

// Save writes cp atomically.
func (f *FileCheckpointer) Save(ctx context.Context, cp *Checkpoint) error {
	fc := fileCheckpoint{Format: checkpointFormat, Version: checkpointVersion, Saved: time.Now().UTC()}
	for _, r := range cp.Ranges {
		raw := make([]byte, 16*len(r.Seen))
		for i, e := range r.Seen {
			binary.BigEndian.PutUint64(raw[16*i:], e.Fingerprint)
			binary.BigEndian.PutUint64(raw[16*i+8:], uint64(e.Timestamp))
		}
		fc.Ranges = append(fc.Ranges, fileRange{Min: r.Range.Min, Max: r.Range.Max, Watermark: r.Watermark, Seen: base64.StdEncoding.EncodeToString(raw), Cursor: r.Cursor})
	}
	fc.CRC32C = rangesCRC(fc.Ranges)
	b, err := json.Marshal(fc)
	if err != nil {
		return err
	}
	return writeAtomic(f.path, append(b, '\n'))
}

func (f *FileCheckpointer) probeDir() error {
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".firehose-probe-*")
	if err != nil {
		return &checkpointError{err: fmt.Errorf("directory not writable: %w", err)}
	}
	name := tmp.Name()
	tmp.Close()
	return os.Remove(name)
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("firehose: checkpoint: %w", err)
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("firehose: checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("firehose: checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("firehose: checkpoint: %w", err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("firehose: checkpoint: %w", err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("firehose: checkpoint: syncing %s: %w", dir, err)
		}
	}
	return nil
}
