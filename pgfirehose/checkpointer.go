package pgfirehose

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrLocked is returned by Load and Save when another session holds the
// advisory lock of the checkpoint's name: a second process with the same
// name. It never writes. The engine treats it as a fatal checkpoint error.
var ErrLocked = errors.New("pgfirehose: checkpoint in use by another process")

// ErrCorrupt is returned by Load when a stored row cannot be a checkpoint
// (a bad range, a torn seen column). The stream then refuses to start rather
// than start from live.
var ErrCorrupt = errors.New("pgfirehose: corrupt checkpoint")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("pgfirehose: closed")

// Checkpointer is a firehose.Checkpointer that keeps the checkpoint in a
// table (default firehose_checkpoints), one row per partition range:
//
//	name text, range_min smallint, range_max smallint  -- the primary key
//	watermark bigint                                   -- epoch ms
//	seen bytea       -- the finished events inside the replay margin: big-endian
//	                 -- (fingerprint uint64, timestamp int64) pairs, 16 bytes each,
//	                 -- the bytes FileCheckpointer stores in base64
//	cursor bytea     -- a source's resume cursor (NULL when none)
//	saved_at timestamptz
//
// The table is created if missing. Save replaces every row of the name in
// one transaction, so a reader sees the old checkpoint or the new one.
//
// The Checkpointer holds one connection. On it, the first Load or Save takes
// a session advisory lock derived from the table and the name; a second
// process with the same name fails with ErrLocked and never writes. If the
// connection breaks, the next call reconnects and must win the lock again.
// A process that finds the lock held waits up to WithLockWait (default 3 s)
// for it, so a restart right after a crash does not race the old session's
// end. Close releases the lock.
//
// It is safe for concurrent use.
type Checkpointer struct {
	pg       *pgx.ConnConfig
	name     string
	table    string // sanitized identifier
	rawName  string // the table as configured, for messages
	lockKey  int64
	lockWait time.Duration

	// setup runs on every new connection after the lock is won (the Sink
	// creates its tables there).
	setup func(ctx context.Context, db *pgx.Conn) error

	mu     sync.Mutex // serializes every use of db
	db     *pgx.Conn
	closed bool
}

// NewCheckpointer returns a Checkpointer for the checkpoint called name in
// the database of dsn: a PostgreSQL URL or key=value string; "" takes
// everything from the PG* environment variables (PGHOST, PGPORT, PGUSER,
// PGDATABASE, PGPASSWORD…). It validates its arguments and does no I/O: the
// connection is opened by the first Load or Save.
//
// Give every process its own name (for example the source and the partition
// range it receives); the name identifies the rows and the lock.
func NewCheckpointer(dsn, name string, opts ...Option) (*Checkpointer, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return newCheckpointer(dsn, name, cfg)
}

func newCheckpointer(dsn, name string, cfg *config) (*Checkpointer, error) {
	if name == "" {
		return nil, errors.New("pgfirehose: empty checkpoint name")
	}
	pg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgfirehose: dsn: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("pgfirehose\x00" + cfg.checkpointTable + "\x00" + name))
	return &Checkpointer{
		pg:       pg,
		name:     name,
		table:    ident(cfg.checkpointTable),
		rawName:  cfg.checkpointTable,
		lockKey:  int64(h.Sum64()),
		lockWait: cfg.lockWait,
	}, nil
}

// Name is the checkpoint's name.
func (c *Checkpointer) Name() string { return c.name }

func ident(name string) string { return pgx.Identifier(strings.Split(name, ".")).Sanitize() }

// ddlLock serializes CREATE TABLE IF NOT EXISTS between processes, which
// can otherwise fail on a race in the catalog.
const ddlLock = 0x70676669726568 // "pgfireh"

