package kafkafirehose

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/firehose-go/firehose"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// checkpointer is the Bridge seen as the firehose client's Checkpointer: the
// checkpoint lives in the compacted checkpoint topic, one record per range.
type checkpointer Bridge

// Load reads the newest committed checkpoint record of every range that
// overlaps the bridge's (read_committed: an aborted transaction's checkpoint
// never counts). It reads up to the end the topic had when Load began; in
// exactly-once mode connect has fenced the previous incarnation first, so
// its transaction is settled by then.
func (c *checkpointer) Load(ctx context.Context) (*firehose.Checkpoint, error) {
	b := (*Bridge)(c)
	ctx, cancel := context.WithTimeout(ctx, b.cfg.flushTimeout)
	defer cancel()
	adm := kadm.NewClient(b.cl)
	var starts, ends kadm.ListedOffsets
	err := retry(ctx, b.cfg.flushTimeout, func() error {
		var err error
		if starts, err = adm.ListStartOffsets(ctx, b.ckptTop); err == nil {
			err = starts.Error()
		}
		if err == nil {
			if ends, err = adm.ListEndOffsets(ctx, b.ckptTop); err == nil {
				err = ends.Error()
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("kafkafirehose: listing offsets of %s: %w", b.ckptTop, err)
	}
	need := map[int32]int64{} // partition → the end offset to read up to
	from := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		s, _ := starts.Lookup(o.Topic, o.Partition)
		if o.Offset > s.Offset {
			need[o.Partition] = o.Offset
			from[o.Partition] = kgo.NewOffset().At(s.Offset)
		}
	})
	if len(need) == 0 {
		return nil, nil
	}
	cons, err := kgo.NewClient(b.clientOpts(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{b.ckptTop: from}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(), // the commit marker at the end tells us we are there
	)...)
	if err != nil {
		return nil, fmt.Errorf("kafkafirehose: %w", err)
	}
	defer cons.Close()
	latest := map[string][]byte{}
	for len(need) > 0 {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("kafkafirehose: reading checkpoint topic %s: %w", b.ckptTop, err)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) {
			if !retriable(err) && ferr == nil {
				ferr = err
			}
		})
		if ferr != nil {
			return nil, fmt.Errorf("kafkafirehose: reading checkpoint topic %s: %w", b.ckptTop, ferr)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if end, ok := need[r.Partition]; ok && r.Offset >= end-1 {
				delete(need, r.Partition)
			}
			switch {
			case r.Attrs.IsControl():
			case r.Value == nil:
				delete(latest, string(r.Key)) // a tombstone
			default:
				latest[string(r.Key)] = r.Value
			}
		})
	}
	cp := &firehose.Checkpoint{}
	for key, v := range latest {
		rc, err := decodeRange(v)
		if err != nil {
			return nil, fmt.Errorf("kafkafirehose: checkpoint %q in %s: %w; refusing to start from live", key, b.ckptTop, err)
		}
		if rc.Range.String() != key {
			return nil, fmt.Errorf("kafkafirehose: checkpoint %q in %s holds range %s; refusing to start from live", key, b.ckptTop, rc.Range)
		}
		if rc.Range.Overlaps(b.cfg.rng) {
			cp.Ranges = append(cp.Ranges, rc)
		}
	}
	if len(cp.Ranges) == 0 {
		return nil, nil
	}
	b.cfg.logger.Info("kafkafirehose: checkpoint loaded", "topic", b.ckptTop, "ranges", len(cp.Ranges))
	return cp, nil
}

