package generator

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Params are the tuning parameters that features read. Every field a
// feature reads has a default in that feature's feature.yaml (the base
// folder's for what every service reads); a preset's params replace the
// defaults field by field (Catalog.Params), and the service's config can
// override them at run time.
type Params struct {
	// Server tunes the public http.Server.
	Server ServerParams `yaml:"server" json:"server"`
	// Timeouts are the deadlines of the timeouts feature.
	Timeouts TimeoutParams `yaml:"timeouts" json:"timeouts"`
	// DBPool tunes pgxpool (dbpool feature).
	DBPool DBPoolParams `yaml:"dbpool" json:"dbpool"`
	// Pool tunes the sync.Pool scratch buffers (pool feature).
	Pool PoolParams `yaml:"pool" json:"pool"`
	// Partition tunes the partition upkeep job (partition feature).
	Partition PartitionParams `yaml:"partition,omitempty" json:"partition,omitempty"`
	// Matview tunes the materialized view refresher (matview feature).
	Matview MatviewParams `yaml:"matview,omitempty" json:"matview,omitempty"`
	// Cache3 tunes the 3-tier cache (cache3 feature); its Redis budget is
	// Timeouts.Cache.
	Cache3 Cache3Params `yaml:"cache3,omitempty" json:"cache3,omitempty"`
	// Compression tunes HTTP response compression and the realtime frame
	// codec (compression feature).
	Compression CompressionParams `yaml:"compression,omitempty" json:"compression,omitempty"`
	// Realtime tunes the WebSocket hub (realtime feature).
	Realtime RealtimeParams `yaml:"realtime,omitempty" json:"realtime,omitempty"`
	// Batch tunes the request-coalescing loader and the COPY chunks (batch
	// feature); a batch call's budget is Timeouts.DB.
	Batch BatchParams `yaml:"batch,omitempty" json:"batch,omitempty"`
	// Observability holds the alert thresholds of the observability
	// feature (Prometheus rules and the Grafana dashboard).
	Observability ObservabilityParams `yaml:"observability,omitempty" json:"observability,omitempty"`
	// Runtime tunes the Go runtime the service starts with.
	Runtime RuntimeParams `yaml:"runtime,omitempty" json:"runtime,omitempty"`
}

// RuntimeParams tune the Go runtime of every service.
type RuntimeParams struct {
	// GOGC is the service's default GC target (GOGC), used when the
	// environment sets none: the heap may grow by this percentage of the
	// live heap before the next collection, so a higher value spends
	// less CPU on the GC for more memory, within GOMEMLIMIT. 0: the Go
	// runtime's default, 100.
	GOGC int `yaml:"gogc,omitempty" json:"gogc,omitempty"`
}

// GCPercent is the GOGC a service starts with when its environment sets
// none.
func (r RuntimeParams) GCPercent() int {
	if r.GOGC == 0 {
		return 100
	}
	return r.GOGC
}

// BatchParams tune the batch feature.
type BatchParams struct {
	// Wait is how long the first read of a batch waits for others to join
	// it: the most latency batching adds to a read.
	Wait Duration `yaml:"wait" json:"wait"`
	// MaxBatch is the most ids one `= ANY($1)` query gets; a full batch is
	// sent at once, without waiting out Wait.
	MaxBatch int `yaml:"max_batch" json:"max_batch"`
	// CopyChunk is the most rows one COPY statement carries on bulk ingest.
	CopyChunk int `yaml:"copy_chunk,omitempty" json:"copy_chunk,omitempty"`
}

