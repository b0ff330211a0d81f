package firehose

// Cisco Spaces' three pull channels are Sources like any other: the options
// WithTransport, WithAPIKey, WithEndpoint and WithRegion pick one and
// configure it, and the engine sees only the seam. All three replay by
// timestamp.

// ciscoSpec is the SourceSpec of the configured Cisco channel.
func ciscoSpec(cfg *config) *SourceSpec {
	return &SourceSpec{
		Name:    string(cfg.transport),
		Resume:  ResumeTimestamp,
		Secrets: []string{string(cfg.key)},
		New: func(SourceConfig) (Source, error) {
			switch cfg.transport {
			case TransportWebSocket:
				return newWSConnector(cfg)
			case TransportGRPC:
				return newGRPCConnector(cfg)
			}
			return newHTTPConnector(cfg), nil
		},
	}
}
