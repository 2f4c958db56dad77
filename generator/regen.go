package generator

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// RegenRequest builds the Request that regenerates the service in dir from
// its manifest and its current api/openapi.yaml. The spec counts as the
// starter's while it is byte for byte the starter's.
func RegenRequest(c *Catalog, dir string, m Manifest) (Request, error) {
	req := Request{Catalog: c, Options: m.Answers}
	if m.Adopted != nil {
		// An adopted service gets only platform packages, which do not
		// depend on the spec: render with the preset's starter, and the
		// templates/adopt packages it was given.
		for _, p := range m.Adopted.Packages {
			if _, ok := c.adopt[p]; ok {
				req.Adopt = append(req.Adopt, p)
			}
		}
		if m.Adopted.API != "" {
			if m.Adopted.API != AdoptAPIDir {
				return req, fmt.Errorf("%s: adopted.api is %q; this svcgen serves an adopted API from %s only", filepath.Join(dir, ManifestPath), m.Adopted.API, AdoptAPIDir)
			}
			if m.Adopted.Spec == "" {
				return req, fmt.Errorf("%s: adopted.api is set but adopted.spec names no OpenAPI document: set spec to the service's spec (api/openapi.yaml)", filepath.Join(dir, ManifestPath))
			}
			spec, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(m.Adopted.Spec)))
			if err != nil {
				return req, fmt.Errorf("reading the adopted service's spec (adopted.spec in %s): %w", ManifestPath, err)
			}
			req.AdoptSpec = spec
			req.AdoptSpecName = filepath.Join(dir, filepath.FromSlash(m.Adopted.Spec))
			req.AdoptAPI = adoptedAPIFiles(dir, m)
		}
		return req, nil
	}
	spec, err := os.ReadFile(filepath.Join(dir, SpecPath))
	if err != nil {
		return req, fmt.Errorf("reading the service's spec: %w", err)
	}
	req.SpecName = filepath.Join(dir, SpecPath)
	if req.Clients, err = ReadClientSpecs(dir, m.Answers.Clients); err != nil {
		return req, err
	}
	req.FromStarter = m.StarterSpec
	req.API = lastAPI(dir, m)
	// The service keeps the starter it began with, also when the preset
	// changes; manifests written before svcgen recorded it name the
	// preset's.
	req.Starter = m.Starter
	if req.Starter == "" {
		if p, err := c.Preset(m.Answers.Preset); err == nil {
			req.Starter = p.Starter
		}
	}
	if m.StarterSpec && req.Starter != "" {
		starter, err := fs.ReadFile(c.tmpl, path.Join(startersDir, req.Starter, SpecPath))
		if err == nil && bytes.Equal(starter, spec) {
			return req, nil
		}
	}
	req.Spec = spec
	return req, nil
}

// lastAPI returns internal/api as svcgen last wrote it, when every file of
// it is on disk unchanged; Generate reuses it while the spec is unchanged.
func lastAPI(dir string, m Manifest) *APIFiles {
	return ogenFilesOnDisk(dir, m, apiDir, m.APIKey)
}

// ogenFilesOnDisk returns the ogen package svcgen last wrote to pkg (with
// the key it was made under), when every file of it is on disk unchanged.
func ogenFilesOnDisk(dir string, m Manifest, pkg, key string) *APIFiles {
	if key == "" {
		return nil
	}
	files := map[string][]byte{}
	for _, f := range m.Files {
		if path.Dir(f.Path) != pkg {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil || hashOf(b) != f.SHA256 {
			return nil
		}
		files[path.Base(f.Path)] = b
	}
	if len(files) == 0 {
		return nil
	}
	return &APIFiles{Files: files, Key: key}
}
