// Package timeout puts every API operation under a deadline and gives each
// database or cache call inside it a budget of its own.
//
// A handler must pass its ctx down (pgx, Redis and HTTP clients all honour
// it): when the deadline passes, the call returns context.DeadlineExceeded,
// the handler returns it, and apierr maps it to 504. Nothing runs in a
// goroutine of its own, so a timed-out request leaves nothing behind.
package timeout

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/ogen-go/ogen/middleware"
)

// Config holds the deadlines.
type Config struct {
	// Operations overrides Default per operation, keyed by operationId
	// (or by ogen's operation name when the spec has no operationId).
	Operations map[string]time.Duration
	// Default is the deadline of an operation without an override; zero or
	// negative means no deadline.
	Default time.Duration
}

// For returns the deadline of an operation, looked up by operationId, then by
// ogen's operation name, then Default.
func (c Config) For(operationID, operationName string) time.Duration {
	if d, ok := c.Operations[operationID]; ok && operationID != "" {
		return d
	}
	if d, ok := c.Operations[operationName]; ok {
		return d
	}
	return c.Default
}

// Middleware is an ogen middleware (api.WithMiddleware) that runs every
// operation under context.WithTimeout with its deadline from cfg.
func Middleware(cfg Config) middleware.Middleware {
	cfg.Operations = maps.Clone(cfg.Operations) // later edits by the caller do not race
	return func(req middleware.Request, next middleware.Next) (middleware.Response, error) {
		d := cfg.For(req.OperationID, req.OperationName)
		if d <= 0 {
			return next(req)
		}
		ctx, cancel := context.WithTimeout(req.Context, d)
		defer cancel()
		req.SetContext(ctx)
		resp, err := next(req)
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
			// A client that reports the timeout in its own words still
			// answers 504, not 500.
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		return resp, err
	}
}

// Budget derives a context for one DB or cache call: its deadline is the
// sooner of now+d and ctx's own. d <= 0 keeps ctx's deadline. Always call
// the cancel func (defer cancel()).
func Budget(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
