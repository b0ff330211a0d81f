package octave

import (
	"fmt"
	"time"

	"github.com/firehose-go/firehose"
	"github.com/firehose-go/firehose/wsclient"
)

// The source's errors as the engine's seam types them.

// retryOnce marks an auth failure to be retried once with a fresh session.
func retryOnce(err error) error { return firehose.Retry(err) }

// gapEvictedError reports events the stream's capacity deleted before gap-fill could fetch them:
// from the position the fill started at up to the first event still stored (to; 0: none).
func gapEvictedError(stream string, from, to int64) error {
	detail := "the stream no longer holds the newest event delivered before the gap: its capacity evicted events gap-fill could not fetch"
	if to == 0 {
		detail = "the stream holds nothing from the position on: its capacity evicted events gap-fill could not fetch (or it keeps none)"
	}
	return &firehose.GapError{Reason: firehose.GapEvicted, Stream: stream, From: from, ResumedAt: to, Detail: detail}
}

// gapNoReplayError reports a stream subscribed again without gap-fill (Config.GapFill off).
func gapNoReplayError(stream string, since int64) error {
	return &firehose.GapError{Reason: firehose.GapNoReplay, Stream: stream, From: since, ResumedAt: time.Now().UnixMilli(),
		Detail: "subscribed again without gap-fill: events created meanwhile are lost"}
}

// gapFillFailedError reports a gap that gap-fill could not close: REST refused it for good.
func gapFillFailedError(stream string, from int64, err error) error {
	return &firehose.GapError{Reason: firehose.GapNoReplay, Stream: stream, From: from, ResumedAt: time.Now().UnixMilli(),
		Detail: fmt.Sprintf("gap-fill refused: %v", err)}
}

// unitError reports a message the socket dropped (oversized, binary, empty, torn).
func unitError(ue *wsclient.UnitError, max int) error {
	r := firehose.DropMalformed
	switch ue.Kind {
	case wsclient.Oversized:
		r = firehose.DropOversized
		return frameError(r, ue.Size, fmt.Errorf("octave: message of %d bytes exceeds the maximum event size %d", ue.Size, max))
	case wsclient.Binary:
		r = firehose.DropBinary
	case wsclient.Empty:
		r = firehose.DropEmpty
	case wsclient.Torn:
		r = firehose.DropTorn
	}
	return frameError(r, ue.Size, ue)
}

// frameError reports one bad frame; the connection goes on.
func frameError(reason firehose.DropReason, size int, err error) error {
	return &firehose.FrameError{Reason: reason, Size: size, Err: err}
}

func fmtMS(ms int64) string {
	if ms == 0 {
		return "the start"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}
