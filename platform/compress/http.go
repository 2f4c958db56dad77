package compress

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Content codings the middleware produces.
const (
	EncodingZstd = "zstd"
	EncodingGzip = "gzip"
)

// Defaults of HTTPConfig.
const (
	DefaultHTTPMinSize = 1024
	DefaultGzipLevel   = 5
	DefaultZstdLevel   = "fastest"
	// zstdWindow stays under the 8 MiB window that browsers accept for
	// "Content-Encoding: zstd" (RFC 9659) and keeps pooled encoders small.
	zstdWindow = 1 << 20
)

// HTTPConfig configures the response compression middleware.
type HTTPConfig struct {
	// Metrics counts compressed responses and bytes; nil counts nothing.
	Metrics *HTTPMetrics
	// ZstdLevel is fastest (the default), default, better or best.
	ZstdLevel string
	// MinSize: responses shorter than this many bytes go uncompressed
	// (default 1024; below ~1 KB compression gains little and costs CPU).
	MinSize int
	// GzipLevel is 1 (fastest) to 9 (smallest); 0 means 5.
	GzipLevel int
}

func (c HTTPConfig) withDefaults() HTTPConfig {
	if c.MinSize == 0 {
		c.MinSize = DefaultHTTPMinSize
	}
	if c.GzipLevel == 0 {
		c.GzipLevel = DefaultGzipLevel
	}
	if c.ZstdLevel == "" {
		c.ZstdLevel = DefaultZstdLevel
	}
	return c
}

func (c HTTPConfig) validate() error {
	c = c.withDefaults()
	var errs []error
	if c.MinSize < 0 {
		errs = append(errs, fmt.Errorf("COMPRESS_HTTP_MIN_BYTES=%d: want 0 (the default, %d) or more bytes", c.MinSize, DefaultHTTPMinSize))
	}
	if c.GzipLevel < gzip.BestSpeed || c.GzipLevel > gzip.BestCompression {
		errs = append(errs, fmt.Errorf("COMPRESS_GZIP_LEVEL=%d: want 1 (fastest) to 9 (smallest)", c.GzipLevel))
	}
	if ok, _ := zstd.EncoderLevelFromString(c.ZstdLevel); !ok {
		errs = append(errs, fmt.Errorf("COMPRESS_ZSTD_LEVEL=%q: want fastest, default, better or best", c.ZstdLevel))
	}
	return errors.Join(errs...)
}

// Middleware returns a middleware that compresses responses with zstd or
// gzip, whichever the request's Accept-Encoding prefers (q-values; zstd
// wins a tie), when the body reaches cfg.MinSize bytes: it buffers up to
// MinSize bytes before deciding, then streams through a pooled encoder.
// A compressed response gets Content-Encoding, Vary: Accept-Encoding, no
// Content-Length, no Accept-Ranges, and a weak ETag (it is another
// representation). Left alone: HEAD requests, upgrades (WebSocket),
// 1xx/204/206/304 responses, responses with a Content-Encoding, and
// already compressed types (images but SVG, audio, video, archives,
// woff/woff2 fonts, ...). http.Flusher keeps working: a flush before the
// decision sends the buffered bytes uncompressed when they are below
// MinSize.
func Middleware(cfg HTTPConfig) (func(http.Handler) http.Handler, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	cfg = cfg.withDefaults()
	_, zlevel := zstd.EncoderLevelFromString(cfg.ZstdLevel)
	m := &middleware{minSize: cfg.MinSize}
	m.metrics = cfg.Metrics
	m.gzips.New = func() any {
		w, err := gzip.NewWriterLevel(nil, cfg.GzipLevel)
		if err != nil {
			panic("compress: gzip level checked above: " + err.Error())
		}
		return w
	}
	m.zstds.New = func() any {
		// Concurrency 1: the encoder works in the caller's goroutine and
		// starts none of its own, so a pooled encoder needs no Close.
		w, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zlevel), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(zstdWindow), zstd.WithLowerEncoderMem(true))
		if err != nil {
			panic("compress: zstd level checked above: " + err.Error())
		}
		return w
	}
	m.writers.New = func() any { return &responseWriter{m: m} }
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.serve(w, r, next)
		})
	}, nil
}

type middleware struct {
	metrics *HTTPMetrics
	gzips   sync.Pool // *gzip.Writer
	zstds   sync.Pool // *zstd.Encoder
	writers sync.Pool // *responseWriter
	minSize int
}

