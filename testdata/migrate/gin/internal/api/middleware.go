package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
)

var requestSeq atomic.Int64

// RequestID sets an X-Request-Id header on every response.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", strconv.FormatInt(requestSeq.Add(1), 10))
		next.ServeHTTP(w, r)
	})
}

// RequireKey refuses requests without the X-API-Key header.
func RequireKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") == "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"message": "missing X-API-Key"})
			return
		}
		next.ServeHTTP(w, r)
	})
}
