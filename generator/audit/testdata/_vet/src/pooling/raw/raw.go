// Package raw allocates per request, with no sync.Pool in sight.
package raw

import (
	"bytes"
	"net/http"
)

func export(w http.ResponseWriter, r *http.Request) {
	buf := new(bytes.Buffer)      // want `a bytes.Buffer allocated on every request in handler export`
	scratch := make([]byte, 4096) // want `make\(\[\]byte\) allocated on every request in handler export`
	buf.Write(scratch)
	_, _ = w.Write(buf.Bytes())
}
