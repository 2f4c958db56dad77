//go:build no_metrics

package compress

// HTTPMetrics counts nothing: the service was generated without the metrics
// feature (svcgen regen --features +metrics adds the counters). It exists so
// that HTTPConfig has one shape.
type HTTPMetrics struct{}

// observe counts nothing.
func (*HTTPMetrics) observe(string, int64, int64) {}
