// Command sqlx-echo serves guilds the way many echo + sqlx services do:
// sqlx.Connect with the driver's defaults, e.Start with no server
// timeouts, a store behind an interface with one implementation.
package main

import (
	"log"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	_ "github.com/lib/pq"

	"example.com/sqlx-echo/internal/handlers"
	"example.com/sqlx-echo/internal/store"
)

func main() {
	db, err := sqlx.Connect("postgres", "postgres://localhost/guilds?sslmode=disable") // want: dbpool
	if err != nil {
		log.Fatal(err)
	}
	h := &handlers.Handlers{Store: store.New(db)}
	e := echo.New()
	e.GET("/guilds/:id", h.GetGuild)
	e.GET("/guilds/:id/members", h.ListMembers)
	e.POST("/guilds", h.CreateGuild)
	e.POST("/guilds/:id/members", h.AddMembers)
	e.POST("/guilds/:id/export", h.Export)

	// The admin server sets ReadTimeout, which net/http also applies to
	// the headers when ReadHeaderTimeout is zero: no finding.
	admin := &http.Server{Addr: "127.0.0.1:9090", Handler: http.NotFoundHandler(), ReadTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() { _ = admin.ListenAndServe() }()

	log.Fatal(e.Start(":8080")) // want: timeouts
}
