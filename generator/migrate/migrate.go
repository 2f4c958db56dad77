// Package migrate rewrites a service's chi, gorilla/mux, echo or gin
// routing onto the standard library's http.ServeMux (Go 1.22 patterns:
// "GET /items/{id}", r.PathValue) and drafts api/openapi.yaml from the
// routes it found. It works on type-checked code: Plan reads the module
// and returns the rewritten files, the problems it could not convert and
// the spec, touching no disk; Apply writes a plan, backs up what it
// replaces, type-checks the result and restores every file when it does
// not build.
package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/packages"

	"github.com/svcgen/svcgen/generator"
)

// SpecPath is where Apply writes the drafted spec, relative to the service.
const SpecPath = "api/openapi.yaml"

// Router is a router library migrate converts from.
type Router string

// The routers migrate knows, by import path.
const (
	Chi     Router = "chi"
	Gorilla Router = "gorilla/mux"
	Echo    Router = "echo"
	Gin     Router = "gin"
)

var routerImports = map[string]Router{
	"github.com/go-chi/chi/v5":    Chi,
	"github.com/gorilla/mux":      Gorilla,
	"github.com/labstack/echo/v4": Echo,
	"github.com/gin-gonic/gin":    Gin,
}

// echoMiddleware is echo's middleware package: its imports go with echo's.
const echoMiddleware = "github.com/labstack/echo/v4/middleware"

// Route is one route as ServeMux registers it.
type Route struct {
	// Method is empty for a route of every method.
	Method string `json:"method,omitempty"`
	// Pattern is the ServeMux pattern's path ("/items/{id}", "/{$}").
	Pattern string `json:"pattern"`
	// Handler names the handler function ("Handlers.GetItem").
	Handler string `json:"handler"`
	// At is the route's file:line in the original code.
	At string `json:"at"`

	fn *types.Func
}

// Problem is code migrate leaves alone: where, what, and what to do by hand.
type Problem struct {
	At   string `json:"at"`
	What string `json:"what"`
	Fix  string `json:"fix"`
}

func (p Problem) String() string { return fmt.Sprintf("%s: %s: %s", p.At, p.What, p.Fix) }

// Change is one file the migration writes (Old nil: a new file).
type Change struct {
	Path string
	Old  []byte
	New  []byte
}

// Result is a planned migration.
type Result struct {
	Dir     string
	Module  string
	Routers []Router
	Routes  []Route
	Changes []Change
	// Problems are what could not be converted; a plan with problems is
	// not written.
	Problems []Problem
	// Notes are behaviour differences worth knowing, per converted item.
	Notes []string
	// Spec is the drafted OpenAPI document; SpecExists says a spec is
	// already at SpecPath (then Apply leaves it alone).
	Spec       []byte
	SpecExists bool
	// SpecErr is ogen's verdict on Spec (nil: ogen accepts it).
	SpecErr error
	// RouterModules are the go.mod requirements the migration leaves
	// unused (go mod tidy drops them).
	RouterModules []string
}

// Diff is the unified diff of every change, then of the spec draft.
func (r *Result) Diff() string {
	var b strings.Builder
	for _, c := range r.Changes {
		from, to := "a/"+c.Path, "b/"+c.Path
		if c.Old == nil {
			from = "/dev/null"
		}
		b.WriteString(udiff.Unified(from, to, string(c.Old), string(c.New)))
	}
	if !r.SpecExists && len(r.Spec) > 0 {
		b.WriteString(udiff.Unified("/dev/null", "b/"+SpecPath, "", string(r.Spec)))
	}
	return b.String()
}

// fileState is one Go file of the module and the edits planned for it.
type fileState struct {
	pkg   *packages.Package
	file  *ast.File
	path  string // relative, slash-separated
	abs   string
	src   []byte
	edits []edit
	// helpers are the generated helpers the file's new code calls.
	helpers map[string]bool
}

type edit struct {
	start, end int
	text       string
}

