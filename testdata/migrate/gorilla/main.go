// Command inventory-gorilla serves the inventory API.
package main

import (
	"log"
	"net/http"
	"time"

	"example.com/inventory-gorilla/internal/api"
)

func main() {
	srv := &http.Server{
		Addr:              ":8080",
		Handler:           api.NewRouter(api.NewStore()),
		ReadHeaderTimeout: 5 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}
