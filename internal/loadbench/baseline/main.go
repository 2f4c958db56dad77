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
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// Item is the resource served; field names, order and JSON tags match the
// generated service's items API.
type Item struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Quantity  int32     `json:"quantity"`
	Price     int64     `json:"price"`
	UpdatedAt time.Time `json:"updated_at"`
}

// seedItem is item id as the benchmark seeds it in every server under test.
func seedItem(id int64) Item {
	return Item{
		ID:        id,
		Name:      "item-" + strconv.FormatInt(id, 10),
		Quantity:  5,
		Price:     1999,
		UpdatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	n := flag.Int("items", 10000, "number of items seeded, ids 1..N")
	flag.Parse()

	items := make(map[int64]Item, *n)
	for id := int64(1); id <= int64(*n); id++ {
		items[id] = seedItem(id)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "id must be an integer"})
			return
		}
		it, ok := items[id]
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "item not found"})
			return
		}
		writeJSON(w, http.StatusOK, it)
	})

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

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
