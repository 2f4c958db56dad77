// Command worker refreshes the price feed into Redis.
package main

import (
	"context"
	"io"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"example.com/mixed-fleet/internal/cache"
)

type job struct { // want: alignment
	done    bool
	at      time.Time
	retries int8
	key     string
}

func main() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	c := cache.New(rdb)
	client := &http.Client{Timeout: 5 * time.Second}
	metrics := &http.Server{Addr: "127.0.0.1:9091"} // want: timeouts
	go func() { log.Println(metrics.ListenAndServe()) }()
	for {
		j := job{at: time.Now(), key: "feed"}
		resp, err := client.Get("http://prices/feed") // want: timeouts
		if err != nil {
			j.retries++
			time.Sleep(time.Second)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		rdb.Set(context.Background(), j.key, body, time.Minute)    // want: timeouts
		c.Warm(context.Background(), strings.Fields(string(body))) // want: timeouts
		j.done = true
		time.Sleep(time.Second)
	}
}
