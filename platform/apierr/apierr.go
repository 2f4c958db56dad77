// Package apierr turns errors into HTTP statuses, client-safe messages and
// error answers. The shape of the answer is the spec's: the service's
// generated internal/handler/errors.go fills the spec's error schema and
// passes its writer to NewErrorHandler, NotFound and MethodNotAllowed;
// Write is svcgen's default shape, {"code":N,"message":"..."}, for a spec
// that names no error schema.
package apierr

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	ht "github.com/ogen-go/ogen/http"
	"github.com/ogen-go/ogen/ogenerrors"
	"github.com/ogen-go/ogen/validate"
)

// StatusClientClosedRequest is the de-facto status (nginx) for a request
// whose client went away before the answer was ready.
const StatusClientClosedRequest = 499

// Status maps an error to an HTTP status:
//
//	a request body that did not arrive in time  408
//	a failed call to another service            503, 504 (outboundStatus)
//	context.DeadlineExceeded                    504
//	context.Canceled                            499
//	*http.MaxBytesError                         413
//	wrong Content-Type                          415
//	ogen's "not implemented"                    501
//	ogen decode/validation errors               400 (security errors 401)
//	PostgreSQL errors, by SQLSTATE (dbStatus):
//	  unique, foreign key, exclusion, conflict  409
//	  not null, check                           422
//	  invalid text (NUL, UTF-8), too long       400
//	  connection, shutdown, too many clients    503
//	  statement timeout                         504
//	a connection refused, reset or cut          503
//	anything else                               500
//
// Domain errors (a store's ErrNotFound) are the handlers' to map.
func Status(err error) int {
	var (
		maxBytes *http.MaxBytesError
		ctype    *validate.InvalidContentTypeError
		ogenErr  ogenerrors.Error
		body     *ogenerrors.DecodeBodyError
	)
	if code, ok := outboundStatus(err); ok {
		return code
	}
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The server's ReadTimeout ended the body (net.Conn's deadline),
		// not the operation's context.
		return http.StatusRequestTimeout
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return StatusClientClosedRequest
	case errors.As(err, &maxBytes):
		return http.StatusRequestEntityTooLarge
	case errors.As(err, &ctype):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ht.ErrNotImplemented):
		return http.StatusNotImplemented
	case errors.As(err, &ogenErr): // DecodeParamsError, DecodeRequestError: 400; SecurityError: 401
		return ogenErr.Code()
	case errors.As(err, &body):
		return http.StatusBadRequest
	}
	if status, _, ok := dbStatus(err); ok {
		return status
	}
	if unavailable(err) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// sqlState is what pgx's *pgconn.PgError (and lib/pq's Error) tell of
// themselves: the SQLSTATE code.
type sqlState interface{ SQLState() string }

// dbStatus maps a PostgreSQL error to a status and a client-safe message
// (never the SQL, table or constraint names); ok is false for any other
// error.
func dbStatus(err error) (status int, msg string, ok bool) {
	var e sqlState
	if !errors.As(err, &e) {
		return 0, "", false
	}
	code := e.SQLState()
	switch {
	case code == "23505":
		return http.StatusConflict, "conflicts with existing data (duplicate key)", true
	case code == "23503":
		return http.StatusConflict, "conflicts with related data (a reference to a missing or a still referenced row)", true
	case code == "23P01":
		return http.StatusConflict, "conflicts with existing data", true
	case code == "40001" || code == "40P01":
		return http.StatusConflict, "conflicting concurrent update: retry the request", true
	case code == "23502":
		return http.StatusUnprocessableEntity, "a required value is missing", true
	case code == "23514":
		return http.StatusUnprocessableEntity, "a value is outside the allowed range", true
	case code == "22021" || code == "22P05":
		return http.StatusBadRequest, "text must be valid UTF-8 without NUL characters", true
	case code == "22001":
		return http.StatusBadRequest, "a value is too long", true
	case code == "22003":
		return http.StatusBadRequest, "a number is out of range", true
	case strings.HasPrefix(code, "22"):
		return http.StatusBadRequest, "invalid value", true
	case code == "57014":
		return http.StatusGatewayTimeout, "request timed out", true
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "57P"):
		return http.StatusServiceUnavailable, "", true
	}
	return 0, "", false
}