func (m *middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.Method == http.MethodHead || r.Header.Get("Upgrade") != "" {
		next.ServeHTTP(w, r)
		return
	}
	coding, identityRefused := Negotiate(r.Header.Values("Accept-Encoding"))
	rw := m.writers.Get().(*responseWriter)
	rw.ResponseWriter, rw.coding = w, coding
	rw.minSize = m.minSize
	if identityRefused && coding != "" {
		rw.minSize = 0 // the client refuses an uncompressed body: compress whatever the size
	}
	next.ServeHTTP(rw, r) // a panic leaves rw to the garbage collector
	rw.finish()
	*rw = responseWriter{m: m, buf: rw.buf[:0]}
	m.writers.Put(rw)
}

// encoder is what gzip.Writer and zstd.Encoder have in common.
type encoder interface {
	io.WriteCloser
	Flush() error
	Reset(w io.Writer)
}

// Writer states.
const (
	undecided   = iota // buffering up to minSize bytes
	identity           // passing the body through
	compressing        // writing the body through enc
)

// responseWriter buffers the start of a body, decides, then passes the
// body through or compresses it. It is pooled; one request uses it at a time.
type responseWriter struct {
	http.ResponseWriter
	m      *middleware
	enc    encoder
	out    countingWriter
	coding string // what the client accepts best; "" for none
	buf    []byte
	status int
	state  int
	// minSize is the middleware's, or 0 when identity is refused.
	minSize int
	in      int64
	wrote   bool // WriteHeader was called (status holds the code)
}

// countingWriter counts the compressed bytes written to the client.
type countingWriter struct {
	w http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code) // informational (103 Early Hints): pass on, not final
		return
	}
	if w.wrote {
		return
	}
	w.wrote, w.status = true, code
	h := w.Header()
	if !w.eligible(h) {
		_ = w.startIdentity(false)
		return
	}
	// A declared length decides now; so does a large one with a known type
	// (an unknown type is sniffed from the first bytes written).
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil {
			if n < int64(w.minSize) {
				_ = w.startIdentity(true)
			} else if h.Get("Content-Type") != "" {
				_ = w.start(nil)
			}
		}
	}
}

// eligible reports whether the response could be compressed at all,
// looking at the status and the headers set so far.
func (w *responseWriter) eligible(h http.Header) bool {
	switch {
	case w.status < 200, w.status == http.StatusNoContent, w.status == http.StatusNotModified,
		w.status == http.StatusPartialContent, w.status == http.StatusResetContent:
		return false
	case h.Get("Content-Encoding") != "", h.Get("Content-Range") != "":
		return false
	}
	ct := h.Get("Content-Type")
	return ct == "" || Compressible(ct)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	switch w.state {
	case identity:
		return w.ResponseWriter.Write(p)
	case compressing:
		w.in += int64(len(p))
		return w.enc.Write(p)
	}
	if len(w.buf)+len(p) < w.minSize {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	if err := w.start(p); err != nil {
		return 0, err
	}
	return w.Write(p)
}

// start decides for a body of at least minSize bytes whose beginning is
// buf then p: compress unless the (sniffed) type is compressed already or
// the client accepts no coding. It writes out buf, not p.
func (w *responseWriter) start(p []byte) error {
	h := w.Header()
	if h.Get("Content-Type") == "" {
		// Sniff the uncompressed bytes, as net/http would: it would sniff
		// the compressed ones otherwise.
		head := append(w.buf[:len(w.buf):len(w.buf)], p[:min(len(p), 512)]...)
		h.Set("Content-Type", http.DetectContentType(head))
		if !Compressible(h.Get("Content-Type")) {
			return w.startIdentity(false)
		}
	}
	if w.coding == "" {
		return w.startIdentity(true)
	}
	h.Del("Content-Length")
	h.Del("Accept-Ranges")
	h.Set("Content-Encoding", w.coding)
	addVary(h)
	if et := h.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
		h.Set("ETag", "W/"+et)
	}
	w.ResponseWriter.WriteHeader(w.status)
	w.out = countingWriter{w: w.ResponseWriter}
	if w.coding == EncodingZstd {
		w.enc = w.m.zstds.Get().(*zstd.Encoder)
	} else {
		w.enc = w.m.gzips.Get().(*gzip.Writer)
	}
	w.enc.Reset(&w.out)
	w.state = compressing
	if len(w.buf) > 0 {
		w.in += int64(len(w.buf))
		if _, err := w.enc.Write(w.buf); err != nil {
			return err
		}
		w.buf = w.buf[:0]
	}
	return nil
}

// startIdentity sends the headers and the buffered bytes as they are;
// vary says the decision depended on Accept-Encoding.
func (w *responseWriter) startIdentity(vary bool) error {
	if vary {
		addVary(w.Header())
	}
	w.state = identity
	w.ResponseWriter.WriteHeader(w.status)
	if len(w.buf) > 0 {
		_, err := w.ResponseWriter.Write(w.buf)
		w.buf = w.buf[:0]
		return err
	}
	return nil
}

