package pgfirehose

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/firehose-go/firehose"
	"github.com/jackc/pgx/v5"
)

const (
	commitTimeout = 30 * time.Second
	closeTimeout  = 5 * time.Second
	stageTable    = "pgfirehose_stage"
)

// Sink writes events into a table (default firehose_events) and the
// checkpoint into the checkpoint table, in one transaction: every event lands
// in the table exactly once across graceful stops, restarts and kill -9 (the
// package documentation says how). The event table is created if missing:
//
//	id                 text   NOT NULL   -- Event.ID (Cisco: recordUid)
//	ts                 bigint NOT NULL   -- Event.Timestamp, epoch ms
//	type               text   NOT NULL   -- Event.Type
//	spaces_tenant_id   text   NOT NULL   -- Cisco's tenant fields; '' for other sources
//	spaces_tenant_name text   NOT NULL
//	partner_tenant_id  text   NOT NULL
//	event              jsonb  NOT NULL   -- Event.JSON(), the event as received
//	PRIMARY KEY (id, ts)
//
// Use it as both the client's Checkpointer and its handler: pass Options()
// to firehose.New and Handle to Run. Its Save (called by the engine between
// two events, every batch wait and on Close) commits the buffered events with
// the checkpoint; Handle buffers, and commits the events alone when the
// batch is full. A batch is written with COPY into a temporary table and
// INSERT … ON CONFLICT (id, ts) DO NOTHING: rows already there (a replay
// after a crash) are absorbed and counted in Stats().Conflicts.
//
// A Sink is safe for concurrent use (several receivers share it).
type Sink struct {
	*Checkpointer
	events string // sanitized
	batch  int
	wait   time.Duration

	mu      sync.Mutex // guards buf and lastErr; held across a commit
	buf     []row
	lastErr error

	inserted, conflicts, batches, fullFlushes atomic.Int64
	pending                                   atomic.Int64
}

type row struct {
	id, typ                  string
	ts                       int64
	tenantID, tenantName, pt string
	json                     []byte
}

var columns = []string{"id", "ts", "type", "spaces_tenant_id", "spaces_tenant_name", "partner_tenant_id", "event"}

// NewSink returns a Sink for the checkpoint called name in the database of
// dsn (as for NewCheckpointer: "" means the PG* environment variables). It
// does no I/O: the first Load connects, takes the lock and creates the
// tables.
func NewSink(dsn, name string, opts ...Option) (*Sink, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	c, err := newCheckpointer(dsn, name, cfg)
	if err != nil {
		return nil, err
	}
	s := &Sink{Checkpointer: c, events: ident(cfg.eventTable), batch: cfg.batch, wait: cfg.wait,
		buf: make([]row, 0, cfg.batch)}
	c.setup = s.setup
	return s, nil
}

