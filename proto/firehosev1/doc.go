// Package firehosev1 holds the protobuf messages of the Cisco Spaces Partner
// Firehose and the gRPC glue to call or serve its Firehose service.
//
// The messages (firehose.pb.go) are generated from ../firehose.proto by
// ../generate.sh; do not edit them by hand. The proto matches Cisco's v1.2.6
// "standard" proto field by field: every message, field name and number,
// scalar type, cardinality and enum value is Cisco's (facts_test.go holds the
// descriptors against the project's list of them), so the bytes on the wire
// are identical to those of Cisco's firehose_api_v1 messages, and protoc's
// JSON names and enum names are those of the HTTP and WebSocket NDJSON stream.
//
// The protobuf package is firehosego.cisco.v1, not firehose_api_v1, so that a
// program may also link code generated from Cisco's own proto without a
// registration conflict at start-up. The gRPC method paths on the wire stay
// Cisco's, /firehose_api_v1.Firehose/<Method>: the hand-written wire.go names
// them explicitly (see [FullMethodGetEvents] and [NewFirehoseClient]).
//
// Decoding notes:
//   - Unknown fields are skipped (kept as unknown fields in Go), so a record
//     from a newer server still decodes.
//   - EventType has no UNSPECIFIED value: 0 is DEVICE_ENTRY. An unknown enum
//     number from the binary wire is kept as that number; protojson with
//     DiscardUnknown turns an unknown enum NAME into the field's zero value.
//   - protojson writes int64 as quoted strings, whereas Cisco's NDJSON has
//     plain numbers (protojson reads both).
package firehosev1