// RealtimeParams tune the WebSocket hub of the realtime feature. The
// generated config reads the same settings from REALTIME_* variables; the
// frames' codec is the compression feature's (params.compression).
type RealtimeParams struct {
	// Path is where the WebSocket endpoint is mounted on the public mux
	// (GET), e.g. "/ws".
	Path string `yaml:"path" json:"path"`
	// Origins are the host patterns (path.Match syntax, e.g.
	// "*.example.com") a browser's Origin may come from; empty allows the
	// same origin only.
	Origins []string `yaml:"origins,omitempty" json:"origins,omitempty"`
	// Tick is how long the hub coalesces a client's messages into one
	// frame (50ms: 20 frames per second at most); 0 sends every message in
	// a frame of its own, at once.
	Tick Duration `yaml:"tick" json:"tick"`
	// PingInterval is how often each client is pinged (keepalive).
	PingInterval Duration `yaml:"ping_interval" json:"ping_interval"`
	// PingTimeout: a client whose pong takes longer is disconnected.
	PingTimeout Duration `yaml:"ping_timeout" json:"ping_timeout"`
	// WriteTimeout bounds writing one frame to a client; a client that
	// cannot take a frame in time is disconnected.
	WriteTimeout Duration `yaml:"write_timeout" json:"write_timeout"`
	// SendQueue is how many messages may wait for one client; a client
	// that falls further behind is disconnected (close code 1013), never
	// buffered without limit.
	SendQueue int `yaml:"send_queue" json:"send_queue"`
	// MaxMessageBytes is the largest message a client may send; a larger
	// one closes the connection with 1009 (message too big).
	MaxMessageBytes int64 `yaml:"max_message_bytes" json:"max_message_bytes"`
	// PresenceInterval is how often a replica refreshes its room
	// memberships in Redis (REDIS_URL set: rooms span replicas); the
	// members of a replica silent for three intervals stop counting.
	PresenceInterval Duration `yaml:"presence_interval" json:"presence_interval"`
}

// WithDefaults returns r with svcgen's defaults in its zero fields. The
// realtime feature's defaults (templates/realtime/feature.yaml) already
// fill every field a preset leaves out; this is the backstop for fields a
// preset sets to 0 where 0 cannot work (send_queue, the ping and write
// timeouts). Tick 0 is kept (it means "no batching") unless every field is
// zero, which gets the 50ms default.
func (r RealtimeParams) WithDefaults() RealtimeParams {
	if r.Path == "" && r.Tick == 0 && r.SendQueue == 0 && r.MaxMessageBytes == 0 &&
		r.PingInterval == 0 && r.PingTimeout == 0 && r.WriteTimeout == 0 && len(r.Origins) == 0 &&
		r.PresenceInterval == 0 {
		r.Tick = Duration(50 * time.Millisecond)
	}
	if r.Path == "" {
		r.Path = "/ws"
	}
	if r.PingInterval == 0 {
		r.PingInterval = Duration(15 * time.Second)
	}
	if r.PingTimeout == 0 {
		r.PingTimeout = Duration(5 * time.Second)
	}
	if r.WriteTimeout == 0 {
		r.WriteTimeout = Duration(2 * time.Second)
	}
	if r.SendQueue == 0 {
		r.SendQueue = 256
	}
	if r.MaxMessageBytes == 0 {
		r.MaxMessageBytes = 4096
	}
	if r.PresenceInterval == 0 {
		r.PresenceInterval = Duration(2 * time.Second)
	}
	return r
}

// CompressionParams tune the compression feature. Zero values take the
// defaults given on each field.
type CompressionParams struct {
	// FrameMode is how realtime frames are compressed: lz4 (default; fast,
	// gains on batched frames of 1 KB and more) or zstd-dict (zstd with the
	// service's trained dictionary; halves even single ~300-byte messages,
	// at more CPU per message).
	FrameMode string `yaml:"frame_mode,omitempty" json:"frame_mode,omitempty" jsonschema:"enum=lz4,enum=zstd-dict"`
	// FrameThreshold: frame payloads shorter than this many bytes are sent
	// raw. 0: the mode's default (1024 for lz4, 64 for zstd-dict).
	FrameThreshold int `yaml:"frame_threshold,omitempty" json:"frame_threshold,omitempty"`
	// HTTPMinBytes: HTTP responses shorter than this many bytes are sent
	// uncompressed. 0: 1024.
	HTTPMinBytes int `yaml:"http_min_bytes,omitempty" json:"http_min_bytes,omitempty"`
	// GzipLevel is the gzip level of HTTP responses, 1 (fastest) to 9
	// (smallest). 0: 5.
	GzipLevel int `yaml:"gzip_level,omitempty" json:"gzip_level,omitempty"`
	// ZstdLevel is the zstd level of HTTP responses: fastest (default),
	// default, better or best.
	ZstdLevel string `yaml:"zstd_level,omitempty" json:"zstd_level,omitempty" jsonschema:"enum=fastest,enum=default,enum=better,enum=best"`
}

