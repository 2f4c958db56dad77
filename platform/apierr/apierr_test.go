package apierr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	ht "github.com/ogen-go/ogen/http"
	"github.com/ogen-go/ogen/ogenerrors"
	"github.com/ogen-go/ogen/validate"
	"go.uber.org/goleak"

	"github.com/svcgen/svcgen/platform/apierr"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStatus(t *testing.T) {
	op := ogenerrors.OperationContext{Name: "GetThing", ID: "getThing"}
	cases := []struct {
		err  error
		name string
		want int
	}{
		{nil, "nil", 200},
		{context.DeadlineExceeded, "deadline", 504},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), "wrapped deadline", 504},
		{context.Canceled, "canceled", 499},
		{&http.MaxBytesError{Limit: 1}, "max bytes", 413},
		{&ogenerrors.DecodeRequestError{OperationContext: op, Err: &http.MaxBytesError{Limit: 1}}, "max bytes in body", 413},
		{&ogenerrors.DecodeParamsError{OperationContext: op, Err: errors.New("bad id")}, "params", 400},
		{&ogenerrors.DecodeRequestError{OperationContext: op, Err: errors.New("bad json")}, "request", 400},
		{&ogenerrors.DecodeBodyError{ContentType: "application/json", Err: errors.New("bad json")}, "body", 400},
		{&ogenerrors.SecurityError{OperationContext: op, Security: "bearer", Err: errors.New("no token")}, "security", 401},
		{&validate.InvalidContentTypeError{ContentType: "text/plain"}, "content type", 415},
		{ht.ErrNotImplemented, "not implemented", 501},
		{fmt.Errorf("read body: %w", os.ErrDeadlineExceeded), "body read timeout", 408},
		{&ogenerrors.DecodeRequestError{OperationContext: op, Err: fmt.Errorf("read tcp: %w", os.ErrDeadlineExceeded)}, "body read timeout in ogen", 408},
		{fmt.Errorf("create item: %w", pgErr("23505")), "unique violation", 409},
		{pgErr("23503"), "foreign key", 409},
		{pgErr("40001"), "serialization", 409},
		{pgErr("23502"), "not null", 422},
		{pgErr("23514"), "check", 422},
		{pgErr("22021"), "NUL or bad UTF-8", 400},
		{pgErr("22001"), "too long", 400},
		{pgErr("22P02"), "bad text representation", 400},
		{pgErr("57014"), "statement timeout", 504},
		{pgErr("57P01"), "admin shutdown", 503},
		{pgErr("08006"), "connection failure", 503},
		{pgErr("53300"), "too many connections", 503},
		{pgErr("42P01"), "undefined table", 500},
		{fmt.Errorf("failed to connect: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), "dial refused", 503},
		{fmt.Errorf("query: %w", syscall.ECONNRESET), "reset", 503},
		{fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), "cut mid-answer", 503},
		{errors.New("boom"), "other", 500},
	}
	for _, c := range cases {
		if got := apierr.Status(c.err); got != c.want {
			t.Errorf("%s: Status(%v) = %d, want %d", c.name, c.err, got, c.want)
		}
	}
}

// pgError stands for pgx's *pgconn.PgError: apierr knows it only by its
// SQLState method.
type pgError struct{ code, detail string }

func (e *pgError) Error() string    { return "ERROR: " + e.detail + " (SQLSTATE " + e.code + ")" }
func (e *pgError) SQLState() string { return e.code }

func pgErr(code string) error {
	return &pgError{code: code, detail: `duplicate key value violates unique constraint "items_secret_idx"`}
}

func TestMessage(t *testing.T) {
	for _, code := range []string{"23505", "23503", "23502", "22021", "22001"} {
		err := fmt.Errorf("create item: %w", pgErr(code))
		if got := apierr.Message(apierr.Status(err), err); strings.Contains(got, "items_secret_idx") || strings.Contains(got, "SQLSTATE") || got == "" {
			t.Errorf("Message for SQLSTATE %s = %q: must say what is wrong without the SQL", code, got)
		}
	}
	if got := apierr.Message(503, pgErr("57P01")); !strings.Contains(got, "retry") {
		t.Errorf("Message(503) = %q, want a retry hint", got)
	}
	secret := errors.New("dial tcp 10.0.0.7:5432: password authentication failed")
	if got := apierr.Message(500, secret); strings.Contains(got, "10.0.0.7") || got != "Internal Server Error" {
		t.Errorf("Message(500) = %q: must not leak internals", got)
	}
	if got := apierr.Message(504, context.DeadlineExceeded); got != "request timed out" {
		t.Errorf("Message(504) = %q", got)
	}
	if got := apierr.Message(400, errors.New("id: not a number")); got != "id: not a number" {
		t.Errorf("Message(400) = %q, want the error text", got)
	}
	if got := apierr.Message(599, nil); got == "" {
		t.Error("Message(599, nil) is empty")
	}
}

