//go:build no_tracing

package batch

import "context"

// Without tracing a batch records no span: the helpers are empty, take no
// room and cost nothing once inlined.

type loaderTrace struct{}

func newLoaderTrace(string) loaderTrace { return loaderTrace{} }

type pendingTrace struct{}

func (*pendingTrace) join(context.Context) {}

type batchSpan struct{}

func (loaderTrace) start(ctx context.Context, _ *pendingTrace, _ int) (context.Context, batchSpan) {
	return ctx, batchSpan{}
}

func (batchSpan) fail(error) {}
func (batchSpan) end()       {}