// ObservabilityParams are the thresholds of the generated Prometheus alert
// rules (deploy/observability). An alert fires when its condition has held
// for For.
type ObservabilityParams struct {
	// LatencyP99 is the highest P99 request duration of an operation.
	LatencyP99 Duration `yaml:"latency_p99" json:"latency_p99"`
	// LatencyP95 is the highest P95 request duration of an operation.
	LatencyP95 Duration `yaml:"latency_p95" json:"latency_p95"`
	// ErrorRatio is the highest share of 5xx answers of an operation (0.01: 1%).
	ErrorRatio float64 `yaml:"error_ratio" json:"error_ratio"`
	// MemoryBytes is the highest resident memory of one replica, in bytes.
	MemoryBytes int64 `yaml:"memory_bytes" json:"memory_bytes"`
	// DBConns is the most open database connections of one replica.
	DBConns int `yaml:"db_conns" json:"db_conns"`
	// GCPauseP99 is the highest P99 stop-the-world GC pause.
	GCPauseP99 Duration `yaml:"gc_pause_p99" json:"gc_pause_p99"`
	// GoroutineGrowth is how many goroutines one replica may gain over
	// GoroutineWindow before a leak is suspected.
	GoroutineGrowth int `yaml:"goroutine_growth" json:"goroutine_growth"`
	// GoroutineWindow is the window GoroutineGrowth is measured over.
	GoroutineWindow Duration `yaml:"goroutine_window" json:"goroutine_window"`
	// CacheHitRatio is the lowest share of cache lookups answered without
	// the database (cache3 feature).
	CacheHitRatio float64 `yaml:"cache_hit_ratio,omitempty" json:"cache_hit_ratio,omitempty"`
	// For is how long a condition must hold before its alert fires.
	For Duration `yaml:"for" json:"for"`
}

// Cache3Params tune the 3-tier cache: memory (L1), Redis (L2), Postgres.
type Cache3Params struct {
	// L1TTL is how long an entry stays in a replica's memory: the longest a
	// replica may serve a stale value if an invalidation message is lost.
	L1TTL Duration `yaml:"l1_ttl" json:"l1_ttl"`
	// L1Size is the most entries kept in memory per cache and replica.
	L1Size int `yaml:"l1_size" json:"l1_size"`
	// L2TTL is how long an entry stays in Redis.
	L2TTL Duration `yaml:"l2_ttl" json:"l2_ttl"`
	// NegativeTTL is how long "this id does not exist" is cached.
	NegativeTTL Duration `yaml:"negative_ttl" json:"negative_ttl"`
	// Jitter shortens every TTL by a random fraction of up to Jitter (0.1:
	// up to 10%), so entries cached together do not expire together.
	Jitter float64 `yaml:"jitter,omitempty" json:"jitter,omitempty"`
}

// ServerParams tune the public http.Server.
type ServerParams struct {
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout Duration `yaml:"read_timeout" json:"read_timeout"`
	// ReadHeaderTimeout bounds reading the request headers (slowloris guard).
	ReadHeaderTimeout Duration `yaml:"read_header_timeout" json:"read_header_timeout"`
	// WriteTimeout bounds writing the response; a backstop above the
	// per-operation deadline.
	WriteTimeout Duration `yaml:"write_timeout" json:"write_timeout"`
	// IdleTimeout closes idle keep-alive connections.
	IdleTimeout Duration `yaml:"idle_timeout" json:"idle_timeout"`
	// ShutdownTimeout is how long a SIGTERM waits for in-flight requests.
	ShutdownTimeout Duration `yaml:"shutdown_timeout" json:"shutdown_timeout"`
	// MaxBodyBytes limits a request body; larger bodies get 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes" json:"max_body_bytes"`
	// MaxInFlight is how many API requests run at once; more are shed
	// with 503 and Retry-After before they queue. 0: no limit.
	MaxInFlight int `yaml:"max_in_flight" json:"max_in_flight"`
	// MaxConns is how many client connections the public server keeps;
	// past it an idle keep-alive one is closed to make room, or the new
	// one answered 503. 0: no limit.
	MaxConns int `yaml:"max_conns" json:"max_conns"`
}

// TimeoutParams are the deadlines of the timeouts feature.
type TimeoutParams struct {
	// HTTP is the default deadline of one API operation.
	HTTP Duration `yaml:"http" json:"http"`
	// DB is the budget of one database call inside an operation.
	DB Duration `yaml:"db" json:"db"`
	// Cache is the budget of one cache (Redis) call inside an operation.
	Cache Duration `yaml:"cache" json:"cache"`
	// Operations overrides HTTP per operation, keyed by operationId.
	Operations map[string]Duration `yaml:"operations,omitempty" json:"operations,omitempty"`
}