// conn returns the locked connection, connecting and taking the lock if
// needed. c.mu is held.
func (c *Checkpointer) conn(ctx context.Context) (*pgx.Conn, error) {
	if c.closed {
		return nil, ErrClosed
	}
	if c.db != nil && !c.db.IsClosed() {
		return c.db, nil
	}
	c.db = nil
	db, err := pgx.ConnectConfig(ctx, c.pg.Copy())
	if err != nil {
		return nil, fmt.Errorf("pgfirehose: connecting: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			db.Close(context.Background())
		}
	}()
	if err := c.lock(ctx, db); err != nil {
		return nil, err
	}
	if err := c.createTable(ctx, db); err != nil {
		return nil, err
	}
	if c.setup != nil {
		if err := c.setup(ctx, db); err != nil {
			return nil, err
		}
	}
	ok = true
	c.db = db
	return db, nil
}

// lock takes the session advisory lock of the name, waiting up to lockWait
// (lock_timeout) for a previous holder's session to end: a process killed
// a moment ago has its backend exit a moment later.
func (c *Checkpointer) lock(ctx context.Context, db *pgx.Conn) error {
	locked := fmt.Errorf("%w: checkpoint %q in %s is locked by another session (give each process its own checkpoint name)", ErrLocked, c.name, c.rawName)
	if c.lockWait <= 0 {
		var won bool
		if err := db.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", c.lockKey).Scan(&won); err != nil {
			return fmt.Errorf("pgfirehose: taking the checkpoint lock: %w", err)
		}
		if !won {
			return locked
		}
		return nil
	}
	if _, err := db.Exec(ctx, fmt.Sprintf("SET lock_timeout = %d", max(c.lockWait.Milliseconds(), 1))); err != nil {
		return fmt.Errorf("pgfirehose: taking the checkpoint lock: %w", err)
	}
	_, err := db.Exec(ctx, "SELECT pg_advisory_lock($1)", c.lockKey)
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "55P03" { // lock_not_available
		return locked
	}
	if err != nil {
		return fmt.Errorf("pgfirehose: taking the checkpoint lock: %w", err)
	}
	if _, err := db.Exec(ctx, "RESET lock_timeout"); err != nil {
		return fmt.Errorf("pgfirehose: taking the checkpoint lock: %w", err)
	}
	return nil
}

func (c *Checkpointer) createTable(ctx context.Context, db *pgx.Conn) error {
	return ddl(ctx, db, `CREATE TABLE IF NOT EXISTS `+c.table+` (
	name      text        NOT NULL,
	range_min smallint    NOT NULL,
	range_max smallint    NOT NULL,
	watermark bigint      NOT NULL,
	seen      bytea       NOT NULL,
	cursor    bytea,
	saved_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (name, range_min, range_max)
)`)
}

// ddl runs statements in one transaction under the DDL lock.
func ddl(ctx context.Context, db *pgx.Conn, stmts ...string) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(ddlLock)); err != nil {
			return fmt.Errorf("pgfirehose: creating tables: %w", err)
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("pgfirehose: creating tables: %w", err)
			}
		}
		return nil
	})
}