// Flush sends what is buffered: compressed bytes flushed out of the
// encoder, or a body still below MinSize uncompressed.
func (w *responseWriter) Flush() {
	_ = w.FlushError()
}

// FlushError is Flush for http.ResponseController.
func (w *responseWriter) FlushError() error {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	switch w.state {
	case undecided:
		if err := w.decideSmall(); err != nil {
			return err
		}
	case compressing:
		if err := w.enc.Flush(); err != nil {
			return err
		}
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// decideSmall ends buffering with less than minSize bytes: uncompressed,
// unless the client refused identity (minSize 0) and a body exists.
func (w *responseWriter) decideSmall() error {
	if w.minSize == 0 && len(w.buf) > 0 {
		return w.start(nil)
	}
	if w.Header().Get("Content-Type") == "" && len(w.buf) > 0 {
		w.Header().Set("Content-Type", http.DetectContentType(w.buf))
	}
	return w.startIdentity(w.eligible(w.Header()))
}

// Hijack passes through to the connection (after a decision nothing is
// buffered that could be lost).
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// finish ends the response after the handler returned.
func (w *responseWriter) finish() {
	switch w.state {
	case undecided:
		if !w.wrote {
			return // the handler wrote nothing: net/http answers 200 with no body
		}
		if len(w.buf) > 0 && w.Header().Get("Content-Length") == "" {
			if w.minSize > 0 {
				w.Header().Set("Content-Length", strconv.Itoa(len(w.buf)))
			}
		}
		_ = w.decideSmall()
	case compressing:
		_ = w.enc.Close()
		w.enc.Reset(nil)
		if z, ok := w.enc.(*zstd.Encoder); ok {
			w.m.zstds.Put(z)
		} else {
			w.m.gzips.Put(w.enc)
		}
		w.m.metrics.observe(w.coding, w.in, w.out.n)
	}
}

func addVary(h http.Header) {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, "Accept-Encoding") {
				return
			}
		}
	}
	h.Add("Vary", "Accept-Encoding")
}

// Compressible reports whether a body of content type ct is worth
// compressing: not for formats that are compressed already.
func Compressible(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	major, minor, _ := strings.Cut(mt, "/")
	switch major {
	case "image":
		return minor == "svg+xml" || minor == "bmp" || minor == "x-icon" || minor == "vnd.microsoft.icon"
	case "video", "audio":
		return false
	case "font":
		return minor != "woff" && minor != "woff2"
	}
	switch mt {
	case "application/zip", "application/gzip", "application/x-gzip", "application/zstd",
		"application/x-bzip2", "application/x-xz", "application/x-7z-compressed",
		"application/x-rar-compressed", "application/vnd.rar", "application/x-brotli", "application/br",
		"application/pdf", "application/wasm+gzip", "application/x-lz4", "application/x-snappy-framed",
		"application/vnd.android.package-archive", "application/java-archive", "application/epub+zip",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"application/vnd.openxmlformats-officedocument.presentationml.presentation":
		return false
	}
	return true
}

// Negotiate picks the response coding from the Accept-Encoding header
// values: zstd or gzip, the one with the higher q-value (zstd on a tie),
// or "" when the client accepts neither. "*" stands for every coding not
// named; "x-gzip" is gzip. identityRefused is true when the client said
// identity;q=0 (or *;q=0 without naming identity).
func Negotiate(values []string) (coding string, identityRefused bool) {
	qZstd, qGzip, qIdentity, qStar := -1.0, -1.0, -1.0, -1.0
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			q, ok := qValue(params)
			if !ok {
				continue // a malformed entry is ignored
			}
			switch name {
			case "zstd":
				qZstd = max(qZstd, q)
			case "gzip", "x-gzip":
				qGzip = max(qGzip, q)
			case "identity":
				qIdentity = max(qIdentity, q)
			case "*":
				qStar = max(qStar, q)
			}
		}
	}
	if qZstd < 0 {
		qZstd = max(qStar, 0)
	}
	if qGzip < 0 {
		qGzip = max(qStar, 0)
	}
	identityRefused = qIdentity == 0 || (qIdentity < 0 && qStar == 0)
	switch {
	case qZstd > 0 && qZstd >= qGzip:
		return EncodingZstd, identityRefused
	case qGzip > 0:
		return EncodingGzip, identityRefused
	}
	return "", identityRefused
}

// qValue parses the parameters after a coding (";q=0.5"); no q means 1.
func qValue(params string) (float64, bool) {
	q := 1.0
	for p := range strings.SplitSeq(params, ";") {
		k, v, found := strings.Cut(strings.TrimSpace(p), "=")
		if !found || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 1 {
			return 0, false
		}
		q = f
	}
	return q, true
}