// DBPoolParams tune pgxpool.
type DBPoolParams struct {
	// MaxConns caps open connections per replica.
	MaxConns int32 `yaml:"max_conns" json:"max_conns"`
	// MinConns are kept open and warm.
	MinConns int32 `yaml:"min_conns" json:"min_conns"`
	// MaxConnLifetime recycles connections (load balancer and failover friendly).
	MaxConnLifetime Duration `yaml:"max_conn_lifetime" json:"max_conn_lifetime"`
	// MaxConnIdleTime closes connections idle for longer.
	MaxConnIdleTime Duration `yaml:"max_conn_idle_time" json:"max_conn_idle_time"`
	// HealthCheckPeriod is how often idle connections are checked.
	HealthCheckPeriod Duration `yaml:"health_check_period" json:"health_check_period"`
}

// PoolParams tune the pooled scratch buffers.
type PoolParams struct {
	// BufferSize is the initial capacity of a pooled buffer, in bytes.
	BufferSize int `yaml:"buffer_size" json:"buffer_size"`
	// MaxBufferSize: buffers grown past it are dropped instead of pooled,
	// so one huge response does not pin memory forever.
	MaxBufferSize int `yaml:"max_buffer_size" json:"max_buffer_size"`
}

// PartitionParams tune the partition feature: a time-range partitioned
// table and the job that keeps its partitions.
type PartitionParams struct {
	// Interval is the time range of one partition: day, week or month.
	Interval string `yaml:"interval" json:"interval" jsonschema:"enum=day,enum=week,enum=month"`
	// Premake is how many partitions are kept created ahead of the current
	// one, so writes never land in the default partition.
	Premake int `yaml:"premake" json:"premake"`
	// Retention is how many past partitions are kept besides the current
	// one; older ones are detached and dropped. 0 keeps them all.
	Retention int `yaml:"retention" json:"retention"`
	// CheckEvery is how often the job runs (it also runs at start).
	CheckEvery Duration `yaml:"check_every" json:"check_every"`
}

// MatviewParams tune the matview feature.
type MatviewParams struct {
	// RefreshEvery is how often the materialized views are refreshed
	// (CONCURRENTLY); it is also how stale a read may be.
	RefreshEvery Duration `yaml:"refresh_every" json:"refresh_every"`
}

// Operation is one API operation of the service's OpenAPI spec, as ogen
// names it. Key is the one name to key it by (its operationId, else
// ogen's Name).
type Operation struct {
	// Name is ogen's Go method name on the Handler interface, e.g. "GetItem".
	Name string
	// OperationID is the spec's operationId exactly as written ("find pet
	// by id" too), the value ogen's Route.OperationID returns; "" when the
	// spec has none.
	OperationID string
	// Method is the HTTP method, upper case.
	Method string
	// Path is the spec's path template, e.g. "/items/{id}".
	Path string
	// Summary is the spec's summary of the operation.
	Summary string
	// File is the snake_case base name of its handler file, e.g. "get_item".
	File string
	// Params is the Go parameter list of the handler method, e.g.
	// "ctx context.Context, params api.GetItemParams".
	Params string
	// Results is the Go result list, e.g. "(api.GetItemRes, error)".
	Results string
	// Starter is true when the preset's starter has an implementation for
	// this operation (templates/starters/<starter>/ops/<Name>.go.tmpl).
	Starter bool
}

// Key is the operation's one name everywhere a service keys by
// operation (metrics labels, TIMEOUT_OPERATIONS, config.OperationIDs): the
// spec's operationId, or ogen's Name where the spec has none. It equals
// what the service computes at run time from ogen's route:
// Route.OperationID(), or Route.Name() when that is "".
func (op Operation) Key() string {
	if op.OperationID != "" {
		return op.OperationID
	}
	return op.Name
}

