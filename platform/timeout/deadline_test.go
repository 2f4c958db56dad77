package timeout_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/svcgen/svcgen/platform/timeout"
)

type ctxKey struct{}

func TestDeadlinesStartAndEnd(t *testing.T) {
	d := timeout.NewDeadlines(timeout.Config{Default: time.Hour, Operations: map[string]time.Duration{"fast": 20 * time.Millisecond, "off": 0}})
	parent := context.WithValue(context.Background(), ctxKey{}, "v")

	ctx := d.Start(parent, "slow", "Slow")
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) < 59*time.Minute {
		t.Errorf("Deadline() = %v, %v; want about an hour from now", dl, ok)
	}
	if ctx.Err() != nil || ctx.Value(ctxKey{}) != "v" {
		t.Errorf("live context: Err %v, Value %v", ctx.Err(), ctx.Value(ctxKey{}))
	}
	d.End(ctx)
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("after End: Err %v, want Canceled", ctx.Err())
	}
	select {
	case <-ctx.Done():
	default:
		t.Error("after End: Done() is not closed")
	}

	if ctx := d.Start(parent, "off", "Off"); ctx != parent {
		t.Error("an operation without a deadline got a new context")
	}
}

func TestDeadlinesExpire(t *testing.T) {
	d := timeout.NewDeadlines(timeout.Config{Operations: map[string]time.Duration{"fast": 20 * time.Millisecond}})
	// Without Done(): Err answers from the deadline alone.
	ctx := d.Start(context.Background(), "fast", "Fast")
	time.Sleep(30 * time.Millisecond)
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("past the deadline, before Done(): Err %v", ctx.Err())
	}
	d.End(ctx)
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("End after expiry changed Err to %v", ctx.Err())
	}

	// With Done(): the channel closes at the deadline, children too.
	ctx = d.Start(context.Background(), "fast", "Fast")
	defer d.End(ctx)
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	select {
	case <-child.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the child was not canceled at the deadline")
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) || !errors.Is(child.Err(), context.DeadlineExceeded) {
		t.Errorf("Err %v, child %v; want DeadlineExceeded", ctx.Err(), child.Err())
	}
	if !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Errorf("Cause %v", context.Cause(ctx))
	}
}

func TestDeadlinesFollowTheParent(t *testing.T) {
	d := timeout.NewDeadlines(timeout.Config{Default: time.Hour})
	for _, done := range []bool{false, true} {
		parent, cancel := context.WithCancel(context.Background())
		ctx := d.Start(parent, "op", "Op")
		if done {
			_ = ctx.Done() // the real context exists before the parent goes
		}
		cancel() // the client went away
		if done {
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("Done() did not close with the parent")
			}
		}
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Errorf("Done() called first %v: Err %v, want Canceled", done, ctx.Err())
		}
		d.End(ctx)
	}

	// A sooner deadline of the parent wins.
	parent, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctx := d.Start(parent, "op", "Op")
	defer d.End(ctx)
	if dl, _ := ctx.Deadline(); time.Until(dl) > time.Minute {
		t.Errorf("Start extended the parent's deadline to %v", time.Until(dl))
	}
}

// BenchmarkDeadlines compares Start/End with context.WithTimeout, for an
// operation that only asks Err (the memory store) and one that waits on
// Done (a database call).
func BenchmarkDeadlines(b *testing.B) {
	d := timeout.NewDeadlines(timeout.Config{Default: time.Second})
	parent := context.Background()
	b.Run("Start/Err", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx := d.Start(parent, "op", "Op")
			_ = ctx.Err()
			d.End(ctx)
		}
	})
	b.Run("Start/Done", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx := d.Start(parent, "op", "Op")
			_ = ctx.Done()
			d.End(ctx)
		}
	})
	b.Run("WithTimeout/Err", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(parent, time.Second)
			_ = ctx.Err()
			cancel()
		}
	})
	b.Run("WithTimeout/Done", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(parent, time.Second)
			_ = ctx.Done()
			cancel()
		}
	})
}
