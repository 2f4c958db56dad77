package compress_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/svcgen/svcgen/platform/compress"
)

// discardWriter is a ResponseWriter that counts the body bytes sent.
type discardWriter struct {
	h http.Header
	n int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkHTTP sends a 64 KB JSON document through the middleware per
// op, for each content coding; identity is the baseline of the same run.
// ratio = document bytes / bytes sent; MB/s is of the uncompressed
// document.
func BenchmarkHTTP(b *testing.B) {
	doc := bulkJSON(64 << 10)
	mw, err := compress.Middleware(compress.HTTPConfig{})
	if err != nil {
		b.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	}))
	for _, coding := range []string{"identity", "gzip", "zstd"} {
		b.Run(coding, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/leaderboard", nil)
			req.Header.Set("Accept-Encoding", coding)
			w := &discardWriter{h: http.Header{}}
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			sent := 0
			for b.Loop() {
				clear(w.h)
				w.n = 0
				h.ServeHTTP(w, req)
				sent += w.n
			}
			b.ReportMetric(float64(len(doc))*float64(b.N)/float64(sent), "ratio")
		})
	}
}

// BenchmarkFrame encodes and decodes one movement message (~340 bytes)
// and a tick batch of 50 of them, with each frame mode. The messages are
// not the ones the shipped dictionary was trained on. ratio = payload
// bytes / frame bytes (1.00 or just below: sent raw).
func BenchmarkFrame(b *testing.B) {
	msgs := compress.MovementMessages(50, 42)
	payloads := []struct {
		name string
		data []byte
	}{{"single", msgs[0]}, {"batch50", compress.MovementBatch(msgs)}}
	for _, mode := range []string{compress.ModeLZ4, compress.ModeZstdDict} {
		// Threshold 1: measure compression even where the default
		// threshold would send a single message raw.
		f, err := compress.NewFramer(compress.FrameConfig{Mode: mode, Threshold: 1})
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range payloads {
			frame, err := f.AppendFrame(nil, p.data)
			if err != nil {
				b.Fatal(err)
			}
			ratio := float64(len(p.data)) / float64(len(frame))
			b.Run(mode+"/"+p.name+"/encode", func(b *testing.B) {
				dst := make([]byte, 0, 2*len(p.data)+64)
				b.SetBytes(int64(len(p.data)))
				b.ReportAllocs()
				for b.Loop() {
					dst, _ = f.AppendFrame(dst[:0], p.data)
				}
				b.ReportMetric(ratio, "ratio")
			})
			b.Run(mode+"/"+p.name+"/decode", func(b *testing.B) {
				dst := make([]byte, 0, len(p.data))
				b.SetBytes(int64(len(p.data)))
				b.ReportAllocs()
				for b.Loop() {
					if dst, err = f.AppendPayload(dst[:0], frame); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(ratio, "ratio")
			})
		}
	}
}

// BenchmarkFrameBaseline is zstd at the same level without the dictionary,
// the baseline of the zstd-dict ratios above: a single message does not
// shrink without one.
func BenchmarkFrameBaseline(b *testing.B) {
	msgs := compress.MovementMessages(50, 42)
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false))
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []struct {
		name string
		data []byte
	}{{"single", msgs[0]}, {"batch50", compress.MovementBatch(msgs)}} {
		b.Run("zstd-nodict/"+p.name+"/encode", func(b *testing.B) {
			dst := make([]byte, 0, 2*len(p.data)+64)
			b.SetBytes(int64(len(p.data)))
			b.ReportAllocs()
			for b.Loop() {
				dst = enc.EncodeAll(p.data, dst[:0])
			}
			b.ReportMetric(float64(len(p.data))/float64(len(dst)), "ratio")
		})
	}
}

// BenchmarkBulk compresses and decompresses the 64 KB document with the
// shared zstd encoder and decoder.
func BenchmarkBulk(b *testing.B) {
	doc := bulkJSON(64 << 10)
	c := compress.CompressBulk(nil, doc)
	b.Run("compress", func(b *testing.B) {
		dst := make([]byte, 0, len(doc))
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			dst = compress.CompressBulk(dst[:0], doc)
		}
		b.ReportMetric(float64(len(doc))/float64(len(c)), "ratio")
	})
	b.Run("decompress", func(b *testing.B) {
		dst := make([]byte, 0, len(doc))
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if dst, err = compress.DecompressBulk(dst[:0], c, len(doc)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
