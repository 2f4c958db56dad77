//go:build !no_metrics

package compress

import "github.com/prometheus/client_golang/prometheus"

// HTTPMetrics count what the middleware compressed:
//
//	<ns>_http_compressed_responses_total{encoding}       counter
//	<ns>_http_compression_input_bytes_total{encoding}    counter (body bytes before)
//	<ns>_http_compression_output_bytes_total{encoding}   counter (body bytes sent)
//
// input / output is the compression ratio over any window.
type HTTPMetrics struct {
	responses [2]prometheus.Counter // by coding: zstd, gzip
	in        [2]prometheus.Counter
	out       [2]prometheus.Counter
}

// NewHTTPMetrics registers the metrics on reg under namespace; it panics if
// reg holds different metrics of the same names, as MustRegister does.
func NewHTTPMetrics(reg prometheus.Registerer, namespace string) *HTTPMetrics {
	responses := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "http_compressed_responses_total",
		Help: "HTTP responses sent compressed, by content coding.",
	}, []string{"encoding"})
	in := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "http_compression_input_bytes_total",
		Help: "Body bytes of compressed HTTP responses before compression, by content coding.",
	}, []string{"encoding"})
	out := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "http_compression_output_bytes_total",
		Help: "Body bytes of compressed HTTP responses as sent, by content coding.",
	}, []string{"encoding"})
	reg.MustRegister(responses, in, out)
	m := &HTTPMetrics{}
	for i, coding := range []string{EncodingZstd, EncodingGzip} {
		m.responses[i] = responses.WithLabelValues(coding)
		m.in[i] = in.WithLabelValues(coding)
		m.out[i] = out.WithLabelValues(coding)
	}
	return m
}

// observe counts one compressed response; a nil *HTTPMetrics counts nothing.
func (m *HTTPMetrics) observe(coding string, in, out int64) {
	if m == nil {
		return
	}
	i := 0
	if coding == EncodingGzip {
		i = 1
	}
	m.responses[i].Inc()
	m.in[i].Add(float64(in))
	m.out[i].Add(float64(out))
}
