package generator

import (
	"context"
	"fmt"
	"path"
	"strings"
)

// AdoptAPIDir is where svcgen adopt puts the ogen API of a service that has
// an OpenAPI spec but no ogen server: ogen's package in api/ (generated),
// the team's Handler in handler/ (scaffold: one file per operation, and
// the Moved list) and the strangler mount in mount/ (generated). A tree of
// its own, so it never meets the service's own internal/api or
// internal/handler.
const AdoptAPIDir = "internal/ogen"

// adoptAPIPackage is the templates/adopt folder rendered with the adopted
// spec's operations (never one of Adoption.Packages).
const adoptAPIPackage = "ogen"

// adoptOgenDir is ogen's package in an adopted service.
const adoptOgenDir = AdoptAPIDir + "/api"

// AdoptRoute is one operation of an adopted API as the mount serves it.
type AdoptRoute struct {
	// Key is the name the team lists in handler.Moved (Operation.Key).
	Key string
	// Method and Path are the spec's.
	Method, Path string
	// Pattern is the http.ServeMux pattern ("GET /items/{p0}"); "" when
	// ServeMux cannot express the path (the mount then finds the operation
	// with ogen's router).
	Pattern string
}

// AdoptRoutes are the operations as the mount of an adopted API routes
// them. A path ending in "/" gets "{$}": the router it came from matched
// it exactly, where ServeMux would take the whole subtree away from the
// legacy handler.
func (d *Data) AdoptRoutes() []AdoptRoute {
	out := make([]AdoptRoute, 0, len(d.Operations))
	for _, op := range d.Operations {
		r := AdoptRoute{Key: op.Key(), Method: op.Method, Path: op.Path}
		if p, ok := muxPattern(op.Path); ok && op.Method != "" {
			if strings.HasSuffix(p, "/") {
				p += "{$}"
			}
			r.Pattern = op.Method + " " + p
		}
		out = append(out, r)
	}
	return out
}

// renderAdoptAPI renders the ogen API of an adopted service from its spec:
// ogen's package (reused from prev while its key is unchanged), and the
// files of templates/adopt/ogen rendered with the spec's operations. It
// returns the files, the key of ogen's input, ogen's warnings and the
// spec's operations.
func renderAdoptAPI(ctx context.Context, c *Catalog, base *Data, specName string, spec []byte, skip []string, prev *APIFiles) ([]File, string, []string, []Operation, error) {
	f, ok := c.adopt[adoptAPIPackage]
	if !ok {
		return nil, "", nil, nil, fmt.Errorf("the template tree has no adopt/%s", adoptAPIPackage)
	}
	key := apiKey(spec, false, skip)
	var og *ogenOutput
	var err error
	if prev != nil && prev.Key == key {
		og, err = reuseOgen(prev.Files)
	} else {
		og, err = runOgen(specName, spec, false, skip)
	}
	if err != nil {
		return nil, "", nil, nil, err
	}
	d := *base
	d.Operations = og.ops
	d.HasNewError = og.newError
	d.Security = og.security
	d.Probes = nil
	d.Op = nil
	jobs, err := featureJobs(c.tmpl, f, &d)
	if err != nil {
		return nil, "", nil, nil, err
	}
	r := &renderer{fsys: c.tmpl, funcs: funcs()}
	if err := renderAll(ctx, r, jobs); err != nil {
		return nil, "", nil, nil, err
	}
	g := &assembly{files: map[string]File{}}
	for _, j := range jobs {
		if !j.skip {
			g.add(File{Path: j.out, Template: "templates/" + j.tmpl, Content: j.content, Class: j.class})
		}
	}
	for name, content := range og.files {
		g.add(File{Path: path.Join(adoptOgenDir, name), Template: "ogen " + specName, Content: content, Class: Generated})
	}
	if g.err != nil {
		return nil, "", nil, nil, g.err
	}
	return g.sorted(), key, og.skipped, og.ops, nil
}

// adoptedAPIFiles returns the adopted API's ogen package as svcgen last
// wrote it, when every file of it is on disk unchanged (regen and check
// of an unchanged spec reuse it instead of running ogen).
func adoptedAPIFiles(dir string, m Manifest) *APIFiles {
	if m.Adopted == nil {
		return nil
	}
	return ogenFilesOnDisk(dir, m, adoptOgenDir, m.Adopted.APIKey)
}
