// Command gin-boil serves an item shop the way gin + sqlboiler services
// do: generated models, gin handlers, database/sql with its pool set.
package main

import (
	"context"
	"database/sql"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/gin-gonic/gin"
	_ "github.com/lib/pq"

	"example.com/gin-boil/internal/api"
	"example.com/gin-boil/internal/worker"
)

func main() {
	db, err := sql.Open("postgres", "postgres://localhost/shop?sslmode=disable")
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	db.SetConnMaxLifetime(5 * time.Minute)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go worker.Expire(ctx, db)

	h := &api.Handlers{DB: db}
	r := gin.Default()
	r.GET("/items/:id", h.GetItem)
	r.POST("/items", h.CreateItem)
	r.POST("/items/prices", h.PriceItems)
	r.GET("/items/stats", h.Stats)
	r.GET("/report", h.Report)
	log.Fatal(r.Run(":8080")) // want: timeouts
}
