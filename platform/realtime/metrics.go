package realtime

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/svcgen/svcgen/platform/compress"
)

// Reasons a client is disconnected by the hub, the reason label of
// <ns>_realtime_clients_dropped_total.
const (
	ReasonSlow         = "slow"          // its send queue filled up (close 1013)
	ReasonWriteTimeout = "write_timeout" // a frame could not be written within WriteTimeout
	ReasonPingTimeout  = "ping_timeout"  // no pong within PingTimeout
	ReasonReadLimit    = "read_limit"    // it sent a message above MaxMessageBytes (close 1009)
	ReasonBadMessage   = "bad_message"   // it sent a message the hub does not understand (close 1008)
	ReasonReadError    = "read_error"    // the connection broke while reading
	ReasonUnavailable  = "unavailable"   // a hook could not decide, a backend is down (close 1013)
)

var dropReasons = []string{ReasonSlow, ReasonWriteTimeout, ReasonPingTimeout, ReasonReadLimit, ReasonBadMessage, ReasonReadError, ReasonUnavailable}

// FanoutBuckets suit the time one Publish takes to queue a message for a
// room's members: 1 µs to 100 ms (seconds).
var FanoutBuckets = []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 1e-2, 1e-1}

// Metrics of the hub:
//
//	<ns>_realtime_connections                          gauge
//	<ns>_realtime_messages_sent_total                  counter (messages, not frames)
//	<ns>_realtime_messages_received_total              counter
//	<ns>_realtime_frames_sent_total{encoding}          counter, raw|lz4|zstd
//	<ns>_realtime_bytes_sent_total{encoding}           counter, frame bytes
//	<ns>_realtime_clients_dropped_total{reason}        counter
//	<ns>_realtime_fanout_duration_seconds              histogram
type Metrics struct {
	connections prometheus.Gauge
	sent        prometheus.Counter
	received    prometheus.Counter
	fanout      prometheus.Histogram
	frames      [3]prometheus.Counter // by compress kind
	bytes       [3]prometheus.Counter
	dropped     map[string]prometheus.Counter
}

// encodings name the compress kinds, indexed by kind byte.
var encodings = [3]string{compress.KindRaw: "raw", compress.KindLZ4: "lz4", compress.KindZstdDict: "zstd"}

// NewMetrics registers the hub's metrics on reg under namespace.
func NewMetrics(reg prometheus.Registerer, namespace string) (*Metrics, error) {
	m := &Metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "realtime", Name: "connections",
			Help: "WebSocket clients connected to the hub."}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: "realtime", Name: "messages_sent_total",
			Help: "Messages written to clients (a frame carries one or a tick's batch)."}),
		received: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: "realtime", Name: "messages_received_total",
			Help: "Messages read from clients."}),
		fanout: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Subsystem: "realtime", Name: "fanout_duration_seconds",
			Help: "Time to queue one published message for every member of its room.", Buckets: FanoutBuckets}),
		dropped: make(map[string]prometheus.Counter, len(dropReasons)),
	}
	frames := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "realtime", Name: "frames_sent_total",
		Help: "WebSocket frames written to clients, by encoding."}, []string{"encoding"})
	bytes := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "realtime", Name: "bytes_sent_total",
		Help: "Frame bytes written to clients (after compression, before WebSocket framing), by encoding."}, []string{"encoding"})
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "realtime", Name: "clients_dropped_total",
		Help: "Clients the hub disconnected, by reason."}, []string{"reason"})
	for k, name := range encodings {
		m.frames[k] = frames.WithLabelValues(name)
		m.bytes[k] = bytes.WithLabelValues(name)
	}
	for _, r := range dropReasons {
		m.dropped[r] = dropped.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{m.connections, m.sent, m.received, m.fanout, frames, bytes, dropped} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, errors.New("realtime: metrics are already registered: build one hub per registry")
			}
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) frame(kind byte, n int) {
	if int(kind) < len(m.frames) {
		m.frames[kind].Inc()
		m.bytes[kind].Add(float64(n))
	}
}

// relayMetrics are the metrics of UseRedis, registered by it:
//
//	<ns>_realtime_relay_up                   gauge, 1 while subscribed to Redis
//	<ns>_realtime_relay_outages_total        counter, times the subscription was lost
//	<ns>_realtime_relay_published_total      counter, messages sent to the other replicas
//	<ns>_realtime_relay_received_total       counter, deliveries of other replicas' messages to local clients
//	<ns>_realtime_relay_dropped_total{reason} counter, messages the other replicas did not get: queue_full|redis_error
//	<ns>_realtime_relay_errors_total         counter, failed Redis calls (publish, presence, Members)
//	<ns>_realtime_relay_bad_total            counter, envelopes that could not be read
type relayMetrics struct {
	up        prometheus.Gauge
	outages   prometheus.Counter
	published prometheus.Counter
	received  prometheus.Counter
	errors    prometheus.Counter
	bad       prometheus.Counter
	dropped   map[string]prometheus.Counter
}

func newRelayMetrics(reg prometheus.Registerer, namespace string) (*relayMetrics, error) {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: "realtime", Name: name, Help: help})
	}
	m := &relayMetrics{
		up: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "realtime", Name: "relay_up",
			Help: "1 while the hub is subscribed to Redis and its rooms span replicas; 0 while it serves local clients only."}),
		outages:   counter("relay_outages_total", "Times the hub lost its Redis subscription."),
		published: counter("relay_published_total", "Messages sent to the other replicas through Redis."),
		received:  counter("relay_received_total", "Messages of other replicas queued for local clients (one per client)."),
		errors:    counter("relay_errors_total", "Redis calls of the relay that failed (publish, presence, Members)."),
		bad:       counter("relay_bad_total", "Relayed envelopes that could not be read."),
		dropped:   map[string]prometheus.Counter{},
	}
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "realtime", Name: "relay_dropped_total",
		Help: "Messages the other replicas did not get, by reason."}, []string{"reason"})
	for _, r := range []string{RelayDropQueueFull, RelayDropRedisError} {
		m.dropped[r] = dropped.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{m.up, m.outages, m.published, m.received, m.errors, m.bad, dropped} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("realtime: relay metrics: %w", err)
		}
	}
	return m, nil
}