func TestWrite(t *testing.T) {
	for _, msg := range []string{"", "plain", `q"uote\back`, "ctl\x00\x01\n\t\r", "<b>&</b>", "héllo 😀", "bad\xffutf8"} {
		rec := httptest.NewRecorder()
		apierr.Write(rec, 418, msg)
		if rec.Code != 418 {
			t.Errorf("status = %d", rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type = %q", ct)
		}
		var body struct {
			Message string `json:"message"`
			Code    int    `json:"code"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("Write(%q) wrote invalid JSON %q: %v", msg, rec.Body.String(), err)
		}
		want := strings.ToValidUTF8(msg, "\uFFFD")
		if body.Code != 418 || body.Message != want {
			t.Errorf("Write(%q) round-trips to %+v", msg, body)
		}
	}
}

func FuzzWrite(f *testing.F) {
	f.Add("x")
	f.Add("\u2028\x7f\"")
	f.Fuzz(func(t *testing.T, msg string) {
		rec := httptest.NewRecorder()
		apierr.Write(rec, 400, msg)
		var body struct{ Message string }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("invalid JSON for %q: %v", msg, err)
		}
		if want := strings.ToValidUTF8(msg, "\uFFFD"); body.Message != want {
			t.Fatalf("got %q, want %q", body.Message, want)
		}
	})
}

// TestErrorHandler answers the errors ogen's server hands its error
// handler (ogen's own error values, as its decoders return them) in
// svcgen's default shape, over HTTP.
func TestErrorHandler(t *testing.T) {
	for _, c := range ogenErrors() {
		code, body, _ := serveError(t, c.err, apierr.ErrorHandler)
		var got struct {
			Message string `json:"message"`
			Code    int    `json:"code"`
		}
		derr := json.Unmarshal(body, &got)
		if code != c.want || derr != nil || got.Code != c.want || got.Message == "" {
			t.Errorf("%s: got %d %s (decode: %v), want %d", c.name, code, body, derr, c.want)
		}
	}
}

// ogenErrorCase is an error ogen's server meets and the status it answers.
type ogenErrorCase struct {
	err  error
	name string
	want int
}

// ogenErrors are the errors ogen's generated server passes its error
// handler, built from ogen's runtime types the way its decoders wrap them.
func ogenErrors() []ogenErrorCase {
	op := ogenerrors.OperationContext{Name: "GetThing", ID: "getThing"}
	_, notInt := strconv.ParseInt("abc", 10, 64)
	return []ogenErrorCase{
		{&ogenerrors.DecodeParamsError{OperationContext: op, Err: &ogenerrors.DecodeParamError{Name: "id", In: "path", Err: notInt}}, "bad path parameter", 400},
		{&ogenerrors.DecodeRequestError{OperationContext: op, Err: fmt.Errorf("decode application/json: %w", io.ErrUnexpectedEOF)}, "truncated body", 400},
		{&ogenerrors.DecodeRequestError{OperationContext: op, Err: &validate.Error{Fields: []validate.FieldError{{Name: "id", Error: validate.ErrFieldRequired}}}}, "missing field", 400},
		{&ogenerrors.DecodeRequestError{OperationContext: op, Err: &validate.InvalidContentTypeError{ContentType: "text/plain"}}, "content type", 415},
		{&ogenerrors.DecodeRequestError{OperationContext: op, Err: readLimited(64, 100)}, "body too large", 413},
		{ht.ErrNotImplemented, "not implemented", 501},
	}
}

// readLimited is the error of reading an n-byte body through
// http.MaxBytesHandler's reader of limit bytes, as ogen's decoder meets it.
func readLimited(limit, n int) error {
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/things", strings.NewReader(strings.Repeat("x", n)))
	_, err := io.ReadAll(http.MaxBytesReader(rec, r.Body, int64(limit)))
	return err
}

// serveError serves one request through httptest whose handler answers
// err with handle, and returns what the client got.
func serveError(t *testing.T, err error, handle func(context.Context, http.ResponseWriter, *http.Request, error)) (int, []byte, http.Header) {
	t.Helper()
	return serve(t, http.MethodGet, func(w http.ResponseWriter, r *http.Request) { handle(r.Context(), w, r, err) })
}

// serve makes one request of method through a real HTTP server running h.
func serve(t *testing.T, method string, h http.HandlerFunc) (int, []byte, http.Header) {
	t.Helper()
	ts := httptest.NewServer(h)
	defer ts.Close()
	req, err := http.NewRequest(method, ts.URL+"/things/1", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body, resp.Header
}

// TestErrorHandlerClientGone: when the client has hung up there is nobody
// to answer, and a broken pipe is not a server error to log.
func TestErrorHandlerClientGone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest(http.MethodGet, "/things/1", nil).WithContext(ctx)
	w := httptest.NewRecorder()
	apierr.ErrorHandler(ctx, w, r, errors.New("write tcp 127.0.0.1:8080: broken pipe"))
	if w.Body.Len() != 0 {
		t.Errorf("answered a client that has gone: %q", w.Body.String())
	}
	if w.Code != apierr.StatusClientClosedRequest {
		t.Errorf("status %d recorded for a client that has gone, want 499 (not an empty 200)", w.Code)
	}

	// A body that timed out cancels the request's context too, yet the
	// connection takes the 408.
	w = httptest.NewRecorder()
	apierr.ErrorHandler(ctx, w, r, fmt.Errorf("decode request: %w", os.ErrDeadlineExceeded))
	if w.Code != http.StatusRequestTimeout || !strings.Contains(w.Body.String(), `"code":408`) {
		t.Errorf("body timeout: %d %s, want 408 in the error shape", w.Code, w.Body.String())
	}
}

// TestLogFailureSamples: an outage answers every request 503 or 504; those
// are logged once a second with the count left out, other 5xx every time.
func TestLogFailureSamples(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	defer slog.SetDefault(prev)
	down := errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	for range 100 {
		apierr.LogFailure(context.Background(), http.StatusServiceUnavailable, down)
	}
	for range 3 {
		apierr.LogFailure(context.Background(), http.StatusInternalServerError, errors.New("bug"))
	}
	apierr.LogFailure(context.Background(), http.StatusGatewayTimeout, context.DeadlineExceeded)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if n503, n500, n504 := count(lines, `"status":503`), count(lines, `"status":500`), count(lines, `"status":504`); n503 != 1 || n500 != 3 || n504 != 1 {
		t.Fatalf("logged %d lines of 503 (want 1 for 100), %d of 500 (want 3), %d of 504 (want 1):\n%s", n503, n500, n504, buf.String())
	}
	time.Sleep(1100 * time.Millisecond)
	buf.Reset()
	apierr.LogFailure(context.Background(), http.StatusServiceUnavailable, down)
	if !strings.Contains(buf.String(), `"suppressed":99`) {
		t.Errorf("the first 503 line of the next second: %s, want suppressed 99", buf.String())
	}
}

func count(lines []string, sub string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}

// TestRetryAfter: every 503 says when to retry.
func TestRetryAfter(t *testing.T) {
	w := httptest.NewRecorder()
	apierr.Write(w, http.StatusServiceUnavailable, "database unavailable")
	if got := w.Header().Get("Retry-After"); got != apierr.RetryAfter {
		t.Errorf("503 Retry-After = %q, want %q", got, apierr.RetryAfter)
	}
	w = httptest.NewRecorder()
	apierr.Write(w, http.StatusInternalServerError, "boom")
	if got := w.Header().Get("Retry-After"); got != "" {
		t.Errorf("500 has Retry-After %q", got)
	}
}

// TestCustomShape: the service's own writer and status mapping answer
// every error ogen meets, unknown paths (404) and methods a path does not
// serve (405 with Allow; a CORS preflight stays 204).
func TestCustomShape(t *testing.T) {
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
	check := func(name string, want int, allow string, code int, body []byte, h http.Header) {
		t.Helper()
		if code != want {
			t.Errorf("%s: %d, want %d", name, code, want)
			return
		}
		if want == http.StatusNoContent {
			return
		}
		var got struct {
			Detail string `json:"detail"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(body, &got); err != nil || got.Status != want || got.Detail == "" ||
			h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: body %q (%v), content type %q", name, body, err, h.Get("Content-Type"))
		}
		if h.Get("Allow") != allow {
			t.Errorf("%s: Allow %q, want %q", name, h.Get("Allow"), allow)
		}
	}
	handle := apierr.NewErrorHandler(status, write)
	for _, c := range ogenErrors() {
		code, body, h := serveError(t, c.err, handle)
		check(c.name, c.want, "", code, body, h)
	}
	code, body, h := serveError(t, fmt.Errorf("lookup: %w", errDomain), handle)
	check("domain error", http.StatusNotFound, "", code, body, h)
	code, body, h = serve(t, http.MethodGet, apierr.NotFound(write))
	check("unknown path", http.StatusNotFound, "", code, body, h)
	notAllowed := apierr.MethodNotAllowed(write)
	for _, method := range []string{http.MethodDelete, http.MethodOptions} {
		code, body, h = serve(t, method, func(w http.ResponseWriter, r *http.Request) { notAllowed(w, r, "GET") })
		want, allow := http.StatusMethodNotAllowed, "GET"
		if method == http.MethodOptions {
			want, allow = http.StatusNoContent, ""
		}
		check(method+" not served", want, allow, code, body, h)
	}
}

func TestPastDeadline(t *testing.T) {
	own := errors.New("upstream: i/o timeout") // a client's own words
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if err := apierr.PastDeadline(expired, own); apierr.Status(err) != http.StatusGatewayTimeout || !errors.Is(err, own) {
		t.Errorf("past the deadline: %v (status %d), want 504 keeping the cause", err, apierr.Status(err))
	}
	if err := apierr.PastDeadline(context.Background(), own); err != own {
		t.Errorf("within the deadline: %v, want the error unchanged", err)
	}
	if err := apierr.PastDeadline(expired, nil); err != nil {
		t.Errorf("no error: %v", err)
	}
}
