package firehose

import "github.com/firehose-go/firehose/internal/envelope"

// testSpec is the Cisco spec of cfg, for tests that build a stream by hand.
func testSpec(cfg *config) *SourceSpec {
	if cfg.source == nil {
		cfg.source = ciscoSpec(cfg)
	}
	return cfg.source
}

// jsonFrame is the frame the HTTP and WebSocket channels make of a scanned line.
func jsonFrame(line []byte, env *envelope.Envelope) *Frame {
	f := &Frame{Raw: line}
	f.cisco.env, f.cisco.format = *env, formatJSON
	f.publish()
	return f
}