// unavailable reports whether err says a backend could not be reached: a
// dial that failed, a connection refused, reset or cut mid-answer.
func unavailable(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// RetryAfter is the Retry-After of a 503 answer, in seconds.
const RetryAfter = "1"

// PastDeadline returns err as the operation's deadline explains it: once
// ctx's deadline has passed, an error that does not say so (a client that
// reports the timeout in its own words) is wrapped with
// context.DeadlineExceeded, so it answers 504, not 500.
func PastDeadline(ctx context.Context, err error) error {
	if err == nil || !errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &deadlineError{err: err}
}

// deadlineError is an error that ended because the deadline passed.
type deadlineError struct{ err error }

func (e *deadlineError) Error() string {
	return context.DeadlineExceeded.Error() + ": " + e.err.Error()
}

func (e *deadlineError) Unwrap() []error { return []error{context.DeadlineExceeded, e.err} }

// Message is a message safe to show the client: the error text for 4xx
// (it describes the client's own input) but a fixed text for what the
// database refused, and a fixed text for 5xx (never internals such as SQL
// or addresses).
func Message(status int, err error) string {
	if _, msg, ok := dbStatus(err); ok && msg != "" && status < 500 {
		return msg
	}
	switch {
	case status == http.StatusRequestTimeout:
		return "request body not received in time"
	case status == http.StatusGatewayTimeout:
		return "request timed out"
	case status == StatusClientClosedRequest:
		return "request canceled"
	case status == http.StatusRequestEntityTooLarge:
		return "request body too large"
	case status == http.StatusServiceUnavailable:
		return "service unavailable, retry in " + RetryAfter + "s"
	case status >= 500 || err == nil:
		if t := http.StatusText(status); t != "" {
			return t
		}
		return "error"
	}
	return err.Error()
}

// WriteFunc writes an error answer with status and a client-safe message
// (Write, or the service's handler.WriteError in the spec's error shape).
type WriteFunc func(w http.ResponseWriter, status int, msg string)

// ErrorHandler is ogen's error handler (api.WithErrorHandler) with Status
// and Write: NewErrorHandler(Status, Write).
func ErrorHandler(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
	handleError(ctx, w, r, err, Status, Write)
}

// NewErrorHandler returns ogen's error handler (api.WithErrorHandler): it
// answers the errors ogen meets outside the Handler's NewError (bad
// parameters, bad bodies, unimplemented operations, and every error when
// the spec has no shared default response) with status(err) and write, and
// logs those with a 5xx status.
func NewErrorHandler(status func(error) int, write WriteFunc) func(context.Context, http.ResponseWriter, *http.Request, error) {
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
		handleError(ctx, w, r, err, status, write)
	}
}

func handleError(ctx context.Context, w http.ResponseWriter, r *http.Request, err error, status func(error) int, write WriteFunc) {
	code := status(err)
	if r.Context().Err() != nil && code != http.StatusRequestTimeout {
		// The client has gone (the write failed with a broken pipe, or it
		// hung up while we worked): there is nobody to answer or to blame,
		// but the metrics count what happened (499), not an empty 200.
		// A body read that timed out cancels the request's context too,
		// yet the connection still takes the 408.
		w.WriteHeader(StatusClientClosedRequest)
		return
	}
	if code >= 500 {
		LogFailure(ctx, code, err, slog.String("method", r.Method), slog.String("path", r.URL.Path))
	}
	write(w, code, Message(code, err))
}

// LogFailure logs a 5xx answer at ERROR ("request failed" with status,
// error and attrs). A 503 or 504 says a backend is down or slow, and then
// nearly every request answers it: those lines are sampled, one a second
// per status, the next one logged carrying "suppressed", the count left
// out since the last, so an outage does not flood the log (the metrics
// count every answer). Other 5xx are logged every time.
func LogFailure(ctx context.Context, status int, err error, attrs ...slog.Attr) {
	if i := sampledStatus(status); i >= 0 {
		s := &failureLog[i]
		now := time.Now()
		s.mu.Lock()
		if now.Before(s.next) {
			s.suppressed++
			s.mu.Unlock()
			return
		}
		s.next = now.Add(time.Second)
		n := s.suppressed
		s.suppressed = 0
		s.mu.Unlock()
		if n > 0 {
			attrs = append(attrs, slog.Int("suppressed", n))
		}
	}
	attrs = append(attrs, slog.Int("status", status), slog.String("error", err.Error()))
	slog.LogAttrs(ctx, slog.LevelError, "request failed", attrs...)
}

// failureLog samples the lines of 503 ([0]) and 504 ([1]) answers.
var failureLog [2]struct {
	next       time.Time
	mu         sync.Mutex
	suppressed int
}

func sampledStatus(status int) int {
	switch status {
	case http.StatusServiceUnavailable:
		return 0
	case http.StatusGatewayTimeout:
		return 1
	}
	return -1
}

// NotFound answers a path the API does not have (api.WithNotFound): 404
// in write's shape.
func NotFound(write WriteFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		write(w, http.StatusNotFound, "no operation at "+r.URL.Path)
	}
}

// MethodNotAllowed answers a method a path does not serve
// (api.WithMethodNotAllowed): 405 with the Allow header in write's shape;
// an OPTIONS request (a CORS preflight) gets 204, as ogen answers it.
func MethodNotAllowed(write WriteFunc) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, allowed string) {
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Allow", allowed)
		write(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here; allowed: "+allowed)
	}
}

// Write writes svcgen's default error body, {"code":status,"message":msg},
// with the given status.
func Write(w http.ResponseWriter, status int, msg string) {
	WriteBody(w, status, "application/json; charset=utf-8", Body(status, msg))
}

// Body is svcgen's default error body: {"code":status,"message":msg} and a
// newline.
func Body(status int, msg string) []byte {
	b := make([]byte, 0, 32+len(msg))
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, msg)
	return append(b, "}\n"...)
}

// WriteBody writes an error body of the given media type with status.
func WriteBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		h.Set("Retry-After", RetryAfter)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// appendJSONString appends s as a JSON string. strconv.AppendQuote is close
// but emits Go escapes (\x00, \U0001F600) that JSON does not accept, so the
// escaping is done here: quotes, backslashes and control characters.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default: // other control characters and HTML-sensitive <, >, &
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
