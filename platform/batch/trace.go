//go:build !no_tracing

package batch

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/svcgen/svcgen/platform/tracing"
)

// loaderTrace is what a Loader's batch spans need: its name (batch.name).
type loaderTrace struct{ name string }

func newLoaderTrace(name string) loaderTrace { return loaderTrace{name: name} }

// pendingTrace holds a batch's links to the sampled callers' spans: the
// batch's span starts under the first and links the others.
type pendingTrace struct{ links []trace.Link }

// join links the batch to the caller's span when it is recording
// (sampled); l.mu is held and the batch is not sent yet.
func (t *pendingTrace) join(ctx context.Context) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	sc := span.SpanContext()
	if n := len(t.links); n > 0 && t.links[n-1].SpanContext.Equal(sc) {
		return // LoadMany: one link a caller, not a key
	}
	t.links = append(t.links, trace.Link{SpanContext: sc})
}

// batchSpan is the span of one batch call; a batch no sampled caller
// joined has none.
type batchSpan struct{ s trace.Span }

// start starts the span of a batch of size keys, when a sampled caller
// joined it: one span a batch, under the first sampled caller's span,
// linked to every sampled caller's; its query spans are its children.
func (l loaderTrace) start(ctx context.Context, p *pendingTrace, size int) (context.Context, batchSpan) {
	if len(p.links) == 0 {
		return ctx, batchSpan{}
	}
	ctx = trace.ContextWithSpanContext(ctx, p.links[0].SpanContext)
	ctx, span := otel.Tracer(tracing.InstrumentationName).Start(ctx, "batch.Load",
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithLinks(p.links...),
		trace.WithAttributes(
			attribute.String("batch.name", l.name),
			attribute.Int("batch.size", size),
		))
	return ctx, batchSpan{span}
}

// fail records the batch's error on its span.
func (s batchSpan) fail(err error) {
	if s.s != nil {
		s.s.RecordError(err)
		s.s.SetStatus(codes.Error, "batch failed")
	}
}

func (s batchSpan) end() {
	if s.s != nil {
		s.s.End()
	}
}
