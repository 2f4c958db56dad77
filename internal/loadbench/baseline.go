package loadbench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Item is the resource the baseline serves; field names, order and JSON tags
// match the generated service's items API.
type Item struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Quantity  int32     `json:"quantity"`
	Price     int64     `json:"price"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SeedItem is item id as the benchmark seeds it in every server under test.
func SeedItem(id int64) Item {
	return Item{
		ID:        id,
		Name:      "item-" + strconv.FormatInt(id, 10),
		Quantity:  5,
		Price:     1999,
		UpdatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// BaselineHandler is the plainest stdlib handler for the same API: a
// ServeMux with GET /healthz and GET /items/{id} answered with
// encoding/json from a map holding items 1..n.
func BaselineHandler(n int) http.Handler {
	items := make(map[int64]Item, n)
	for id := int64(1); id <= int64(n); id++ {
		items[id] = SeedItem(id)
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
	return mux
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

// SeedItems returns a Target.Setup that creates items 1..n through a
// generated service's own API (POST /items, as SeedItem names them), so
// that its GET /items/{id} answers what the baseline's does.
func SeedItems(n int) func(ctx context.Context, base string) error {
	return func(ctx context.Context, base string) error {
		for i := 1; i <= n; i++ {
			body := fmt.Sprintf(`{"name":"item-%d","quantity":5,"price":1999}`, i)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/items", strings.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				return fmt.Errorf("seeding item %d: status %d", i, resp.StatusCode)
			}
		}
		return nil
	}
}
