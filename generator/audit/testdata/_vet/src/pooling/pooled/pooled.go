// Package pooled imports a package of its module that uses sync.Pool: its
// PackageFact says so, and the handler's allocations are not reported.
package pooled

import (
	"bytes"
	"net/http"

	"pooling/bufs"
)

func export(w http.ResponseWriter, r *http.Request) {
	buf := bufs.Pool.Get().(*bytes.Buffer)
	defer bufs.Pool.Put(buf)
	buf.Reset()
	_, _ = w.Write(append(make([]byte, 0, 16), buf.Bytes()...))
}