func (s *Sink) setup(ctx context.Context, db *pgx.Conn) error {
	err := ddl(ctx, db, `CREATE TABLE IF NOT EXISTS `+s.events+` (
	id                 text   NOT NULL,
	ts                 bigint NOT NULL,
	type               text   NOT NULL,
	spaces_tenant_id   text   NOT NULL DEFAULT '',
	spaces_tenant_name text   NOT NULL DEFAULT '',
	partner_tenant_id  text   NOT NULL DEFAULT '',
	event              jsonb  NOT NULL,
	PRIMARY KEY (id, ts)
)`)
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS `+stageTable+` (
	id text, ts bigint, type text, spaces_tenant_id text, spaces_tenant_name text, partner_tenant_id text, event jsonb
) ON COMMIT DELETE ROWS`)
	if err != nil {
		return fmt.Errorf("pgfirehose: creating the staging table: %w", err)
	}
	return nil
}

// Options are the client options that make s the stream's checkpointer:
// WithCheckpointer(s) and WithCheckpointInterval(batch wait).
func (s *Sink) Options() []firehose.Option {
	return []firehose.Option{firehose.WithCheckpointer(s), firehose.WithCheckpointInterval(s.wait)}
}

// Handle is the firehose.Handler: it buffers ev, and commits the buffer when
// it holds a full batch — the events alone, ahead of the checkpoint (see the
// package doc); Handler does better. An error (the database is gone) ends
// Run.
func (s *Sink) Handle(ctx context.Context, ev *firehose.Event) error {
	return s.handle(ctx, ev, nil)
}

// Handler is Handle for c, a client made with s.Options(): a full batch
// asks c for a checkpoint (Client.CheckpointSoon) instead of committing the
// events alone. The engine then saves right after the event that filled it,
// and the batch goes in with the checkpoint, in one transaction: one commit
// per batch instead of two, and a crash never leaves rows ahead of the
// position. Should that save fail or not come, the events are committed
// alone once the buffer holds two batches, as Handle does at one.
//
//	err = c.Run(ctx, sink.Handler(c))
func (s *Sink) Handler(c *firehose.Client) firehose.Handler {
	return func(ctx context.Context, ev *firehose.Event) error {
		return s.handle(ctx, ev, c.CheckpointSoon)
	}
}

// handle buffers ev. With a full batch it calls soon, if given, until the
// buffer holds two batches; otherwise it commits the buffer alone.
func (s *Sink) handle(ctx context.Context, ev *firehose.Event, soon func()) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, row{
		id: ev.ID(), typ: string(ev.Type()), ts: ev.Timestamp(),
		tenantID: ev.SpacesTenantID(), tenantName: ev.SpacesTenantName(), pt: ev.PartnerTenantID(),
		json: jsonb(ev.JSON()),
	})
	s.pending.Store(int64(len(s.buf)))
	if len(s.buf) < s.batch {
		return nil
	}
	if soon != nil && len(s.buf) < 2*s.batch {
		soon() // the save after this event commits the batch with the checkpoint
		return nil
	}
	// A signal must not cut a commit in half: finish it, bounded.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	s.fullFlushes.Add(1)
	if err := s.commitLocked(cctx, nil); err != nil {
		return fmt.Errorf("pgfirehose: committing a full batch: %w", err)
	}
	return nil
}

// Save commits the buffered events and cp in one transaction. On error
// nothing is committed and the events stay buffered for the next attempt.
func (s *Sink) Save(ctx context.Context, cp *firehose.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commitLocked(ctx, cp)
}

// commitLocked writes the buffer and, when cp is not nil, the checkpoint.
// s.mu is held.
func (s *Sink) commitLocked(ctx context.Context, cp *firehose.Checkpoint) error {
	err := s.commit(ctx, cp)
	s.lastErr = err
	return err
}

func (s *Sink) commit(ctx context.Context, cp *firehose.Checkpoint) error {
	c := s.Checkpointer
	c.mu.Lock()
	defer c.mu.Unlock()
	db, err := c.conn(ctx)
	if err != nil {
		return err
	}
	n := len(s.buf)
	var inserted int64
	err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if n > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{stageTable}, columns, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
				r := &s.buf[i]
				return []any{r.id, r.ts, r.typ, r.tenantID, r.tenantName, r.pt, r.json}, nil
			})); err != nil {
				return fmt.Errorf("copying %d events: %w", n, err)
			}
			tag, err := tx.Exec(ctx, `INSERT INTO `+s.events+` (id, ts, type, spaces_tenant_id, spaces_tenant_name, partner_tenant_id, event)
SELECT id, ts, type, spaces_tenant_id, spaces_tenant_name, partner_tenant_id, event FROM `+stageTable+`
ON CONFLICT (id, ts) DO NOTHING`)
			if err != nil {
				return fmt.Errorf("inserting %d events: %w", n, err)
			}
			inserted = tag.RowsAffected()
		}
		if cp != nil {
			if err := c.write(ctx, tx, cp); err != nil {
				return fmt.Errorf("writing the checkpoint: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgfirehose: %q: %w", c.name, err)
	}
	if n > 0 {
		s.inserted.Add(inserted)
		s.conflicts.Add(int64(n) - inserted)
		s.batches.Add(1)
		clear(s.buf)
		s.buf = s.buf[:0]
		s.pending.Store(0)
	}
	return nil
}

// Err is the error of the latest commit (nil once one succeeds): after Run
// returns, non-nil means the last events and checkpoint were not committed.
func (s *Sink) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// SinkStats counts what a Sink did.
type SinkStats struct {
	Inserted    int64 // rows inserted
	Conflicts   int64 // rows already in the table (a replay after a crash), skipped
	Batches     int64 // transactions that wrote events
	FullBatches int64 // of which committed by Handle because the batch was full
	Pending     int64 // events buffered now
}

// Stats is a snapshot of s's counters; safe to call at any time.
func (s *Sink) Stats() SinkStats {
	return SinkStats{
		Inserted: s.inserted.Load(), Conflicts: s.conflicts.Load(), Batches: s.batches.Load(),
		FullBatches: s.fullFlushes.Load(), Pending: s.pending.Load(),
	}
}

// Close closes the connection and releases the lock. Events still buffered
// are dropped, never committed without their checkpoint: Run's final save
// has committed everything a graceful stop finished. Idempotent.
func (s *Sink) Close() error {
	s.mu.Lock()
	clear(s.buf)
	s.buf = s.buf[:0]
	s.pending.Store(0)
	s.mu.Unlock()
	return s.Checkpointer.Close()
}

// jsonb returns b, or a copy PostgreSQL's jsonb accepts: invalid UTF-8
// becomes U+FFFD and the escape \u0000 (which jsonb refuses) becomes \ufffd.
// Without this, one such event would fail its batch forever.
func jsonb(b []byte) []byte {
	if utf8.Valid(b) && !bytes.Contains(b, []byte(`\u0000`)) {
		return b
	}
	b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	return bytes.ReplaceAll(b, []byte(`\u0000`), []byte(`\ufffd`))
}
