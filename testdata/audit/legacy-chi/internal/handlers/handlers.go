// Package handlers holds the HTTP handlers.
package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5" // want: router

	"example.com/legacy-chi/internal/store"
)

// Handlers serve the API.
type Handlers struct {
	Repo   *store.Repo
	Client *http.Client
}

// ListPlayers returns every player.
func (h *Handlers) ListPlayers(w http.ResponseWriter, r *http.Request) {
	ids, err := h.Repo.ListIDs() // want: cache
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	players := make([]store.Player, 0, len(ids))
	for _, id := range ids {
		p, err := h.Repo.GetPlayer(r.Context(), id) // want: batch cache timeouts
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		players = append(players, p)
	}
	buf := new(bytes.Buffer) // want: pooling
	_ = json.NewEncoder(buf).Encode(players)
	_, _ = w.Write(buf.Bytes())
}

// GetPlayer returns one player.
func (h *Handlers) GetPlayer(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	ctx := r.Context()
	p, err := h.Repo.GetPlayer(ctx, id) // want: cache timeouts
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	out := make([]byte, 0, 256) // want: pooling
	out = strconv.AppendInt(out, p.ID, 10)
	_, _ = w.Write(out)
}

// Notify tells the notifier about a player, in the background.
func (h *Handlers) Notify(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	go func() { // want: goroutines
		resp, err := h.Client.Get("http://notifier/notify?id=" + id) // want: timeouts
		if err == nil {
			_ = resp.Body.Close()
		}
	}()
	w.WriteHeader(http.StatusAccepted)
}
