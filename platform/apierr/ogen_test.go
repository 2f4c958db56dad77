//go:build !service

// These tests run only in svcgen's own tree: they drive the ogen server of
// ogentest (generated from ogentest/openapi.yaml by svcgen's
// generator/ogentest_test.go), which services do not get. A service's own
// internal/app tests drive its real API end to end.

package apierr_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/svcgen/svcgen/platform/apierr"
	"github.com/svcgen/svcgen/platform/apierr/ogentest"
)

// TestOgenErrorHandler drives a real ogen server into its error paths.
func TestOgenErrorHandler(t *testing.T) {
	srv, err := ogentest.NewServer(ogentest.UnimplementedHandler{}, ogentest.WithErrorHandler(apierr.ErrorHandler))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.MaxBytesHandler(srv, 64))
	defer ts.Close()

	cases := []struct {
		method, path, ctype, body string
		want                      int
	}{
		{"GET", "/things/abc", "", "", 400},
		{"POST", "/things", "application/json", `{"id":`, 400},
		{"POST", "/things", "application/json", `{"name":"no id"}`, 400},
		{"POST", "/things", "text/plain", `hi`, 415},
		{"POST", "/things", "application/json", `{"id":1,"pad":"` + strings.Repeat("x", 100) + `"}`, 413},
		{"GET", "/things/1", "", "", 501},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, ts.URL+c.path, strings.NewReader(c.body))
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Message string `json:"message"`
			Code    int    `json:"code"`
		}
		derr := json.NewDecoder(resp.Body).Decode(&body)
		_ = resp.Body.Close()
		if resp.StatusCode != c.want || derr != nil || body.Code != c.want || body.Message == "" {
			t.Errorf("%s %s %q: got %d %+v (decode: %v), want %d", c.method, c.path, c.body, resp.StatusCode, body, derr, c.want)
		}
	}
}

// TestOgenCustomShape: through a real ogen server, the service's own writer and status mapping answer
// every error ogen meets, unknown paths (404) and methods a path does not
// serve (405 with Allow; a CORS preflight stays 204).
func TestOgenCustomShape(t *testing.T) {
	errDomain := errors.New("no such thing")
	status := func(err error) int {
		if errors.Is(err, errDomain) {
			return http.StatusNotFound
		}
		return apierr.Status(err)
	}
	write := func(w http.ResponseWriter, code int, msg string) {
		apierr.WriteBody(w, code, "application/problem+json", []byte(fmt.Sprintf(`{"status":%d,"detail":%q}`, code, msg)))
	}
	srv, err := ogentest.NewServer(ogentest.UnimplementedHandler{},
		ogentest.WithErrorHandler(apierr.NewErrorHandler(status, write)),
		ogentest.WithNotFound(apierr.NotFound(write)),
		ogentest.WithMethodNotAllowed(apierr.MethodNotAllowed(write)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path, allow string
		want                int
	}{
		{"GET", "/things/abc", "", 400},
		{"GET", "/things/1", "", 501},
		{"GET", "/nothing/here", "", 404},
		{"DELETE", "/things/1", "GET", 405},
		{"OPTIONS", "/things/1", "", 204},
	} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		if rec.Code != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, rec.Code, c.want)
			continue
		}
		if c.want == 204 {
			continue
		}
		var body struct {
			Detail string `json:"detail"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Status != c.want || body.Detail == "" ||
			rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: body %q (%v), content type %q", c.method, c.path, rec.Body, err, rec.Header().Get("Content-Type"))
		}
		if c.allow != "" && rec.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, rec.Header().Get("Allow"), c.allow)
		}
	}
	rec := httptest.NewRecorder()
	apierr.NewErrorHandler(status, write)(context.Background(), rec, httptest.NewRequest("GET", "/things/1", nil), fmt.Errorf("lookup: %w", errDomain))
	if rec.Code != http.StatusNotFound {
		t.Errorf("domain error: %d, want 404", rec.Code)
	}
}
