// Package tracing sets up OpenTelemetry for the service: the W3C trace
// context and baggage propagators always, an SDK TracerProvider with the
// OTLP/HTTP exporter only when an OTLP endpoint is configured.
//
// Configuration is OpenTelemetry's own environment variables, read by the
// SDK and the exporter:
//
//	OTEL_EXPORTER_OTLP_ENDPOINT         (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) turns tracing on
//	OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, _INSECURE   the exporter's settings
//	OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG   the sampler (default parentbased_always_on)
//	OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES    the resource (service.name defaults to the service's name)
//	OTEL_SDK_DISABLED=true              turns tracing off whatever the endpoint
//
// Without an endpoint nothing is installed: the global TracerProvider stays
// OpenTelemetry's no-op, the API server gets a no-op provider, and the
// database and Redis clients get no tracer at all, so an unconfigured
// service pays (next to) nothing. Trace context still passes through: an
// incoming traceparent reaches the logs (LogHandler) and outgoing calls
// (Transport).
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// InstrumentationName names the tracer of the service's own spans (cache
// tiers, batch loader): this package's import path,
// <module>/internal/platform/tracing in a service.
var InstrumentationName = reflect.TypeFor[instrumentation]().PkgPath()

// instrumentation is a type of this package, for its import path.
type instrumentation struct{}

// installed is set once Start has installed an SDK TracerProvider.
var installed atomic.Bool

// Configured reports whether the environment asks for traces to be
// exported: OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// is set and OTEL_SDK_DISABLED is not "true".
func Configured() bool {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Installed reports whether Start installed an SDK TracerProvider. The
// platform packages add their tracers (otelpgx, redisotel) only then.
func Installed() bool { return installed.Load() }

// Start installs the W3C tracecontext + baggage propagator and, when
// Configured, an SDK TracerProvider that batches spans to the OTLP/HTTP
// exporter, as the global provider. The returned shutdown flushes the
// spans still buffered; call it on the way out. Without configuration it
// installs no provider and shutdown does nothing.
func Start(ctx context.Context, service string, log *slog.Logger) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	if !Configured() {
		return func(context.Context) error { return nil }, nil
	}
	if log == nil {
		log = slog.Default()
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter (OTEL_EXPORTER_OTLP_*): %w", err)
	}
	// The service's name first: OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES (WithFromEnv) override it.
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(service)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("tracing: resource (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME): %w", err)
	}
	// The sampler comes from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG
	// (the SDK reads them; parentbased_always_on without them).
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("opentelemetry", slog.String("error", err.Error()))
	}))
	installed.Store(true)
	log.Info("tracing on", slog.String("exporter", "otlp/http"), slog.String("sampler", envOr("OTEL_TRACES_SAMPLER", "parentbased_always_on")))
	return func(ctx context.Context) error {
		installed.Store(false)
		otel.SetTracerProvider(tracenoop.NewTracerProvider())
		if err := tp.Shutdown(ctx); err != nil {
			return fmt.Errorf("tracing: flush spans: %w", err)
		}
		return nil
	}, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// TracerProvider is the provider the API server's spans start from: the
// SDK's once Start installed it, a no-op otherwise (cheaper than the global
// delegating one, and it still carries an incoming span context along).
func TracerProvider() trace.TracerProvider {
	if Installed() {
		return otel.GetTracerProvider()
	}
	return tracenoop.NewTracerProvider()
}

// MeterProvider is the provider for ogen's own OpenTelemetry metrics: a
// no-op, since the RED metrics of internal/platform/metrics already count
// and time every operation for Prometheus.
func MeterProvider() metric.MeterProvider { return metricnoop.NewMeterProvider() }

// StartSpan starts a span named name under ctx's span, only when that span
// is recording (an SDK is installed and the request is sampled). Otherwise
// it returns ctx and ctx's own non-recording span, allocating nothing: End
// and SetAttributes on it do nothing. Guard attribute building with
// span.IsRecording().
func StartSpan(ctx context.Context, name string) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, parent
	}
	return otel.Tracer(InstrumentationName).Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal))
}

// Extract continues the trace of an incoming request: it reads the
// traceparent, tracestate and baggage headers into the request's context
// before next runs. A request without a traceparent header goes through
// untouched, without an allocation.
func Extract(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Header["Traceparent"]; ok {
			ctx := otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// Transport wraps base (http.DefaultTransport when nil) so that every
// outgoing request carries the caller's trace context (traceparent,
// baggage) and, when tracing is installed, gets a client span. Use it for
// every HTTP client the service builds:
//
//	client := &http.Client{Transport: tracing.Transport(nil), Timeout: 2 * time.Second}
//	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil) // ctx: the handler's
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	// The global provider and propagator delegate to what Start installs,
	// whenever the transport was built.
	return otelhttp.NewTransport(base, otelhttp.WithMeterProvider(MeterProvider()))
}
