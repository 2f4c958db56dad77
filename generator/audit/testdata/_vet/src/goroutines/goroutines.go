// Package goroutines starts work from handlers.
package goroutines

import (
	"context"
	"net/http"
	"sync"
)

var wg sync.WaitGroup

func notify(w http.ResponseWriter, r *http.Request) {
	go func() { // want `goroutine started in handler notify with no way to stop it`
		_ = len("sent")
	}()
	ctx := r.Context()
	go send(ctx) // carries the request's context: stoppable
	wg.Add(1)
	go func() { defer wg.Done() }() // tracked by a WaitGroup
	w.WriteHeader(http.StatusAccepted)
}

func send(ctx context.Context) { <-ctx.Done() }