// Load reads the checkpoint: (nil, nil) when the name has no rows. It
// connects and takes the lock first, so a second process with the same name
// fails here (ErrLocked), at Open. A row that cannot be a checkpoint is
// ErrCorrupt, naming the row.
func (c *Checkpointer) Load(ctx context.Context) (*firehose.Checkpoint, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	db, err := c.conn(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT range_min, range_max, watermark, seen, cursor FROM `+c.table+
		` WHERE name = $1 ORDER BY range_min, range_max`, c.name)
	if err != nil {
		return nil, fmt.Errorf("pgfirehose: loading checkpoint %q: %w", c.name, err)
	}
	defer rows.Close()
	var cp firehose.Checkpoint
	for rows.Next() {
		var (
			lo, hi int16
			wm     int64
			seen   []byte
			cursor []byte
		)
		if err := rows.Scan(&lo, &hi, &wm, &seen, &cursor); err != nil {
			return nil, c.corrupt(fmt.Sprintf("range %d-%d", lo, hi), err.Error())
		}
		rc, err := c.decodeRow(int(lo), int(hi), wm, seen, cursor)
		if err != nil {
			return nil, err
		}
		cp.Ranges = append(cp.Ranges, rc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgfirehose: loading checkpoint %q: %w", c.name, err)
	}
	if len(cp.Ranges) == 0 {
		return nil, nil
	}
	return &cp, nil
}

func (c *Checkpointer) corrupt(row, why string) error {
	return fmt.Errorf("%w: %q in %s, %s: %s; refusing to start from live (delete the name's rows to start afresh)",
		ErrCorrupt, c.name, c.rawName, row, why)
}

func (c *Checkpointer) decodeRow(lo, hi int, wm int64, seen, cursor []byte) (firehose.RangeCheckpoint, error) {
	row := fmt.Sprintf("range %d-%d", lo, hi)
	rng := firehose.Range{Min: lo, Max: hi}
	if err := rng.Validate(); err != nil {
		return firehose.RangeCheckpoint{}, c.corrupt(row, err.Error())
	}
	if wm < 0 {
		return firehose.RangeCheckpoint{}, c.corrupt(row, fmt.Sprintf("watermark %d", wm))
	}
	if len(seen)%16 != 0 {
		return firehose.RangeCheckpoint{}, c.corrupt(row, fmt.Sprintf("seen is %d bytes, not a multiple of 16", len(seen)))
	}
	rc := firehose.RangeCheckpoint{Range: rng, Watermark: wm, Seen: make([]firehose.SeenEvent, len(seen)/16)}
	for i := range rc.Seen {
		e := firehose.SeenEvent{
			Fingerprint: binary.BigEndian.Uint64(seen[16*i:]),
			Timestamp:   int64(binary.BigEndian.Uint64(seen[16*i+8:])),
		}
		if e.Fingerprint == 0 {
			return firehose.RangeCheckpoint{}, c.corrupt(row, fmt.Sprintf("seen event %d has fingerprint 0", i))
		}
		rc.Seen[i] = e
	}
	rc.Cursor = cursor
	return rc, nil
}

// Save replaces the name's rows with cp in one transaction.
func (c *Checkpointer) Save(ctx context.Context, cp *firehose.Checkpoint) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	db, err := c.conn(ctx)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error { return c.write(ctx, tx, cp) })
	if err != nil {
		return fmt.Errorf("pgfirehose: saving checkpoint %q: %w", c.name, err)
	}
	return nil
}

// write replaces the name's rows inside tx.
func (c *Checkpointer) write(ctx context.Context, tx pgx.Tx, cp *firehose.Checkpoint) error {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM `+c.table+` WHERE name = $1`, c.name)
	for _, r := range cp.Ranges {
		seen := make([]byte, 16*len(r.Seen))
		for i, e := range r.Seen {
			binary.BigEndian.PutUint64(seen[16*i:], e.Fingerprint)
			binary.BigEndian.PutUint64(seen[16*i+8:], uint64(e.Timestamp))
		}
		cursor := r.Cursor
		b.Queue(`INSERT INTO `+c.table+` (name, range_min, range_max, watermark, seen, cursor, saved_at)
VALUES ($1, $2, $3, $4, $5, $6, now())`, c.name, int16(r.Range.Min), int16(r.Range.Max), r.Watermark, seen, cursor)
	}
	return tx.SendBatch(ctx, b).Close()
}

// Close closes the connection, which releases the lock. It is idempotent.
func (c *Checkpointer) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.db == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	// Unlock first: the server releases a closed session's locks only when
	// its backend has exited, which a quick restart could race.
	c.db.Exec(ctx, "SELECT pg_advisory_unlock($1)", c.lockKey)
	err := c.db.Close(ctx)
	c.db = nil
	return err
}
