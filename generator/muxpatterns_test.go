package generator

import (
	"slices"
	"testing"
)

func TestMuxPatterns(t *testing.T) {
	d := &Data{Operations: []Operation{{Method: "GET", Path: "/items/{id}"}, {Method: "PUT", Path: "/items/{id}"}, {Method: "GET", Path: "/items/{id}"}}}
	if got, want := d.MuxPatterns(), []string{"GET /items/{p0}", "PUT /items/{p0}"}; !slices.Equal(got, want) {
		t.Errorf("MuxPatterns() = %q, want %q", got, want)
	}
	d = &Data{}
	for _, p := range []string{
		"/items", "/items/{id}", "/items/{id}", // one per path, not per operation
		"/users/{user-id}/items/{item_id}", // any parameter name
		"/files/{name}.json",               // a parameter inside a segment: left to "/"
		"/a%2Fb",                           // an escape: left to "/"
		"/items/{id}/x",
		"/{kind}/latest", // overlaps /items/{id} (at /items/latest), neither more specific: left to "/"
		"/{kind}/{id}",   // less specific than /items/{id}: fine
		"/latest/{x}",
		"/healthz", // beside GET /healthz, which stays the probe's
		"/readyz",
	} {
		d.Operations = append(d.Operations, Operation{Path: p})
	}
	got := d.MuxPatterns()
	want := []string{"/healthz", "/items", "/items/{p0}", "/items/{p0}/x", "/latest/{p0}", "/readyz", "/users/{p0}/items/{p1}", "/{p0}/{p1}"}
	if !slices.Equal(got, want) {
		t.Errorf("MuxPatterns() =\n%q\nwant\n%q", got, want)
	}
}

func TestMuxPatternsLeaveTheRealtimePath(t *testing.T) {
	d := &Data{features: map[string]bool{"realtime": true}, Operations: []Operation{{Method: "GET", Path: "/ws"}, {Method: "POST", Path: "/ws"}}}
	if got, want := d.MuxPatterns(), []string{"POST /ws"}; !slices.Equal(got, want) {
		t.Errorf("MuxPatterns() = %q, want %q: GET /ws is the hub's", got, want)
	}
}
