package generator

import (
	"bufio"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"
	"gopkg.in/yaml.v3"
)

// Adoption marks a service that svcgen did not generate but adopted: svcgen
// manages only the files matching Manage; every other file is the user's.
type Adoption struct {
	// Spec is the OpenAPI document found in the service when it was adopted
	// ("" when none). The adopted platform packages do not depend on it.
	Spec string `yaml:"spec,omitempty"`
	// Manage are the globs of the files svcgen owns (the platform packages).
	Manage []string `yaml:"manage"`
	// Packages are the platform packages adopt chose for what the service
	// uses (SelectAdoption); regen renders these. Empty in manifests of
	// an older svcgen: then every package of AdoptPackages the preset has.
	Packages []string `yaml:"packages,omitempty"`
	// API is AdoptAPIDir when svcgen serves Spec through ogen there (the
	// ogen package, the team's handler skeleton and the strangler mount),
	// "" when it does not.
	API string `yaml:"api,omitempty"`
	// APIKey identifies ogen's input of that API (spec, options, ogen
	// version): while it is unchanged, regen and check reuse the package.
	APIKey string `yaml:"api_key,omitempty"`
}

// AdoptPackages are the platform packages adopt adds when the preset has
// them: those that build without the service's generated API, config or
// handlers (internal/platform/load, for one, imports them and is left out).
// SelectAdoption narrows them to what fits the service.
var AdoptPackages = []string{"server", "apierr", "timeout", "metrics", "dbpool", "pool", "profiling"}

// AdoptInfo is what adopt detects in an existing service.
type AdoptInfo struct {
	// Module is the module path from go.mod.
	Module string
	// Name is the directory's name made kebab-case.
	Name string
	// Spec is the OpenAPI document found, relative to the service ("" when none).
	Spec string
}

// DetectAdoption reads an existing service in dir: its module path, a
// kebab-case name from the directory and an OpenAPI document if it has one
// (api/openapi.yaml, openapi.yaml, or a *.yaml/*.yml in the root or api/
// whose text has an `openapi:` key).
func DetectAdoption(dir string) (AdoptInfo, error) {
	var info AdoptInfo
	if _, err := os.Stat(filepath.Join(dir, ManifestPath)); err == nil {
		return info, fmt.Errorf("%s already has %s: it is under svcgen; use svcgen regen", dir, ManifestPath)
	}
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if errors.Is(err, fs.ErrNotExist) {
		return info, fmt.Errorf("%s has no go.mod: adopt brings a Go module under svcgen; run it in the service's module root", dir)
	}
	if err != nil {
		return info, err
	}
	info.Module = modfile.ModulePath(data)
	if info.Module == "" {
		return info, fmt.Errorf("%s: no module directive", filepath.Join(dir, "go.mod"))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return info, err
	}
	info.Name = filepath.Base(abs)
	if ValidateName(info.Name) != nil {
		info.Name = kebab(info.Name)
		if len(info.Name) > 63 {
			info.Name = strings.TrimRight(info.Name[:63], "-")
		}
	}
	if err := ValidateName(info.Name); err != nil {
		return info, fmt.Errorf("cannot derive a service name from directory %s: %w", filepath.Base(abs), err)
	}
	info.Spec = findSpec(dir)
	return info, nil
}

func findSpec(dir string) string {
	for _, p := range []string{SpecPath, "api/openapi.yml", "openapi.yaml", "openapi.yml"} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err == nil {
			return p
		}
	}
	for _, sub := range []string{"api", "."} {
		for _, ext := range []string{"*.yaml", "*.yml"} {
			ms, _ := filepath.Glob(filepath.Join(dir, sub, ext))
			sort.Strings(ms)
			for _, m := range ms {
				if isOpenAPI(m) {
					rel, _ := filepath.Rel(dir, m)
					return filepath.ToSlash(rel)
				}
			}
		}
	}
	return ""
}

func isOpenAPI(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "openapi:") {
			return true
		}
	}
	return false
}

// ScanUserFiles lists every file in dir (but .git and .svcgen/) as the
// user's: class scaffold, with its hash. It is the file list of an adopted
// service's first manifest.
func ScanUserFiles(dir string) ([]ManifestFile, error) {
	var out []ManifestFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == ".git" || rel == ".svcgen" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, ManifestFile{Path: rel, Class: Scaffold, SHA256: hashOf(b)})
		return nil
	})
	return out, err
}

// AdoptManifest is the manifest an adoption starts from: the answers, the
// platform packages chosen (SelectAdoption; nil for every one of
// AdoptPackages the preset has), and the user's files (ScanUserFiles) as
// scaffold.
//
// With api, the spec is served through ogen under AdoptAPIDir
// (Adoption.API).
func AdoptManifest(info AdoptInfo, preset string, packages []string, api bool, user []ManifestFile) Manifest {
	// Tracing is no adopted package: the platform packages render without
	// it (the service keeps its own tracing, if any).
	o := Options{Name: info.Name, Module: info.Module, Preset: preset, Features: []string{"-tracing"}}
	o.Defaults()
	m := Manifest{
		Svcgen:  Version,
		Answers: o,
		Adopted: &Adoption{Spec: info.Spec, Packages: packages},
		Files:   user,
	}
	if api && info.Spec != "" {
		m.Adopted.API = AdoptAPIDir
	}
	return m
}

