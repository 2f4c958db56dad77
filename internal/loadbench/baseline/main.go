// Command baseline is the hand-written reference service for the load
// benchmark: the plainest stdlib server that answers GET /items/{id} with the
// same JSON body a generated svcgen service returns for an item,
//
//	{"id":1,"name":"item-1","quantity":5,"price":1999,"updated_at":"2026-01-01T00:00:00Z"}
//
// from an in-memory map. It uses http.ServeMux, encoding/json and the same
// basic http.Server timeouts and body limit as the generated services, so a
// comparison measures what the generated code adds on top.
//
// Usage:
//
//	baseline [-addr 127.0.0.1:8080] [-items 10000]
package main

import (
	"github.com/svcgen/svcgen/internal/loadbench"

	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	n := flag.Int("items", 10000, "number of items seeded, ids 1..N")
	flag.Parse()

	mux := loadbench.BaselineHandler(*n)
	srv := &http.Server{
		Addr:              *addr,
		Handler:           http.MaxBytesHandler(mux, 1<<20),
		ReadTimeout:       5 * time.Second,
		ReadHeaderTimeout: 2 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Fatalf("baseline: %v", err)
		}
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			fmt.Fprintf(os.Stderr, "baseline: shutdown: %v\n", err)
		}
	}
}
