package timeout_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/svcgen/svcgen/platform/timeout"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFor(t *testing.T) {
	c := timeout.Config{Default: time.Second, Operations: map[string]time.Duration{"getThing": 1, "CreateThing": 2}}
	for _, tc := range []struct {
		id, name string
		want     time.Duration
	}{
		{"getThing", "GetThing", 1},
		{"createThing", "CreateThing", 2},
		{"", "CreateThing", 2},
		{"other", "Other", time.Second},
	} {
		if got := c.For(tc.id, tc.name); got != tc.want {
			t.Errorf("For(%q, %q) = %v, want %v", tc.id, tc.name, got, tc.want)
		}
	}
}

func TestBudget(t *testing.T) {
	parent, cancel := context.WithTimeout(context.Background(), 10*time.Second) // long: a loaded machine must not expire it
	defer cancel()

	ctx, c1 := timeout.Budget(parent, time.Hour) // parent is sooner
	defer c1()
	if dl, _ := ctx.Deadline(); time.Until(dl) > 10*time.Second {
		t.Errorf("Budget extended the parent's deadline to %v", time.Until(dl))
	}
	ctx, c2 := timeout.Budget(parent, 5*time.Millisecond) // budget is sooner
	defer c2()
	if dl, _ := ctx.Deadline(); time.Until(dl) > 5*time.Millisecond {
		t.Errorf("Budget deadline %v, want <= 5ms", time.Until(dl))
	}
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("err = %v", ctx.Err())
	}
	if parent.Err() != nil {
		t.Error("budget expiry canceled the parent")
	}
	ctx, c3 := timeout.Budget(context.Background(), 0)
	defer c3()
	if _, ok := ctx.Deadline(); ok {
		t.Error("Budget(0) set a deadline")
	}
}
