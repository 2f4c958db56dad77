package generator

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// MuxPatterns are the API's operations as http.ServeMux patterns ("GET
// /items/{p0}"), for server.NewMux to mount the API on besides "/". A
// request the ServeMux matches exactly skips its trailing-slash retry and
// the allocations of matching "/" (five a request), so the API costs the
// mux what a hand-written route does; with the method in the pattern the
// mux finds it in the tree it searches first, beside the probes. Path
// parameters become wildcards named p0, p1...; a path the ServeMux cannot
// express (a parameter inside a segment, an escape) or that overlaps
// another pattern is left to "/", which still serves it, as it serves a
// method the path does not have (ogen answers 405).
func (d *Data) MuxPatterns() []string {
	mux := http.NewServeMux()
	nop := http.NotFoundHandler()
	fixed := []string{"/", "GET /healthz", "GET /readyz"}
	if d.has("realtime") {
		// NewRealtime mounts the hub there after the API: the hub keeps it.
		fixed = append(fixed, "GET "+d.Params.Realtime.WithDefaults().Path)
	}
	for _, p := range fixed {
		mux.Handle(p, nop)
	}
	var out []string
	for _, op := range d.Operations {
		p, ok := muxPattern(op.Path)
		if ok && op.Method != "" {
			p = op.Method + " " + p
		}
		if !ok || slices.Contains(out, p) || !tryHandle(mux, p, nop) {
			continue
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// muxPattern converts a spec path template to a ServeMux pattern.
func muxPattern(path string) (string, bool) {
	if !strings.HasPrefix(path, "/") || path == "/" || strings.ContainsAny(path, "%#?") {
		return "", false
	}
	segs := strings.Split(path[1:], "/")
	n := 0
	for i, s := range segs {
		switch {
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") && strings.Count(s, "{") == 1 && strings.Count(s, "}") == 1:
			segs[i] = "{p" + strconv.Itoa(n) + "}"
			n++
		case strings.ContainsAny(s, "{}"):
			return "", false
		}
	}
	return "/" + strings.Join(segs, "/"), true
}

// tryHandle registers p on mux unless it conflicts with what is there
// (ServeMux panics then, before changing anything).
func tryHandle(mux *http.ServeMux, p string, h http.Handler) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	mux.Handle(p, h)
	return true
}
