package compress_test

import (
	"bytes"
	stdgzip "compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/svcgen/svcgen/platform/compress"
)

// bulkJSON returns a JSON document of about n bytes: leaderboard rows, the
// shape of a large query response.
func bulkJSON(n int) []byte {
	b := []byte(`{"rows":[`)
	for i := 0; len(b) < n-120; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"rank":%d,"player_id":"p-%07d","name":"player%d","score":%d,"games":%d,"updated_at":"2026-11-%02dT%02d:%02d:00Z"}`,
			i+1, (i*7919)%1000003, i%977, 1000000-i*37, 10+i%300, 1+i%28, i%24, i%60)
	}
	return append(b, "]}"...)
}

// testServer serves handler behind the middleware on a real listener and
// returns a client that does not decode (or ask for) compression itself.
func testServer(t *testing.T, cfg compress.HTTPConfig, h http.Handler) (*httptest.Server, *http.Client) {
	t.Helper()
	mw, err := compress.Middleware(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw(h))
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DisableCompression = true
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	return srv, &http.Client{Transport: tr}
}

type response struct {
	header http.Header
	body   []byte // decoded
	wire   int    // bytes on the wire
	status int
}

func get(t *testing.T, c *http.Client, method, url, acceptEncoding string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{header: resp.Header, body: decode(t, resp.Header.Get("Content-Encoding"), raw), wire: len(raw), status: resp.StatusCode}
}

// decode undoes a content coding with decoders independent of the encoders
// (the standard library's gzip).
func decode(t *testing.T, coding string, raw []byte) []byte {
	t.Helper()
	switch coding {
	case "":
		return raw
	case "gzip":
		r, err := stdgzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("gzip body: %v", err)
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("gzip body: %v", err)
		}
		return out
	case "zstd":
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		out, err := d.DecodeAll(raw, nil)
		if err != nil {
			t.Fatalf("zstd body: %v", err)
		}
		return out
	}
	t.Fatalf("unexpected Content-Encoding %q", coding)
	return nil
}

func TestHTTPNegotiation(t *testing.T) {
	doc := bulkJSON(16 << 10)
	small := []byte(`{"ok":true}`)
	mux := http.NewServeMux()
	mux.HandleFunc("/doc", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
		_, _ = w.Write(doc)
	})
	mux.HandleFunc("/chunks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Origin")
		for i := 0; i < len(doc); i += 100 { // many small writes, no type: sniffed
			_, _ = w.Write(doc[i:min(i+100, len(doc))])
		}
	})
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(small)
	})
	mux.HandleFunc("/png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(doc)
	})
	mux.HandleFunc("/encoded", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		var b bytes.Buffer
		zw := stdgzip.NewWriter(&b)
		_, _ = zw.Write(doc)
		_ = zw.Close()
		_, _ = w.Write(b.Bytes())
	})
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/notmodified", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", `"v1"`)
		w.WriteHeader(http.StatusNotModified)
	})
	mux.HandleFunc("/created", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(doc)
	})
	srv, c := testServer(t, compress.HTTPConfig{MinSize: 1024}, mux)

	cases := []struct {
		path, ae, method string
		coding           string // expected Content-Encoding
		body             []byte
		status           int
		vary             bool // Vary: Accept-Encoding expected
	}{
		{"/doc", "zstd, gzip", "GET", "zstd", doc, 200, true},
		{"/doc", "gzip, deflate, br", "GET", "gzip", doc, 200, true},
		{"/doc", "x-gzip", "GET", "gzip", doc, 200, true},
		{"/doc", "identity", "GET", "", doc, 200, true},
		{"/doc", "", "GET", "", doc, 200, true},
		{"/doc", "gzip;q=1.0, zstd;q=0.5", "GET", "gzip", doc, 200, true},
		{"/doc", "zstd;q=0, gzip", "GET", "gzip", doc, 200, true},
		{"/doc", "gzip;q=0.5, zstd;q=0.5", "GET", "zstd", doc, 200, true},
		{"/doc", "*", "GET", "zstd", doc, 200, true},
		{"/doc", "*;q=0.2, zstd;q=0.1", "GET", "gzip", doc, 200, true},
		{"/doc", "gzip;q=0, zstd;q=0", "GET", "", doc, 200, true},
		{"/doc", "GZIP ; Q=0.8", "GET", "gzip", doc, 200, true},
		{"/doc", "gzip;q=bogus", "GET", "", doc, 200, true},
		{"/chunks", "zstd", "GET", "zstd", doc, 200, true},
		{"/created", "gzip", "GET", "gzip", doc, 201, true},
		{"/small", "zstd, gzip", "GET", "", small, 200, true},
		{"/small", "gzip, identity;q=0", "GET", "gzip", small, 200, true},
		{"/small", "zstd, *;q=0", "GET", "zstd", small, 200, true},
		{"/png", "zstd, gzip", "GET", "", doc, 200, false},
		{"/encoded", "zstd", "GET", "gzip", doc, 200, false},
		{"/nocontent", "zstd, gzip", "GET", "", nil, 204, false},
		{"/notmodified", "zstd, gzip", "GET", "", nil, 304, false},
		{"/doc", "zstd, gzip", "HEAD", "", nil, 200, false},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path+" "+tc.ae, func(t *testing.T) {
			r := get(t, c, tc.method, srv.URL+tc.path, tc.ae)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if got := r.header.Get("Content-Encoding"); got != tc.coding {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.coding)
			}
			if got := strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Accept-Encoding"); got != tc.vary {
				t.Fatalf("Vary %q: Accept-Encoding present %v, want %v", r.header.Values("Vary"), got, tc.vary)
			}
			if !bytes.Equal(r.body, tc.body) {
				t.Fatalf("body decodes to %d bytes, want the %d written", len(r.body), len(tc.body))
			}
			if tc.coding == "" || tc.path == "/encoded" {
				return // not compressed by the middleware
			}
			if cl := r.header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(r.wire) {
				t.Fatalf("Content-Length %s on a compressed body of %d bytes", cl, r.wire)
			}
			if tc.path != "/small" && r.wire*3 > len(tc.body) {
				t.Fatalf("%s body of %d bytes for %d: want under a third", tc.coding, r.wire, len(tc.body))
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "text/plain") {
				t.Fatalf("Content-Type %q: sniffed from compressed bytes?", ct)
			}
			if et := r.header.Get("ETag"); tc.path == "/doc" && et != `W/"v1"` {
				t.Fatalf("ETag %q on a compressed body, want the weak W/\"v1\"", et)
			}
		})
	}
	// The Vary the handler set is kept beside Accept-Encoding.
	r := get(t, c, "GET", srv.URL+"/chunks", "gzip")
	if v := strings.Join(r.header.Values("Vary"), ", "); !strings.Contains(v, "Origin") || !strings.Contains(v, "Accept-Encoding") {
		t.Fatalf("Vary %q: want Origin and Accept-Encoding", v)
	}
	// Not compressed, still one response: the client's own transport
	// (which asks for gzip and decodes it) sees the document.
	plain := srv.Client()
	resp, err := plain.Get(srv.URL + "/doc")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, doc) || !resp.Uncompressed {
		t.Fatalf("Go's transport: %d bytes, uncompressed by it %v", len(body), resp.Uncompressed)
	}
	plain.CloseIdleConnections()
}

// TestHTTPFlush: a streaming handler's flushed bytes reach the client,
// decodable, before the handler finishes.
func TestHTTPFlush(t *testing.T) {
	part1, part2 := bulkJSON(4<<10), bulkJSON(3<<10)
	type call struct{ release, done chan struct{} }
	calls := make(chan call, 1)
	srv, c := testServer(t, compress.HTTPConfig{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cl := <-calls
		defer close(cl.done)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(part1)
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through the middleware: %v", err)
		}
		select {
		case <-cl.release:
		case <-r.Context().Done(): // the client gave up: the test has failed already
		}
		_, _ = w.Write(part2)
	}))
	for _, coding := range []string{"zstd", "gzip"} {
		cl := call{release: make(chan struct{}), done: make(chan struct{})}
		calls <- cl
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("Accept-Encoding", coding)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("Content-Encoding") != coding {
			t.Fatalf("Content-Encoding %q, want %s", resp.Header.Get("Content-Encoding"), coding)
		}
		var r io.Reader
		if coding == "gzip" {
			r, err = stdgzip.NewReader(resp.Body)
		} else {
			var d *zstd.Decoder
			d, err = zstd.NewReader(resp.Body, zstd.WithDecoderConcurrency(1))
			defer d.Close()
			r = d
		}
		if err != nil {
			t.Fatal(err)
		}
		// The handler is blocked until release: part1 can only arrive if
		// Flush pushed it through the encoder and the connection.
		got := make([]byte, len(part1))
		if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, part1) {
			resp.Body.Close()
			t.Fatalf("%s: the flushed part did not arrive whole: %v", coding, err)
		}
		close(cl.release)
		rest, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(rest, part2) {
			t.Fatalf("%s: rest of the stream: %v", coding, err)
		}
		resp.Body.Close()
		<-cl.done
	}
}

func TestHTTPUpgradePassesThrough(t *testing.T) {
	srv, c := testServer(t, compress.HTTPConfig{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Hijacker); !ok {
			t.Error("an upgrade request lost http.Hijacker")
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(bulkJSON(4 << 10))
	}))
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "zstd")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if ce := resp.Header.Get("Content-Encoding"); ce != "" {
		t.Fatalf("an upgrade request got Content-Encoding %q", ce)
	}
}

func TestMiddlewareConfigErrors(t *testing.T) {
	for _, c := range []struct {
		want string
		cfg  compress.HTTPConfig
	}{
		{"COMPRESS_GZIP_LEVEL=12", compress.HTTPConfig{GzipLevel: 12}},
		{`COMPRESS_ZSTD_LEVEL="ultra"`, compress.HTTPConfig{ZstdLevel: "ultra"}},
		{"COMPRESS_HTTP_MIN_BYTES=-1", compress.HTTPConfig{MinSize: -1}},
	} {
		if _, err := compress.Middleware(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Middleware(%+v) = %v, want an error naming %s", c.cfg, err, c.want)
		}
	}
	err := compress.Config{Frame: compress.FrameConfig{Mode: "brotli", Threshold: -2}}.Validate()
	if err == nil || !strings.Contains(err.Error(), `COMPRESS_FRAME_MODE="brotli"`) || !strings.Contains(err.Error(), "COMPRESS_FRAME_THRESHOLD=-2") {
		t.Errorf("Config.Validate() = %v, want both bad settings named", err)
	}
}

func TestNegotiate(t *testing.T) {
	for _, c := range []struct {
		ae      string
		coding  string
		refused bool
	}{
		{"", "", false},
		{"br", "", false},
		{"zstd", "zstd", false},
		{"gzip, zstd", "zstd", false},
		{"gzip;q=0.9, zstd;q=0.8", "gzip", false},
		{"identity;q=0, gzip", "gzip", true},
		{"*;q=0", "", true},
		{"*;q=0, identity", "", false},
		{"*;q=0.5, gzip;q=1", "gzip", false},
		{"zstd;q=2", "", false},
	} {
		coding, refused := compress.Negotiate([]string{c.ae})
		if coding != c.coding || refused != c.refused {
			t.Errorf("Negotiate(%q) = %q, %v; want %q, %v", c.ae, coding, refused, c.coding, c.refused)
		}
	}
}
