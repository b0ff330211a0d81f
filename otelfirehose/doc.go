// Package otelfirehose exports a firehose consumer's health as OpenTelemetry
// metrics: the messaging semantic conventions' consumer metric plus
// firehose.* instruments read from firehose.Client.ReceiverStats, a histogram
// of reconnect downtime fed by a connect hook, and a histogram of handler
// duration fed by a handler wrapper.
//
//	m, err := otelfirehose.New(meterProvider)
//	if err != nil { ... }
//	client, err := firehose.New(append(opts, m.Options()...)...)
//	if err != nil { ... }
//	if err := m.Observe(client); err != nil { ... }
//	defer m.Close()
//	err = client.Run(ctx, m.WrapHandler(handle))
//
// # What a collection reads
//
// The observable instruments share one callback: each collection takes one
// snapshot per observed client (Client.ReceiverStats, one Stats per open
// receiver) and reports every instrument from it, so the numbers of one
// collection agree with each other. A receiver's points carry
//
//	messaging.system                    the firehose: "cisco_spaces" for Cisco's
//	                                    channels (http, ws, grpc), else the source's
//	                                    name ("octave", "callevents", ...)
//	messaging.destination.partition.id  the receiver's partition range, "1-12"
//
// and, per instrument, one of cause, reason or type. No attribute carries an
// event id, a tenant or anything else that grows with the traffic. A
// receiver's points disappear when its stream is closed.
//
// # Instruments
//
//	name                                unit          kind                 attributes
//	messaging.client.consumed.messages  {message}     counter              + messaging.operation.name="receive"
//	firehose.events                     {event}       counter              + type
//	firehose.bytes                      By            counter
//	firehose.keepalives                 {keepalive}   counter
//	firehose.discarded                  {frame}       counter              + reason: duplicate, malformed, oversized, torn
//	firehose.unknown_types              {event}       counter
//	firehose.connects                   {connection}  counter
//	firehose.connect_failures           {attempt}     counter
//	firehose.reconnects                 {reconnect}   counter              + cause: eof, network, idle, rate_limited, server, canceled
//	firehose.gaps                       {gap}         counter              + reason: clamped, late_replay, no_replay, ...
//	firehose.connected                  {receiver}    up-down counter      (1 while the receiver is connected)
//	firehose.lag                        s             gauge
//	firehose.watermark.timestamp        s             gauge                (epoch seconds)
//	firehose.resume_point.timestamp     s             gauge                (epoch seconds; absent while live)
//	firehose.reconnect.downtime         s             histogram            (Options' connect hook)
//	firehose.handler.duration           s             histogram            type only (WrapHandler)
//
// Exported to Prometheus, these become the names promfirehose serves
// (firehose_lag_seconds, firehose_reconnects_total, ...), so one dashboard
// fits both.
package otelfirehose