// service is the state of one planning run.
type service struct {
	dir, module string
	fset        *token.FileSet
	pkgs        []*packages.Package
	files       map[*ast.File]*fileState
	decls       map[*types.Func]*ast.FuncDecl
	declFile    map[*ast.FuncDecl]*fileState
	res         *Result
	// converted are the echo/gin handlers rewritten to net/http.
	converted map[*types.Func]bool
	// routeUses are the identifiers of handlers used in converted routes.
	routeUses map[*ast.Ident]bool
	// adapters are local functions wrapping a net/http middleware for
	// echo or gin, dropped once every call is unwrapped.
	adapters map[*types.Func]bool
	// helpers needed per package directory.
	helpers map[string]map[string]bool
	pkgDir  map[string]*packages.Package
}

// Plan loads the module in dir type-checked and plans its migration. It
// writes nothing.
func Plan(ctx context.Context, dir string) (*Result, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory: name the service's module root (the folder with its go.mod)", dir)
	}
	fset := token.NewFileSet()
	cfg := &packages.Config{Context: ctx, Dir: abs, Fset: fset,
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedModule | packages.NeedImports}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", dir, err)
	}
	s := &service{dir: abs, fset: fset, files: map[*ast.File]*fileState{}, decls: map[*types.Func]*ast.FuncDecl{},
		declFile: map[*ast.FuncDecl]*fileState{}, converted: map[*types.Func]bool{}, routeUses: map[*ast.Ident]bool{},
		adapters: map[*types.Func]bool{}, helpers: map[string]map[string]bool{}, pkgDir: map[string]*packages.Package{},
		res: &Result{Dir: dir}}
	var loadErrs []string
	for _, p := range pkgs {
		if p.Module == nil || filepath.Clean(p.Module.Dir) != abs {
			for _, e := range p.Errors {
				loadErrs = append(loadErrs, e.Error())
			}
			continue
		}
		s.module = p.Module.Path
		for _, e := range p.Errors {
			loadErrs = append(loadErrs, e.Error())
		}
		s.pkgs = append(s.pkgs, p)
	}
	if len(loadErrs) > 0 {
		return nil, fmt.Errorf("%s does not type-check, so it cannot be migrated safely; fix these first: %s", dir, strings.Join(loadErrs, "; "))
	}
	if len(s.pkgs) == 0 {
		return nil, fmt.Errorf("%s holds no Go module with packages (no go.mod, or no .go files): run migrate in the service's module root", dir)
	}
	s.res.Module = s.module
	seenRouter := map[Router]bool{}
	for _, p := range s.pkgs {
		if len(p.GoFiles) > 0 {
			s.pkgDir[filepath.Dir(p.GoFiles[0])] = p
		}
		for i, f := range p.Syntax {
			absPath := p.CompiledGoFiles[i]
			src, err := os.ReadFile(absPath)
			if err != nil {
				return nil, err
			}
			rel, _ := filepath.Rel(abs, absPath)
			fs := &fileState{pkg: p, file: f, path: filepath.ToSlash(rel), abs: absPath, src: src, helpers: map[string]bool{}}
			s.files[f] = fs
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok {
					if fn, ok := p.TypesInfo.Defs[fd.Name].(*types.Func); ok {
						s.decls[fn] = fd
						s.declFile[fd] = fs
					}
				}
			}
			for _, im := range f.Imports {
				if r, ok := routerImports[strings.Trim(im.Path.Value, `"`)]; ok {
					seenRouter[r] = true
				}
			}
		}
	}
	if err := s.testsImportRouter(); err != nil {
		return nil, err
	}
	for _, r := range []Router{Chi, Gorilla, Echo, Gin} {
		if seenRouter[r] {
			s.res.Routers = append(s.res.Routers, r)
		}
	}
	if len(s.res.Routers) == 0 {
		return nil, fmt.Errorf("%s imports none of chi v5, gorilla/mux, echo v4 or gin: nothing to migrate", dir)
	}
	for _, fs := range s.sortedFiles() {
		s.routers(fs)
	}
	s.convertHandlers()
	for _, fs := range s.sortedFiles() {
		s.paramAccess(fs)
	}
	s.dropAdapters()
	s.leftovers()
	s.conflicts()
	if err := s.render(); err != nil {
		return nil, err
	}
	s.res.Spec = s.spec()
	if _, err := os.Stat(filepath.Join(abs, filepath.FromSlash(SpecPath))); err == nil {
		s.res.SpecExists = true
	}
	s.res.SpecErr = generator.CheckSpec(SpecPath, s.res.Spec)
	s.res.RouterModules = s.unusedRouterModules()
	sort.SliceStable(s.res.Problems, func(i, j int) bool { return lessAt(s.res.Problems[i].At, s.res.Problems[j].At) })
	s.res.Problems = slices.Compact(s.res.Problems)
	return s.res, nil
}

