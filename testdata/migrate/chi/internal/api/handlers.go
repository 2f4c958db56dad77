package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
)

// ErrorBody is the JSON body of an error response.
type ErrorBody struct {
	Message string `json:"message"`
}

// Handlers serves the item routes.
type Handlers struct {
	store *Store
}

// NewRouter returns the service's HTTP handler.
func NewRouter(s *Store) http.Handler {
	h := &Handlers{store: s}
	r := chi.NewRouter()
	r.Use(RequestID)

	r.Get("/healthz", h.Health)
	r.Route("/items", func(r chi.Router) {
		r.Get("/", h.ListItems)
		r.With(RequireKey).Post("/", h.CreateItem)
		r.Route("/{id}", func(r chi.Router) {
			r.Get("/", h.GetItem)
			r.Group(func(r chi.Router) {
				r.Use(RequireKey)
				r.Put("/", h.UpdateItem)
				r.Delete("/", h.DeleteItem)
			})
		})
	})
	return r
}

// Health answers the liveness probe.
func (h *Handlers) Health(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}

// ListItems lists every item.
func (h *Handlers) ListItems(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.store.list())
}

// CreateItem adds an item.
func (h *Handlers) CreateItem(w http.ResponseWriter, r *http.Request) {
	var in ItemInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Name == "" {
		writeJSON(w, http.StatusBadRequest, ErrorBody{Message: "body must be an item with a name"})
		return
	}
	writeJSON(w, http.StatusCreated, h.store.create(in))
}

// GetItem returns one item.
func (h *Handlers) GetItem(w http.ResponseWriter, r *http.Request) {
	id, ok := itemID(w, r)
	if !ok {
		return
	}
	it, found := h.store.get(id)
	if !found {
		writeJSON(w, http.StatusNotFound, ErrorBody{Message: "no such item"})
		return
	}
	writeJSON(w, http.StatusOK, it)
}

// UpdateItem replaces an item.
func (h *Handlers) UpdateItem(w http.ResponseWriter, r *http.Request) {
	id, ok := itemID(w, r)
	if !ok {
		return
	}
	var in ItemInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorBody{Message: err.Error()})
		return
	}
	it, found := h.store.update(id, in)
	if !found {
		writeJSON(w, http.StatusNotFound, ErrorBody{Message: "no such item"})
		return
	}
	writeJSON(w, http.StatusOK, it)
}

// DeleteItem removes an item.
func (h *Handlers) DeleteItem(w http.ResponseWriter, r *http.Request) {
	id, ok := itemID(w, r)
	if !ok {
		return
	}
	if !h.store.remove(id) {
		writeJSON(w, http.StatusNotFound, ErrorBody{Message: "no such item"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func itemID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorBody{Message: "id must be a number"})
		return 0, false
	}
	return id, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
