//go:build !no_metrics

package compress_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/svcgen/svcgen/platform/compress"
)

func TestHTTPMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := compress.NewHTTPMetrics(reg, "svc")
	doc := bulkJSON(8 << 10)
	srv, c := testServer(t, compress.HTTPConfig{Metrics: m}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	}))
	zr := get(t, c, "GET", srv.URL, "zstd")
	get(t, c, "GET", srv.URL, "gzip")
	get(t, c, "GET", srv.URL, "identity")
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP svc_http_compressed_responses_total HTTP responses sent compressed, by content coding.
# TYPE svc_http_compressed_responses_total counter
svc_http_compressed_responses_total{encoding="gzip"} 1
svc_http_compressed_responses_total{encoding="zstd"} 1
`), "svc_http_compressed_responses_total"); err != nil {
		t.Fatal(err)
	}
	in, err := testutil.GatherAndCount(reg, "svc_http_compression_input_bytes_total")
	if err != nil || in != 2 {
		t.Fatalf("input bytes series: %d, %v", in, err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			if s.GetLabel()[0].GetValue() != "zstd" {
				continue
			}
			switch mf.GetName() {
			case "svc_http_compression_input_bytes_total":
				if v := s.GetCounter().GetValue(); v != float64(len(doc)) {
					t.Fatalf("zstd input bytes %v, want %d", v, len(doc))
				}
			case "svc_http_compression_output_bytes_total":
				if v := s.GetCounter().GetValue(); v != float64(zr.wire) {
					t.Fatalf("zstd output bytes %v, want the %d on the wire", v, zr.wire)
				}
			}
		}
	}
}