func lessAt(a, b string) bool {
	fa, la := splitAt(a)
	fb, lb := splitAt(b)
	if fa != fb {
		return fa < fb
	}
	return la < lb
}

func splitAt(at string) (string, int) {
	i := strings.LastIndexByte(at, ':')
	if i < 0 {
		return at, 0
	}
	n := 0
	fmt.Sscanf(at[i+1:], "%d", &n)
	return at[:i], n
}

func (s *service) sortedFiles() []*fileState {
	out := make([]*fileState, 0, len(s.files))
	for _, f := range s.files {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// testsImportRouter refuses a module whose tests use the router: they
// would not survive the migration.
func (s *service) testsImportRouter() error {
	var bad []string
	err := filepath.WalkDir(s.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != s.dir && (strings.HasPrefix(d.Name(), ".") || d.Name() == "vendor" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil && p != s.dir {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return nil
		}
		for _, im := range f.Imports {
			ip := strings.Trim(im.Path.Value, `"`)
			if _, ok := routerImports[ip]; ok || ip == echoMiddleware {
				rel, _ := filepath.Rel(s.dir, p)
				bad = append(bad, fmt.Sprintf("%s imports %s", filepath.ToSlash(rel), ip))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("the tests use the router, so they cannot show the migrated service still works (%s): make them call the service through net/http (httptest.NewServer or ServeHTTP on the handler the service builds) first", strings.Join(bad, "; "))
	}
	return nil
}

func (s *service) at(pos token.Pos) string {
	p := s.fset.Position(pos)
	rel, err := filepath.Rel(s.dir, p.Filename)
	if err != nil {
		rel = p.Filename
	}
	return fmt.Sprintf("%s:%d", filepath.ToSlash(rel), p.Line)
}

func (s *service) problem(pos token.Pos, what, fix string) {
	s.res.Problems = append(s.res.Problems, Problem{At: s.at(pos), What: what, Fix: fix})
}

func (s *service) note(pos token.Pos, format string, args ...any) {
	s.res.Notes = append(s.res.Notes, s.at(pos)+": "+fmt.Sprintf(format, args...))
}

// text is the source of node n.
func (fs *fileState) text(s *service, n ast.Node) string {
	return string(fs.src[s.fset.Position(n.Pos()).Offset:s.fset.Position(n.End()).Offset])
}

func (fs *fileState) replace(s *service, n ast.Node, text string) {
	fs.edits = append(fs.edits, edit{start: s.fset.Position(n.Pos()).Offset, end: s.fset.Position(n.End()).Offset, text: text})
}

// render applies the edits, drops the router imports, adds what the new
// code imports, formats each file and writes the helpers file per package.
func (s *service) render() error {
	for _, fs := range s.sortedFiles() {
		if len(fs.edits) == 0 {
			continue
		}
		// Last first, and at one offset the replacement before the
		// insertion, so each offset still points into the original text.
		sort.SliceStable(fs.edits, func(i, j int) bool {
			if fs.edits[i].start != fs.edits[j].start {
				return fs.edits[i].start > fs.edits[j].start
			}
			return fs.edits[i].end > fs.edits[j].end
		})
		for i := range fs.edits {
			fs.edits[i] = wholeLine(fs.src, fs.edits[i])
		}
		out := bytes.Clone(fs.src)
		last := len(out)
		for _, e := range fs.edits {
			if e.end > last {
				s.problem(fs.file.FileStart+token.Pos(e.start), "two rewrites overlap here (a handler written inline in a route registration, or a router call inside another)",
					"move the inline handler into a named function, then run migrate again")
				continue
			}
			out = append(out[:e.start:e.start], append([]byte(e.text), out[e.end:]...)...)
			last = e.start
		}
		formatted, err := fixImports(fs.path, out)
		if err != nil {
			return fmt.Errorf("%s: the rewritten file does not parse (%v); this is a bug in svcgen migrate, nothing was written", fs.path, err)
		}
		s.res.Changes = append(s.res.Changes, Change{Path: fs.path, Old: fs.src, New: formatted})
		dir := filepath.Dir(fs.abs)
		for h := range fs.helpers {
			if s.helpers[dir] == nil {
				s.helpers[dir] = map[string]bool{}
			}
			s.helpers[dir][h] = true
		}
	}
	dirs := make([]string, 0, len(s.helpers))
	for d := range s.helpers {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		p := s.pkgDir[d]
		for h := range s.helpers[d] {
			if obj := p.Types.Scope().Lookup(h); obj != nil {
				s.res.Problems = append(s.res.Problems, Problem{At: s.at(obj.Pos()), What: "the package already declares " + h + ", the name of a helper the converted code calls",
					Fix: "rename yours, then run migrate again"})
			}
		}
		name := helperFile
		for i := 2; ; i++ {
			if _, err := os.Stat(filepath.Join(d, name)); errors.Is(err, os.ErrNotExist) {
				break
			}
			name = fmt.Sprintf("httpjson%d.go", i)
		}
		src, err := helperSource(p.Name, s.helpers[d])
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.dir, filepath.Join(d, name))
		s.res.Changes = append(s.res.Changes, Change{Path: filepath.ToSlash(rel), New: src})
	}
	return nil
}

// wholeLine widens a deletion that leaves only blanks on its line to the
// whole line, so a removed statement leaves no empty line behind.
func wholeLine(src []byte, e edit) edit {
	if e.text != "" || e.start == e.end {
		return e
	}
	start, end := e.start, e.end
	for start > 0 && (src[start-1] == ' ' || src[start-1] == '\t') {
		start--
	}
	for end < len(src) && (src[end] == ' ' || src[end] == '\t') {
		end++
	}
	if (start == 0 || src[start-1] == '\n') && end < len(src) && src[end] == '\n' {
		return edit{start: start, end: end + 1}
	}
	return e
}

// fixImports removes the router imports the file no longer uses, adds
// net/http, encoding/json and fmt when the new code uses them, and formats.
func fixImports(name string, src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	for _, im := range slices.Clone(f.Imports) {
		ip := strings.Trim(im.Path.Value, `"`)
		_, router := routerImports[ip]
		if !router && ip != echoMiddleware && ip != "strconv" && ip != "encoding/json" {
			continue
		}
		name := importName(ip)
		if im.Name != nil {
			name = im.Name.Name
		}
		if !used[name] {
			astutil.DeleteNamedImport(fset, f, nameOrEmpty(im), ip)
		}
	}
	for ip, name := range map[string]string{"net/http": "http", "encoding/json": "json"} {
		if used[name] {
			astutil.AddImport(fset, f, ip)
		}
	}
	var b bytes.Buffer
	if err := format.Node(&b, fset, f); err != nil {
		return nil, err
	}
	return format.Source(b.Bytes())
}

func nameOrEmpty(im *ast.ImportSpec) string {
	if im.Name == nil {
		return ""
	}
	return im.Name.Name
}

func importName(ip string) string {
	parts := strings.Split(ip, "/")
	last := parts[len(parts)-1]
	if len(parts) > 1 && len(last) > 1 && last[0] == 'v' && strings.Trim(last[1:], "0123456789") == "" {
		last = parts[len(parts)-2]
	}
	return last
}

// unusedRouterModules are the router modules go.mod requires that no
// rewritten file imports any more.
func (s *service) unusedRouterModules() []string {
	gomod, err := os.ReadFile(filepath.Join(s.dir, "go.mod"))
	if err != nil {
		return nil
	}
	var out []string
	for ip := range routerImports {
		if bytes.Contains(gomod, []byte(ip+" ")) {
			out = append(out, ip)
		}
	}
	sort.Strings(out)
	return out
}

// ApplyOptions are what Apply may do besides writing the plan.
type ApplyOptions struct {
	// AllowDirty runs on a git work tree with uncommitted changes.
	AllowDirty bool
	// Tidy runs go mod tidy after writing.
	Tidy bool
	// Command is recorded in the backup index.
	Command string
}

// Applied is what Apply did.
type Applied struct {
	Backup  *generator.Backup
	Written []string
	Tidied  bool
}

// BuildError is a migration whose result did not type-check: every file
// was restored.
type BuildError struct {
	Errs []string
}

func (e *BuildError) Error() string {
	errs := e.Errs
	more := ""
	if len(errs) > 5 {
		more = fmt.Sprintf("; and %d more", len(errs)-5)
		errs = errs[:5]
	}
	return "the migrated code does not type-check, so every file was restored: " + strings.Join(errs, "; ") + more
}

// Apply writes res into its service: it refuses a plan with problems and a
// dirty git tree (unless AllowDirty), backs up every file it replaces
// under .svcgen/backup/, writes the changes and the spec draft, then
// type-checks the module with its tests and restores everything when that
// fails.
func Apply(ctx context.Context, res *Result, opt ApplyOptions) (*Applied, error) {
	if len(res.Problems) > 0 {
		return nil, fmt.Errorf("%d places cannot be converted (listed above): change them by hand or remove them, then run migrate again; nothing was written", len(res.Problems))
	}
	if !opt.AllowDirty {
		dirty, err := generator.GitDirty(res.Dir)
		if err != nil {
			return nil, err
		}
		if len(dirty) > 0 {
			return nil, fmt.Errorf("%s has uncommitted changes (%s): commit or stash them so the migration is one reviewable diff, or pass --allow-dirty", res.Dir, strings.Join(firstN(dirty, 3), ", "))
		}
	}
	if res.SpecErr != nil && !res.SpecExists {
		return nil, fmt.Errorf("the drafted %s is not accepted by ogen (%v): this is a bug in svcgen migrate; nothing was written", SpecPath, res.SpecErr)
	}
	old := map[string][]byte{}
	for _, c := range res.Changes {
		if c.Old != nil {
			old[c.Path] = c.Old
		}
	}
	b, err := generator.SaveBackup(res.Dir, old, generator.ReasonMigrated, opt.Command)
	if err != nil {
		return nil, err
	}
	ap := &Applied{Backup: b}
	var created []string
	restore := func() error {
		var errs []error
		for p, content := range old {
			errs = append(errs, os.WriteFile(filepath.Join(res.Dir, filepath.FromSlash(p)), content, 0o644))
		}
		for _, p := range created {
			errs = append(errs, os.Remove(filepath.Join(res.Dir, filepath.FromSlash(p))))
		}
		return errors.Join(errs...)
	}
	write := func(p string, content []byte, isNew bool) error {
		abs := filepath.Join(res.Dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return err
		}
		if isNew {
			created = append(created, p)
		}
		ap.Written = append(ap.Written, p)
		return os.WriteFile(abs, content, 0o644)
	}
	for _, c := range res.Changes {
		if err := write(c.Path, c.New, c.Old == nil); err != nil {
			return nil, errors.Join(err, restore())
		}
	}
	if !res.SpecExists {
		if err := write(SpecPath, res.Spec, true); err != nil {
			return nil, errors.Join(err, restore())
		}
	}
	if errs := typeCheck(ctx, res.Dir); len(errs) > 0 {
		return nil, errors.Join(&BuildError{Errs: errs}, restore())
	}
	if opt.Tidy {
		cmd := exec.CommandContext(ctx, "go", "mod", "tidy")
		cmd.Dir = res.Dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return ap, fmt.Errorf("go mod tidy in %s: %v: %s (the migration is written; run it again when the module proxy is reachable)", res.Dir, err, bytes.TrimSpace(out))
		}
		ap.Tidied = true
	}
	return ap, nil
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}

// typeCheck loads the module in dir with its tests and returns its errors.
func typeCheck(ctx context.Context, dir string) []string {
	abs, _ := filepath.Abs(dir)
	cfg := &packages.Config{Context: ctx, Dir: abs, Tests: true,
		Mode: packages.NeedName | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo | packages.NeedModule}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range pkgs {
		if p.Module == nil || filepath.Clean(p.Module.Dir) != abs {
			continue
		}
		for _, e := range p.Errors {
			if !seen[e.Error()] {
				seen[e.Error()] = true
				out = append(out, e.Error())
			}
		}
	}
	return out
}