// Data is what every template receives. Put
// {{/* gotype: github.com/svcgen/svcgen/generator.Data */}} on a template's
// first line.
type Data struct {
	// Header is the first line of every generated Go file:
	// "// Code generated by svcgen vX.Y.Z. DO NOT EDIT."
	Header string
	// Version is the svcgen version.
	Version string
	// Name is the service name, kebab-case ("inventory-service-go"); it is
	// also the binary name and the cmd/ folder.
	Name string
	// Package is a Go identifier derived from Name ("inventoryservicego").
	Package string
	// Snake is Name in snake_case ("inventory_service_go"): metric
	// namespace, database name prefix.
	Snake string
	// Module is the Go module path.
	Module string
	// GoVersion is the go directive of the generated go.mod.
	GoVersion string
	// Preset is the preset name.
	Preset string
	// Starter is the starter the preset uses ("entity", "events"); it is
	// set even with a user spec, because the starter's store still ships.
	Starter string
	// StarterSpec is true when api/openapi.yaml is the starter spec.
	StarterSpec bool
	// HTTPPort and AdminPort are the default ports.
	HTTPPort  int
	AdminPort int
	// Params are the preset's parameters with overrides applied.
	Params Params
	// Operations are the spec's operations, in spec order.
	Operations []Operation
	// Probes are requests synthesized from the spec, one per operation in
	// Operations order (generator/probe.go): the generated API tests and
	// the load scenario of a user spec send them.
	Probes []Probe
	// Op is the operation a per-operation template renders ("__op__" in
	// its path); nil elsewhere.
	Op *Operation
	// HasNewError is true when ogen generated a NewError method on the
	// Handler (the spec has a default error response).
	HasNewError bool
	// Errors is the spec's error shape: how errors are answered.
	Errors ErrorShape
	// Security are the methods of ogen's SecurityHandler, one per security
	// scheme of the spec; empty when the spec has none.
	Security []Operation
	// Modules are the Go modules the enabled features require, sorted.
	Modules []Module
	// Explain is set by svcgen new --explain: the templates add newcomer
	// comments ("Explain KEY: ..." lines, the targets of the line function)
	// and TUTORIAL.md.
	Explain bool
	// Clients are the service's dependencies (Options.Clients), in the
	// manifest's order.
	Clients []ClientData
	// Client is the dependency a per-client template renders
	// ("__client__" in its path); nil elsewhere.
	Client *ClientData
	// ConfigParts are the enabled features that bring a settings file of
	// their own (templates/<feature>/internal/config/<feature>.go.tmpl,
	// declaring type <feature>Settings with default<Feature>Settings and
	// a read method), sorted: internal/config/platform.go embeds them.
	ConfigParts []ConfigPart
	// features holds the enabled features.
	features map[string]bool
	// known are the names .Feature accepts: every feature of the catalog
	// and the adopt packages; nil accepts any name (a Data built by hand).
	known []string
}

// ConfigPart is one feature's part of the generated configuration.
type ConfigPart struct {
	// Feature is the feature's name ("cache3").
	Feature string
	// Type is its settings struct ("cache3Settings").
	Type string
	// Place is where the platform struct embeds it (Feature.ConfigRank):
	// "first", "last" (after the platform's own fields) or "nopointers"
	// (with the pointer-free fields at the end).
	Place string
	// rank orders the parts of one place.
	rank int
}

// PreStopSeconds is the deployment's preStop sleep: endpoints drop the pod
// before SIGTERM starts the drain.
func (d *Data) PreStopSeconds() int { return preStopSeconds }

const preStopSeconds = 5

// GracePeriodSeconds is the pod's terminationGracePeriodSeconds: the
// preStop sleep, then SHUTDOWN_TIMEOUT twice (the servers drain within it,
// then the shutdown hooks, the realtime hub's close among them, get it
// again), and 5 s for the deferred clean-ups, rounded up to a second.
func (d *Data) GracePeriodSeconds() int {
	shutdown := time.Duration(d.Params.Server.ShutdownTimeout)
	if shutdown <= 0 {
		shutdown = 15 * time.Second // a catalog without the servemux feature's defaults
	}
	total := preStopSeconds*time.Second + 2*shutdown + 5*time.Second
	return int((total + time.Second - 1) / time.Second)
}

// Module is one require line of go.mod.
type Module struct {
	Path    string `yaml:"path" json:"path"`
	Version string `yaml:"version" json:"version"`
}

// Feature reports whether the named feature is enabled.
//
// A name that is no feature (nor adopt package) of the catalog is an error,
// so a typo fails the render at the template's line instead of reading as
// false.
func (d *Data) Feature(name string) (bool, error) {
	if d.known != nil && !slices.Contains(d.known, name) {
		return false, fmt.Errorf("unknown feature %q%s; known: %s", name, suggest(name, d.known), strings.Join(d.known, ", "))
	}
	return d.features[name], nil
}

// has reports whether a feature is enabled, for Go callers.
func (d *Data) has(name string) bool { return d.features[name] }

// FeatureList returns the enabled features, sorted.
func (d *Data) FeatureList() []string {
	out := make([]string, 0, len(d.features))
	for f := range d.features {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}
