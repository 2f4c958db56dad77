package periodic

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunsNowThenEveryInterval: the first run does not wait for a tick,
// later ones come on the ticks, and stop ends the loop.
func TestRunsNowThenEveryInterval(t *testing.T) {
	runs := make(chan time.Time, 16)
	began := time.Now()
	stop := Start(context.Background(), 20*time.Millisecond, func(context.Context) { runs <- time.Now() })
	first := <-runs
	if d := first.Sub(began); d > 15*time.Millisecond {
		t.Errorf("first run after %v, want at once", d)
	}
	second := <-runs
	if d := second.Sub(first); d < 10*time.Millisecond {
		t.Errorf("second run %v after the first, want about the interval (20ms)", d)
	}
	<-runs
	stop()
	n := len(runs)
	time.Sleep(60 * time.Millisecond)
	if len(runs) != n {
		t.Errorf("%d runs after stop returned", len(runs)-n)
	}
	stop() // a second stop returns at once
}

// TestOnce: interval <= 0 runs the job once and ends on its own.
func TestOnce(t *testing.T) {
	for _, interval := range []time.Duration{0, -time.Second} {
		var runs atomic.Int32
		ran := make(chan struct{})
		stop := Start(context.Background(), interval, func(context.Context) {
			runs.Add(1)
			close(ran)
		})
		<-ran
		time.Sleep(20 * time.Millisecond)
		stop()
		if got := runs.Load(); got != 1 {
			t.Errorf("interval %v: %d runs, want 1", interval, got)
		}
	}
}

// TestStopWaitsForTheRun: stop cancels the job's context and returns only
// once the run in progress has returned.
func TestStopWaitsForTheRun(t *testing.T) {
	started := make(chan struct{})
	var finished atomic.Bool
	stop := Start(context.Background(), time.Hour, func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		time.Sleep(20 * time.Millisecond) // cleanup after the cancel
		finished.Store(true)
	})
	<-started
	stop()
	if !finished.Load() {
		t.Fatal("stop returned while the job was still running")
	}
}

// TestParentContextEnds: the loop ends when the caller's ctx is done,
// before stop is called; stop then returns at once.
func TestParentContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var runs atomic.Int32
	stop := Start(ctx, time.Millisecond, func(ctx context.Context) {
		if runs.Add(1) == 3 {
			cancel()
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for runs.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if got := runs.Load(); got != 3 {
		t.Errorf("%d runs, want 3: the loop must end with its parent ctx", got)
	}
	stop()
}

// TestSlowRunsDoNotOverlap: a run longer than the interval delays the next
// one; runs never overlap and missed ticks are not queued.
func TestSlowRunsDoNotOverlap(t *testing.T) {
	var active, overlaps, runs atomic.Int32
	stop := Start(context.Background(), time.Millisecond, func(context.Context) {
		if active.Add(1) > 1 {
			overlaps.Add(1)
		}
		runs.Add(1)
		time.Sleep(10 * time.Millisecond)
		active.Add(-1)
	})
	time.Sleep(55 * time.Millisecond)
	stop()
	if overlaps.Load() != 0 {
		t.Errorf("%d overlapping runs", overlaps.Load())
	}
	if got := runs.Load(); got < 2 || got > 7 {
		t.Errorf("%d runs of 10ms in 55ms, want them back to back (about 5), not queued ticks", got)
	}
}
