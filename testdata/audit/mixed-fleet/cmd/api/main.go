// Command api serves items: ServeMux, server timeouts, a Redis cache and
// sync.Pool buffers, but a partly configured pool and one N+1 loop.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"example.com/mixed-fleet/internal/cache"
	"example.com/mixed-fleet/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	cfg.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(ctx, cfg) // want: dbpool
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	a := &api{store: store.New(pool), cache: cache.New(rdb)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", a.getItem)
	mux.HandleFunc("POST /items/prices", a.prices)
	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 2 * time.Second,
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

type api struct {
	store *store.Store
	cache *cache.Cache
}

func (a *api) getItem(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 50*time.Millisecond)
	defer cancel()
	id := r.PathValue("id")
	if v, ok := a.cache.Get(ctx, id); ok {
		_, _ = w.Write(v)
		return
	}
	it, err := a.store.Item(ctx, id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	_ = json.NewEncoder(buf).Encode(it)
	a.cache.Set(ctx, id, buf.Bytes())
	_, _ = w.Write(buf.Bytes())
}

func (a *api) prices(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	var ids []string
	if err := json.NewDecoder(r.Body).Decode(&ids); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	prices := a.cache.Prices(ctx, ids)
	for _, id := range ids {
		if _, ok := prices[id]; !ok {
			p, err := a.store.Price(ctx, id) // want: batch
			if err != nil {
				continue
			}
			prices[id] = p
		}
	}
	_ = json.NewEncoder(w).Encode(prices)
}