// AdoptResult narrows a full render (Generate with the preset's starter
// spec) to what svcgen manages in an adopted service: the platform packages
// of AdoptPackages the preset has, and a manifest that keeps prev's record
// of the user's files. It also returns the modules the kept packages import
// (the go.mod requirements the user adds with go get).
func AdoptResult(res Result, prev Manifest) (Result, []Module, error) {
	var manage []string
	pkgs := AdoptPackages
	if prev.Adopted != nil && len(prev.Adopted.Packages) > 0 {
		pkgs = prev.Adopted.Packages
	}
	for _, p := range pkgs {
		g := "internal/platform/" + p + "/**"
		for _, f := range res.Files {
			if matchGlob(g, f.Path) {
				manage = append(manage, g)
				break
			}
		}
	}
	apiDir := ""
	if prev.Adopted != nil {
		apiDir = prev.Adopted.API
	}
	if apiDir != "" {
		manage = append(manage, apiDir+"/**")
	}
	var kept []File
	var goMod []byte
	for _, f := range res.Files {
		if f.Path == "go.mod" {
			goMod = f.Content
		}
		for _, g := range manage {
			if matchGlob(g, f.Path) {
				kept = append(kept, f)
				break
			}
		}
	}
	kept, err := dropUnkeptImports(kept, prev.Answers.Module, manage)
	if err != nil {
		return res, nil, err
	}
	m := Manifest{Svcgen: Version, Answers: prev.Answers, Features: res.Features, Adopted: &Adoption{Manage: manage}}
	if prev.Adopted != nil {
		m.Adopted.Spec = prev.Adopted.Spec
		m.Adopted.Packages = prev.Adopted.Packages
		m.Adopted.API = prev.Adopted.API
	}
	if apiDir != "" {
		m.Adopted.APIKey = res.AdoptAPIKey
	}
	managed := map[string]bool{}
	for _, f := range kept {
		managed[f.Path] = true
		m.Files = append(m.Files, ManifestFile{Path: f.Path, Class: f.Class, SHA256: hashOf(f.Content)})
	}
	for _, f := range prev.Files {
		if f.Class == Scaffold && !managed[f.Path] {
			m.Files = append(m.Files, f)
		}
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	data, err := yaml.Marshal(m)
	if err != nil {
		return res, nil, err
	}
	// The modules first: sorting out.Files below must not reorder kept
	// under it (append may share its array).
	mods, err := importedModules(goMod, kept)
	if err != nil {
		return res, nil, err
	}
	out := Result{Features: res.Features, Operations: res.Operations, Warnings: res.Warnings, AdoptAPIKey: res.AdoptAPIKey, AdoptOperations: res.AdoptOperations}
	out.Files = append(slices.Clip(kept), File{Path: ManifestPath, Template: "manifest", Class: Generated, Content: append([]byte(manifestHeader), data...), Mode: 0o644})
	sort.Slice(out.Files, func(i, j int) bool { return out.Files[i].Path < out.Files[j].Path })
	return out, mods, nil
}

// dropUnkeptImports leaves out the test files that import a platform
// package adopt does not add. A non-test file importing one is an error:
// the package would not build.
func dropUnkeptImports(files []File, module string, manage []string) ([]File, error) {
	keptPkg := map[string]bool{}
	for _, g := range manage {
		keptPkg[module+"/"+strings.TrimSuffix(g, "/**")] = true
	}
	prefix := module + "/internal/platform/"
	fset := token.NewFileSet()
	var out []File
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".go") {
			out = append(out, f)
			continue
		}
		af, err := parser.ParseFile(fset, f.Path, f.Content, parser.ImportsOnly)
		if err != nil {
			return nil, err
		}
		missing := ""
		for _, im := range af.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if !strings.HasPrefix(p, prefix) {
				continue
			}
			top := prefix + strings.SplitN(strings.TrimPrefix(p, prefix), "/", 2)[0]
			if !keptPkg[top] {
				missing = p
			}
		}
		switch {
		case missing == "":
			out = append(out, f)
		case !strings.HasSuffix(f.Path, "_test.go"):
			return nil, fmt.Errorf("adopt: %s imports %s, which is not adopted", f.Path, missing)
		}
	}
	return out, nil
}

// importedModules returns the requirements of goMod that files import.
func importedModules(goMod []byte, files []File) ([]Module, error) {
	mf, err := modfile.Parse("go.mod", goMod, nil)
	if err != nil {
		return nil, fmt.Errorf("the rendered go.mod: %w", err)
	}
	imports := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".go") {
			continue
		}
		af, err := parser.ParseFile(fset, f.Path, f.Content, parser.ImportsOnly)
		if err != nil {
			return nil, err
		}
		for _, im := range af.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			imports[p] = true
		}
	}
	var out []Module
	for _, r := range mf.Require {
		for p := range imports {
			if p == r.Mod.Path || strings.HasPrefix(p, r.Mod.Path+"/") {
				out = append(out, Module{Path: r.Mod.Path, Version: r.Mod.Version})
				break
			}
		}
	}
	return out, nil
}

// AdoptCollisions lists the files of res that already exist in dir: adopt
// never overwrites a file of the user's.
func AdoptCollisions(dir string, res Result) []string {
	var out []string
	for _, f := range res.Files {
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f.Path))); err == nil {
			out = append(out, f.Path)
		}
	}
	return out
}

// adoptedSkip reports whether PlanRegen leaves a previously recorded file
// alone: in an adopted service, the user's files are not svcgen's to plan.
func adoptedSkip(m Manifest, f ManifestFile) bool {
	if m.Adopted == nil || f.Class != Scaffold {
		return false
	}
	for _, g := range m.Adopted.Manage {
		if matchGlob(g, f.Path) {
			return false
		}
	}
	return true
}
