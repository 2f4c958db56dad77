package migrate

import (
	"bytes"
	"fmt"
	"go/format"
	"sort"
)

// helperFile is the file, per package, holding the net/http helpers the
// converted echo and gin code calls.
const helperFile = "httpjson.go"

// helpers are the functions converted code may call, each with the
// helpers it needs.
var helpers = map[string]struct {
	needs []string
	src   string
}{
	"writeJSON": {src: `// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
`},
	"writeError": {needs: []string{"writeJSON"}, src: `// writeError answers status with {"message": msg}, the body echo's
// default error handler wrote.
func writeError(w http.ResponseWriter, status int, msg any) {
	_ = writeJSON(w, status, map[string]any{"message": msg})
}
`},
	"handleError": {needs: []string{"writeError"}, src: `// handleError answers 500 when err is not nil, as echo did for an error
// a handler returned.
func handleError(w http.ResponseWriter, err error) {
	if err != nil {
		slog.Error("handler failed", "err", err)
		writeError(w, http.StatusInternalServerError, http.StatusText(http.StatusInternalServerError))
	}
}
`},
	"writeText": {src: `// writeText answers status with s as plain text.
func writeText(w http.ResponseWriter, status int, s string) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, err := io.WriteString(w, s)
	return err
}
`},
	"decodeJSON": {src: `// decodeJSON reads the request's JSON body into v.
func decodeJSON(r *http.Request, v any) error {
	return json.NewDecoder(r.Body).Decode(v)
}
`},
	"logRequests": {src: `// logRequests logs each request's method, path, status and duration.
func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		slog.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
	})
}

// statusWriter records the status a handler answers.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
`},
	"recoverPanics": {src: `// recoverPanics answers 500 and logs the panic of a handler.
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				slog.Error("handler panicked", "panic", v, "method", r.Method, "path", r.URL.Path)
				http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
`},
}

// helperSource is the helpers file of package pkg with the helpers named.
func helperSource(pkg string, names map[string]bool) ([]byte, error) {
	all := map[string]bool{}
	var add func(string)
	add = func(n string) {
		if all[n] {
			return
		}
		all[n] = true
		for _, d := range helpers[n].needs {
			add(d)
		}
	}
	for n := range names {
		add(n)
	}
	list := make([]string, 0, len(all))
	for n := range all {
		list = append(list, n)
	}
	sort.Strings(list)
	var b bytes.Buffer
	fmt.Fprintf(&b, "package %s\n\n// The net/http helpers of the code svcgen migrate converted from a router.\n\nimport (\n", pkg)
	imports := map[string]bool{"net/http": true}
	for _, n := range list {
		switch n {
		case "writeJSON", "decodeJSON":
			imports["encoding/json"] = true
		case "handleError", "recoverPanics":
			imports["log/slog"] = true
		case "logRequests":
			imports["log/slog"], imports["time"] = true, true
		case "writeText":
			imports["io"] = true
		}
	}
	ims := make([]string, 0, len(imports))
	for im := range imports {
		ims = append(ims, im)
	}
	sort.Strings(ims)
	for _, im := range ims {
		fmt.Fprintf(&b, "\t%q\n", im)
	}
	b.WriteString(")\n")
	for _, n := range list {
		b.WriteString("\n" + helpers[n].src)
	}
	return format.Source(b.Bytes())
}
