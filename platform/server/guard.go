package server

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/svcgen/svcgen/platform/apierr"
)

// Guard wraps the API handler h: before h runs, a request whose path,
// query or body holds text PostgreSQL refuses (a NUL character, raw, as
// %00 or as \u0000 in JSON, or bytes that are not UTF-8) is answered 400
// in write's shape, so an anonymous client cannot turn its input into 5xx
// answers; a body that does not arrive within the server's ReadTimeout is
// answered 408. Bodies are read whole (MaxBodyBytes bounds them) into a
// pooled buffer and handed to h as read. The writer goes to h as it came:
// every 503 gets its Retry-After where it is written (apierr.WriteBody,
// and the API's encodeErrorResponse for the Handler's NewError).
func Guard(h http.Handler, write apierr.WriteFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if msg := badText(r.URL); msg != "" {
			write(w, http.StatusBadRequest, msg)
			return
		}
		if r.Body == nil || r.Body == http.NoBody { // a GET: no header lookup
			h.ServeHTTP(w, r)
			return
		}
		kind := bodyKind(r.Header.Get("Content-Type"))
		if kind == otherBody {
			h.ServeHTTP(w, r)
			return
		}
		b := bodies.Get().(*body)
		defer b.release()
		if n := r.ContentLength; n > 0 && n <= 64<<10 {
			b.buf.Grow(int(n) + 1) // +1: ReadFrom's final read finds EOF without growing
		}
		if _, err := b.buf.ReadFrom(r.Body); err != nil {
			var tooLarge *http.MaxBytesError
			switch {
			case errors.As(err, &tooLarge):
				write(w, http.StatusRequestEntityTooLarge, "request body too large")
			case errors.Is(err, os.ErrDeadlineExceeded):
				write(w, http.StatusRequestTimeout, "request body not received in time")
			case clientGone(err):
				w.WriteHeader(apierr.StatusClientClosedRequest)
			default: // net/http refused the framing: a malformed chunked body
				write(w, http.StatusBadRequest, "malformed request body: "+err.Error())
			}
			return
		}
		if msg := badBody(b.buf.Bytes(), kind); msg != "" {
			write(w, http.StatusBadRequest, msg)
			return
		}
		_ = r.Body.Close()
		b.rd.Reset(b.buf.Bytes())
		r.Body = b
		h.ServeHTTP(w, r)
	})
}

// clientGone reports whether a body read failed because the client went
// away mid-body (the connection ended or broke), not because what it sent
// was malformed.
func clientGone(err error) bool {
	var op *net.OpError
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.As(err, &op)
}

// badText says what is wrong with the text of the path or query, or "".
func badText(u *url.URL) string {
	if !utf8.ValidString(u.Path) || strings.IndexByte(u.Path, 0) >= 0 {
		return "the path must be UTF-8 text without NUL characters"
	}
	q := u.RawQuery
	if q == "" {
		return ""
	}
	if strings.IndexByte(q, '%') < 0 && strings.IndexByte(q, 0) < 0 && ascii(q) {
		return "" // nothing escaped: the common case costs a scan
	}
	dec, err := url.QueryUnescape(q)
	if err != nil {
		return "" // ogen answers a malformed query itself
	}
	if !utf8.ValidString(dec) || strings.IndexByte(dec, 0) >= 0 {
		return "query parameters must be UTF-8 text without NUL characters"
	}
	return ""
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// The kinds of body Guard checks.
const (
	otherBody = iota // octet-stream, uploads...: not checked
	jsonBody
	formBody
)

// bodyKind tells which text check a body of this Content-Type gets.
func bodyKind(contentType string) int {
	if contentType == "" {
		return otherBody
	}
	mt, _, err := mime.ParseMediaType(contentType)
	switch {
	case err != nil:
		return otherBody // ogen answers 415
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return jsonBody
	case mt == "application/x-www-form-urlencoded":
		return formBody
	}
	return otherBody
}

// badBody says what is wrong with the text of a JSON or form body, or "".
func badBody(b []byte, kind int) string {
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return "the request body must be UTF-8 text without NUL characters"
	}
	switch {
	case kind == jsonBody && jsonNUL(b):
		return "the request body must not hold NUL characters (\\u0000)"
	case kind == formBody:
		if dec, err := url.QueryUnescape(string(b)); err == nil && (!utf8.ValidString(dec) || strings.IndexByte(dec, 0) >= 0) {
			return "form values must be UTF-8 text without NUL characters (%00)"
		}
	}
	return ""
}

// jsonNUL reports whether b holds the JSON escape \u0000 (an escaped
// backslash followed by u0000 is text, not a NUL).
func jsonNUL(b []byte) bool {
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(`\u0000`))
		if j < 0 {
			return false
		}
		j += i
		slashes := 0
		for k := j; k >= 0 && b[k] == '\\'; k-- {
			slashes++
		}
		if slashes%2 == 1 {
			return true
		}
		i = j + 1
	}
}

// body is a request body read whole, reused across requests.
type body struct {
	rd  bytes.Reader
	buf bytes.Buffer
}

func (b *body) Read(p []byte) (int, error) { return b.rd.Read(p) }
func (b *body) Close() error               { return nil }

// release returns b to the pool, unless a large body grew it.
func (b *body) release() {
	if b.buf.Cap() > 64<<10 {
		return
	}
	b.buf.Reset()
	b.rd.Reset(nil)
	bodies.Put(b)
}

var bodies = sync.Pool{New: func() any { return new(body) }}
