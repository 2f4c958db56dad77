package timeout

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// Deadlines starts each API operation under its deadline from the
// service's OperationHook (internal/app): Start when the router has matched
// the operation, End when its answer is written.
//
// context.WithTimeout costs a request four allocations and a timer armed
// and stopped even when nothing waits on the context; most hot-path
// operations only ever ask ctx.Err() or ctx.Deadline(). The context Start
// returns answers those from the deadline itself (one allocation) and sets
// up a real context.WithDeadline, timer included, only when something asks
// for Done(): a database call, a select, a child context. Either way it is
// a context like WithTimeout's: Err is DeadlineExceeded once the deadline
// has passed, Canceled when the client went away or the operation ended,
// and children created from it are canceled with it.
type Deadlines struct {
	cfg Config
}

// NewDeadlines returns the deadlines of cfg; later edits of cfg do not
// change them.
func NewDeadlines(cfg Config) *Deadlines {
	cfg.Operations = maps.Clone(cfg.Operations)
	return &Deadlines{cfg: cfg}
}

// Start returns ctx under the deadline of the operation (operationId, then
// ogen's operation name, then Default; none when it is <= 0). Call End
// with the returned context once the operation is over.
func (d *Deadlines) Start(ctx context.Context, operationID, operationName string) context.Context {
	dur := d.cfg.For(operationID, operationName)
	if dur <= 0 {
		return ctx
	}
	dl := time.Now().Add(dur)
	if cur, ok := ctx.Deadline(); ok && cur.Before(dl) {
		dl = cur // the sooner deadline wins, as with WithTimeout
	}
	return &deadlineCtx{parent: ctx, deadline: dl}
}

// End ends an operation Start began: its context is canceled (Err
// answers Canceled unless the deadline had passed) and its timer, if
// Done() made one, is stopped.
func (d *Deadlines) End(ctx context.Context) {
	if c, ok := ctx.(*deadlineCtx); ok {
		c.end()
	}
}

// The latched states of a deadlineCtx: once Err has said something it
// keeps saying it.
const (
	live int32 = iota
	canceled
	expired
)

// deadlineCtx is parent under deadline, without a timer until Done().
type deadlineCtx struct {
	parent   context.Context
	deadline time.Time
	// real is the context.WithDeadline Done() made and cancel its cancel
	// func: written once under mu, then made is set; read after made.
	real   context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // serializes making real and ending
	made   atomic.Bool
	state  atomic.Int32
	ended  bool // under mu
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Done makes the real context on first use.
func (c *deadlineCtx) Done() <-chan struct{} { return c.materialize().Done() }

func (c *deadlineCtx) Err() error {
	switch c.state.Load() {
	case canceled:
		return context.Canceled
	case expired:
		return context.DeadlineExceeded
	}
	var err error
	if c.made.Load() {
		err = c.real.Err()
	} else if err = c.parent.Err(); err == nil && time.Until(c.deadline) <= 0 {
		err = context.DeadlineExceeded
	}
	return c.latch(err)
}

// latch records err (nil: nothing yet) and returns what the context says
// from now on.
func (c *deadlineCtx) latch(err error) error {
	if err == nil {
		return nil
	}
	s := canceled
	if err == context.DeadlineExceeded {
		s = expired
	}
	c.state.CompareAndSwap(live, s)
	if c.state.Load() == expired {
		return context.DeadlineExceeded
	}
	return context.Canceled
}

// Value reads the real context's values once there is one (so the context
// package finds its cancelation there and links children to it without a
// goroutine), the parent's before.
func (c *deadlineCtx) Value(key any) any {
	if c.made.Load() {
		return c.real.Value(key)
	}
	return c.parent.Value(key)
}

func (c *deadlineCtx) materialize() context.Context {
	if c.made.Load() {
		return c.real
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.made.Load() {
		return c.real
	}
	c.real, c.cancel = context.WithDeadline(c.parent, c.deadline)
	if c.ended {
		c.cancel()
	}
	c.made.Store(true)
	return c.real
}

func (c *deadlineCtx) end() {
	if time.Until(c.deadline) <= 0 {
		c.latch(context.DeadlineExceeded)
	} else {
		c.latch(context.Canceled)
	}
	c.mu.Lock()
	c.ended = true
	made := c.made.Load()
	c.mu.Unlock()
	if made {
		c.cancel()
	}
}

func (c *deadlineCtx) String() string { return "timeout.Deadlines(" + c.deadline.String() + ")" }
