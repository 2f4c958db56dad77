// Package periodic runs a background job now, then every interval, on one
// goroutine, until its context is done or it is stopped: the loop of the
// platform's maintenance jobs (matview refreshes, partition upkeep).
package periodic

import (
	"context"
	"time"
)

// Start runs job at once, then every interval after, until ctx is done or
// stop is called; with interval <= 0 it runs job once. Runs never overlap:
// a run that takes longer than interval delays the next, and the ticks it
// missed are dropped, not queued.
//
// job gets a context that stop cancels; it reports its own errors (logs
// and counts them), and the next run is the retry. stop returns once the
// goroutine has ended, the run in progress included, so nothing outlives
// it; calling it again returns at once. Do not call stop from job.
func Start(ctx context.Context, interval time.Duration, job func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		job(ctx)
		if interval <= 0 {
			return
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if ctx.Err() != nil { // both ready: stopping wins
					return
				}
				job(ctx)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
