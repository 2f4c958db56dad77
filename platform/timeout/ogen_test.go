//go:build !service

// The tests through a real ogen server (platform/apierr/ogentest) run only
// in svcgen's own tree: services do not get ogentest, and their
// internal/app/api_test.go drives their real API under the same deadlines.

package timeout_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/svcgen/svcgen/platform/apierr"
	"github.com/svcgen/svcgen/platform/apierr/ogentest"
	"github.com/svcgen/svcgen/platform/timeout"
)

// handler waits for its work (work) or its deadline, as a DB call would.
type handler struct {
	ogentest.UnimplementedHandler
	deadline chan time.Duration // remaining time seen by GetThing
	work     time.Duration
}

func (h *handler) GetThing(ctx context.Context, p ogentest.GetThingParams) (*ogentest.Thing, error) {
	if dl, ok := ctx.Deadline(); ok {
		h.deadline <- time.Until(dl)
	} else {
		h.deadline <- 0
	}
	select {
	case <-time.After(h.work):
		return &ogentest.Thing{ID: p.ID}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (h *handler) NewError(_ context.Context, err error) *ogentest.ErrorStatusCode {
	s := apierr.Status(err)
	return &ogentest.ErrorStatusCode{StatusCode: s, Response: ogentest.Error{Code: int32(s), Message: apierr.Message(s, err)}}
}

func serve(t *testing.T, cfg timeout.Config, work time.Duration) (*httptest.Server, *handler) {
	t.Helper()
	h := &handler{work: work, deadline: make(chan time.Duration, 1)}
	srv, err := ogentest.NewServer(h,
		ogentest.WithMiddleware(timeout.Middleware(cfg)),
		ogentest.WithErrorHandler(apierr.ErrorHandler))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, h
}

func TestOperationPastDeadlineGets504(t *testing.T) {
	ts, h := serve(t, timeout.Config{Default: time.Second, Operations: map[string]time.Duration{"getThing": 20 * time.Millisecond}}, time.Minute)

	start := time.Now()
	resp, err := ts.Client().Get(ts.URL + "/things/7")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("answered after %v; the 20ms deadline did not apply", took)
	}
	if left := <-h.deadline; left <= 0 || left > 20*time.Millisecond {
		t.Errorf("handler saw %v left, want (0, 20ms]", left)
	}
	var body struct {
		Message string `json:"message"`
		Code    int    `json:"code"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusGatewayTimeout || body.Code != 504 || body.Message == "" {
		t.Errorf("got %d %+v, want 504 with a JSON error", resp.StatusCode, body)
	}
}

func TestOperationWithinDeadline(t *testing.T) {
	ts, h := serve(t, timeout.Config{Default: time.Second}, 0)
	resp, err := ts.Client().Get(ts.URL + "/things/7")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d, want 200", resp.StatusCode)
	}
	if left := <-h.deadline; left <= 500*time.Millisecond || left > time.Second {
		t.Errorf("handler saw %v left, want the 1s default", left)
	}
}

func TestNoDeadline(t *testing.T) {
	ts, h := serve(t, timeout.Config{}, 0)
	resp, err := ts.Client().Get(ts.URL + "/things/7")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if left := <-h.deadline; left != 0 {
		t.Errorf("zero Default set a deadline (%v left)", left)
	}
}
