package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"example.com/inventory-echo/internal/api"
)

// call sends one request to a fresh test server of the service's router.
func call(t *testing.T, srv *httptest.Server, method, path, key, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var raw any
		if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v", method, path, err)
		}
		if m, ok := raw.(map[string]any); ok {
			out = m
		} else {
			out = map[string]any{"list": raw}
		}
	}
	return resp, out
}

func TestItems(t *testing.T) {
	srv := httptest.NewServer(api.NewRouter(api.NewStore()))
	defer srv.Close()

	resp, _ := call(t, srv, "GET", "/healthz", "", "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("GET /healthz: %d, want 204", resp.StatusCode)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("GET /healthz: no X-Request-Id header: the middleware did not run")
	}

	resp, body := call(t, srv, "POST", "/items", "", `{"name":"sword","quantity":3,"price":1500}`)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST /items without a key: %d, want 401", resp.StatusCode)
	}
	if body["message"] != "missing X-API-Key" {
		t.Errorf("POST /items without a key: body %v", body)
	}

	resp, body = call(t, srv, "POST", "/items", "k", `{"name":"sword","quantity":3,"price":1500,"tags":["melee"]}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /items: %d, want 201", resp.StatusCode)
	}
	if body["id"] != float64(1) || body["name"] != "sword" || body["quantity"] != float64(3) {
		t.Fatalf("POST /items: body %v", body)
	}

	resp, body = call(t, srv, "GET", "/items/1", "", "")
	if resp.StatusCode != http.StatusOK || body["name"] != "sword" || body["price"] != float64(1500) {
		t.Fatalf("GET /items/1: %d %v", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("GET /items/1: no X-Request-Id header")
	}

	resp, body = call(t, srv, "GET", "/items/abc", "", "")
	if resp.StatusCode != http.StatusBadRequest || body["message"] != "id must be a number" {
		t.Fatalf("GET /items/abc: %d %v", resp.StatusCode, body)
	}
	resp, _ = call(t, srv, "GET", "/items/42", "", "")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /items/42: %d, want 404", resp.StatusCode)
	}

	resp, _ = call(t, srv, "PUT", "/items/1", "", `{"name":"axe"}`)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("PUT /items/1 without a key: %d, want 401", resp.StatusCode)
	}
	resp, body = call(t, srv, "PUT", "/items/1", "k", `{"name":"axe","quantity":1,"price":900}`)
	if resp.StatusCode != http.StatusOK || body["name"] != "axe" || body["id"] != float64(1) {
		t.Fatalf("PUT /items/1: %d %v", resp.StatusCode, body)
	}

	call(t, srv, "POST", "/items", "k", `{"name":"bow","quantity":1,"price":700}`)
	resp, body = call(t, srv, "GET", "/items", "", "")
	list, _ := body["list"].([]any)
	if resp.StatusCode != http.StatusOK || len(list) != 2 {
		t.Fatalf("GET /items: %d %v", resp.StatusCode, body)
	}

	resp, _ = call(t, srv, "DELETE", "/items/1", "k", "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /items/1: %d, want 204", resp.StatusCode)
	}
	resp, _ = call(t, srv, "DELETE", "/items/1", "k", "")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("DELETE /items/1 again: %d, want 404", resp.StatusCode)
	}
	resp, _ = call(t, srv, "GET", "/nowhere", "", "")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /nowhere: %d, want 404", resp.StatusCode)
	}
}