// Save writes the checkpoint record of each range this bridge owns. The
// pre-save hook has already waited for every record before it. In
// exactly-once mode the record joins the open transaction, which is then
// committed, and the next one begun. Any failure is sticky and stops Run.
func (c *checkpointer) Save(ctx context.Context, cp *firehose.Checkpoint) error {
	b := (*Bridge)(c)
	if err := b.err(); err != nil {
		return err
	}
	var recs []*kgo.Record
	for _, rc := range cp.Ranges {
		if b.cfg.exactlyOnce && rc.Range != b.cfg.rng {
			return b.fail(fmt.Errorf("exactly-once mode takes one receiver per process (range %s); got a checkpoint for %s", b.cfg.rng, rc.Range))
		}
		if !rc.Range.Overlaps(b.cfg.rng) {
			continue // another process's range, loaded but not ours to write
		}
		recs = append(recs, &kgo.Record{Topic: b.ckptTop, Key: []byte(rc.Range.String()), Value: encodeRange(rc)})
	}
	if len(recs) == 0 {
		return nil
	}
	if err := b.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return b.fail(fmt.Errorf("writing checkpoint to %s: %w", b.ckptTop, err))
	}
	if !b.cfg.exactlyOnce {
		b.commits.Add(1)
		return nil
	}
	if err := b.err(); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(context.Background(), b.cfg.flushTimeout)
	defer cancel()
	if err := b.cl.EndTransaction(cctx, kgo.TryCommit); err != nil {
		return b.fail(fmt.Errorf("committing transaction %q: %w", b.cfg.txnID, err))
	}
	b.inTxn = false
	b.commits.Add(1)
	if err := b.cl.BeginTransaction(); err != nil {
		return b.fail(fmt.Errorf("beginning transaction %q: %w", b.cfg.txnID, err))
	}
	b.inTxn = true
	return nil
}

// The checkpoint record's value: JSON, like the file checkpoint, with the
// seen events as base64 of big-endian (fingerprint, timestamp) pairs and a
// CRC-32C over the rest.
const (
	recordFormat  = "firehose-kafka-checkpoint"
	recordVersion = 1
)

type rangeRecord struct {
	Format    string `json:"format"`
	Version   int    `json:"version"`
	Min       int    `json:"minPartition"`
	Max       int    `json:"maxPartition"`
	Watermark int64  `json:"watermark"`
	Seen      string `json:"seen"`
	CRC32C    uint32 `json:"crc32c"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (r *rangeRecord) crc() uint32 {
	h := crc32.New(castagnoli)
	fmt.Fprintf(h, "%s/%d/%d-%d/%d/", r.Format, r.Version, r.Min, r.Max, r.Watermark)
	h.Write([]byte(r.Seen))
	return h.Sum32()
}

func encodeRange(rc firehose.RangeCheckpoint) []byte {
	raw := make([]byte, 16*len(rc.Seen))
	for i, e := range rc.Seen {
		binary.BigEndian.PutUint64(raw[16*i:], e.Fingerprint)
		binary.BigEndian.PutUint64(raw[16*i+8:], uint64(e.Timestamp))
	}
	r := rangeRecord{Format: recordFormat, Version: recordVersion, Min: rc.Range.Min, Max: rc.Range.Max,
		Watermark: rc.Watermark, Seen: base64.StdEncoding.EncodeToString(raw)}
	r.CRC32C = r.crc()
	b, _ := json.Marshal(r) // cannot fail: strings and numbers only
	return b
}

func decodeRange(b []byte) (firehose.RangeCheckpoint, error) {
	var r rangeRecord
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return firehose.RangeCheckpoint{}, fmt.Errorf("corrupt: %w", err)
	}
	switch {
	case r.Format != recordFormat:
		return firehose.RangeCheckpoint{}, fmt.Errorf("not a firehose checkpoint (format %q)", r.Format)
	case r.Version != recordVersion:
		return firehose.RangeCheckpoint{}, fmt.Errorf("version %d, this build reads version %d", r.Version, recordVersion)
	case r.crc() != r.CRC32C:
		return firehose.RangeCheckpoint{}, errors.New("corrupt: checksum mismatch")
	}
	rc := firehose.RangeCheckpoint{Range: firehose.Range{Min: r.Min, Max: r.Max}, Watermark: r.Watermark}
	if err := rc.Range.Validate(); err != nil {
		return firehose.RangeCheckpoint{}, fmt.Errorf("corrupt: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(r.Seen)
	if err != nil || len(raw)%16 != 0 {
		return firehose.RangeCheckpoint{}, errors.New("corrupt: seen events")
	}
	rc.Seen = make([]firehose.SeenEvent, len(raw)/16)
	for i := range rc.Seen {
		rc.Seen[i] = firehose.SeenEvent{
			Fingerprint: binary.BigEndian.Uint64(raw[16*i:]),
			Timestamp:   int64(binary.BigEndian.Uint64(raw[16*i+8:])),
		}
	}
	return rc, nil
}
