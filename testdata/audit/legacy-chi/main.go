// Command legacy-chi serves players the way many hand-written services do:
// chi, database/sql with default pool settings, no timeouts.
package main

import (
	"database/sql"
	"log"
	"net/http"

	"github.com/go-chi/chi/v5"
	_ "github.com/lib/pq"

	"example.com/legacy-chi/internal/handlers"
	"example.com/legacy-chi/internal/store"
)

func main() {
	db, err := sql.Open("postgres", "postgres://localhost/players?sslmode=disable") // want: dbpool
	if err != nil {
		log.Fatal(err)
	}
	h := &handlers.Handlers{Repo: store.NewRepo(db), Client: &http.Client{}} // want: timeouts
	r := chi.NewRouter()
	r.Get("/players", h.ListPlayers)
	r.Get("/players/{id}", h.GetPlayer)
	r.Post("/players/{id}/notify", h.Notify)
	log.Fatal(http.ListenAndServe(":8080", r)) // want: timeouts
}
