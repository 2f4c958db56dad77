package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"go/types"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/tools/go/packages"
)

// FindingKind says what kind of breakage a Finding is.
type FindingKind string

// The kinds of findings of a type check.
const (
	// FindTypeError is a plain compile error.
	FindTypeError FindingKind = "type-error"
	// FindSignature is a handler method whose signature no longer matches
	// the api.Handler interface.
	FindSignature FindingKind = "signature"
	// FindDefaultResponse is an operation without the spec's shared default
	// response, which makes ogen drop NewError and change every result type.
	FindDefaultResponse FindingKind = "default-response"
	// FindOrphan is the handler file of an operation gone from the spec.
	FindOrphan FindingKind = "orphan"
	// FindTypeChange is code using a field of internal/api whose type changed.
	FindTypeChange FindingKind = "type-change"
	// FindDuplicate is a declaration of the team's that a generated file now
	// declares too.
	FindDuplicate FindingKind = "duplicate"
)

// Finding is one reason the service would not compile.
type Finding struct {
	Kind FindingKind `json:"kind"`
	// File is slash-separated, relative to the service root.
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
	// Msg says what is wrong (the compiler's words where they are the clearest).
	Msg string `json:"message"`
	// Old and New are the old and new signature or type, when one changed.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Fix says how to mend it.
	Fix string `json:"fix,omitempty"`
	// YAML is spec text to add (for a missing default response).
	YAML string `json:"yaml,omitempty"`
}

// Pos is "file:line:col" (or less when unknown).
func (f Finding) Pos() string {
	switch {
	case f.Line == 0:
		return f.File
	case f.Col == 0:
		return fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	return fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Col)
}

// String is the finding as regen and check print it: the position and
// message on the first line, then old, new, the fix and any YAML indented.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", f.Pos(), indentRest(f.Msg, "    "))
	if f.Old != "" || f.New != "" {
		fmt.Fprintf(&b, "    old: %s\n    new: %s\n", f.Old, f.New)
	}
	if f.Fix != "" {
		fmt.Fprintf(&b, "    fix: %s\n", indentRest(f.Fix, "    "))
	}
	if f.YAML != "" {
		for _, l := range strings.Split(strings.TrimRight(f.YAML, "\n"), "\n") {
			fmt.Fprintf(&b, "    | %s\n", l)
		}
	}
	return b.String()
}

func indentRest(s, indent string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+indent)
}

// FormatFindings writes the findings, one block each.
func FormatFindings(w io.Writer, fs []Finding) {
	for _, f := range fs {
		fmt.Fprint(w, f.String())
	}
}

// BrokenTreeError is a regeneration refused because the service would not
// compile after it.
type BrokenTreeError struct {
	Findings []Finding
}

func (e *BrokenTreeError) Error() string {
	files := map[string]bool{}
	for _, f := range e.Findings {
		files[f.File] = true
	}
	return fmt.Sprintf("the service would not compile after this regen: %d problem(s) in %d file(s), listed above; nothing was written. Fix them (or the spec) and run svcgen regen again", len(e.Findings), len(files))
}

// LoadError is a type check that could not run: the go command could not
// load the service (modules missing from the module cache or go.sum, a
// broken go.mod). It says nothing of whether the service compiles.
type LoadError struct {
	Err error
}

func (e *LoadError) Error() string {
	msg := e.Err.Error()
	fix := "fix the cause, or run `go mod tidy` in the service"
	if strings.Contains(msg, "go.sum") || strings.Contains(msg, "go mod download") || strings.Contains(msg, "no required module") || strings.Contains(msg, "go: updates to go.mod needed") {
		fix = "run `go mod tidy` in the service (type-checking needs its dependencies in the module cache and go.sum)"
	}
	return fmt.Sprintf("could not type-check the service: %s; %s", msg, fix)
}

func (e *LoadError) Unwrap() error { return e.Err }

// TypeCheckReport is the outcome of TypeCheckPlan.
type TypeCheckReport struct {
	// Findings are why the tree would not compile; empty when it does.
	Findings []Finding
	// Rewrites are untouched scaffold files the plan now rewrites with the
	// new render because the old one no longer compiled ("rewrote untouched
	// stub internal/handler/x.go: signature changed").
	Rewrites []string
	// Skipped says why no type check ran ("" when one did).
	Skipped string
	// Took is the time the type check(s) took.
	Took time.Duration
}

// TypeCheckPlan type-checks the service in dir as it would be after
// Apply(dir, p): the plan's new contents are overlaid on the files on disk
// (go/packages' Overlay), removed files are hidden, and every package of
// the module is checked with its tests. ogen does not run again.
//
// Where a file that fails is a scaffold file the team never edited (its
// hash is still the manifest's) and the new render differs, the plan is
// changed to rewrite it, and the tree is checked again; a handler stub of
// an operation gone from the spec is removed on the same terms.
//
// A load failure (not a type error) is returned as a *LoadError.
func TypeCheckPlan(ctx context.Context, dir string, p *Plan) (*TypeCheckReport, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	rep := &TypeCheckReport{}
	defer func() { rep.Took = time.Since(start) }()
	if conflicts := p.Paths(Conflict); len(conflicts) > 0 {
		rep.Skipped = "merge conflicts in " + strings.Join(conflicts, ", ") + " are to be resolved first"
		return rep, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(abs, "go.mod")); err != nil {
		rep.Skipped = "the service has no go.mod"
		return rep, nil
	}
	hashes := map[string]string{}
	for _, f := range m.Files {
		hashes[f.Path] = f.SHA256
	}
	res, err := typeCheck(ctx, abs, m.Answers.Module, p)
	if err != nil {
		return nil, err
	}
	// Untouched scaffold files that fail: take the new render.
	redo := false
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Class != Scaffold || c.Old == nil || !res.failing[c.Path] || hashes[c.Path] == "" || hashOf(c.Old) != hashes[c.Path] {
			continue
		}
		switch {
		case c.Action == Keep && c.render != nil && !bytes.Equal(c.render, c.Old):
			c.Action, c.New = Update, c.render
			c.Note = "rewrote untouched stub: " + res.why(c.Path)
			rep.Rewrites = append(rep.Rewrites, fmt.Sprintf("rewrote untouched stub %s: %s", c.Path, res.why(c.Path)))
			redo = true
		case c.Action == Orphan && strings.HasPrefix(c.Path, "internal/handler/") && isStubFile(c.Old):
			c.Action = Remove
			c.Note = "removed untouched stub: its operation is gone from the spec"
			rep.Rewrites = append(rep.Rewrites, fmt.Sprintf("removed untouched stub %s: its operation is gone from the spec", c.Path))
			redo = true
		}
	}
	if redo {
		if err := p.recordWritten(abs); err != nil {
			return nil, err
		}
		if res, err = typeCheck(ctx, abs, m.Answers.Module, p); err != nil {
			return nil, err
		}
	}
	rep.Findings = res.findings
	return rep, nil
}

// TypeCheckDir type-checks the service in dir as it is on disk.
func TypeCheckDir(ctx context.Context, dir string) (*TypeCheckReport, error) {
	return TypeCheckPlan(ctx, dir, &Plan{})
}

// checked is one type check's outcome.
type checked struct {
	findings []Finding
	// failing are the files (relative) with at least one finding, with the
	// kind of their first one.
	failing map[string]bool
	kinds   map[string]FindingKind
}

func (c *checked) why(file string) string {
	switch c.kinds[file] {
	case FindSignature, FindDefaultResponse:
		return "signature changed"
	case FindTypeChange:
		return "a type it uses changed"
	case FindDuplicate:
		return "a generated file now declares what it declared"
	case FindOrphan:
		return "its operation is gone from the spec"
	}
	return "it no longer compiled"
}

// stagedFiles returns the plan's overlay: new contents of the files it
// writes, and removed Go files hidden behind a build constraint (an
// overlay cannot delete a file). Keys are absolute.
func stagedFiles(dir string, p *Plan) map[string][]byte {
	ov := map[string][]byte{}
	for _, c := range p.Changes {
		abs := filepath.Join(dir, filepath.FromSlash(c.Path))
		switch {
		case c.Action == Remove && strings.HasSuffix(c.Path, ".go"):
			ov[abs] = []byte("//go:build ignore\n\npackage removed\n")
		case c.writes() && c.Action != Remove && c.New != nil:
			ov[abs] = c.New
		}
	}
	return ov
}

// stagedContent is what path holds after the plan: its new content, nil
// when removed, else the file on disk.
func stagedContent(dir string, p *Plan, rel string) []byte {
	for _, c := range p.Changes {
		if c.Path != rel {
			continue
		}
		switch {
		case c.Action == Remove:
			return nil
		case c.writes() && c.New != nil:
			return c.New
		}
		return c.Old
	}
	b, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	return b
}

var posRe = regexp.MustCompile(`^(.*?):(\d+)(?::(\d+))?$`)

// typeCheck loads every package of the module in dir with the plan
// overlaid, and turns the errors into findings.
func typeCheck(ctx context.Context, dir, module string, p *Plan) (*checked, error) {
	pkgs, err := loadTree(ctx, dir, stagedFiles(dir, p))
	if err != nil {
		return nil, &LoadError{Err: err}
	}
	d := &diagnosis{dir: dir, module: module, plan: p, seen: map[string]bool{}}
	d.loadAPIs()
	var loadErrs []string
	packages.Visit(pkgs, nil, func(pkg *packages.Package) {
		own := pkg.Module != nil && pkg.Module.Main || strings.HasPrefix(pkg.PkgPath, module+"/") || pkg.PkgPath == module
		for _, e := range pkg.Errors {
			if e.Kind == packages.ListError && !ownListError(e, module) {
				loadErrs = append(loadErrs, e.Msg)
				continue
			}
			if !own && e.Kind != packages.ListError {
				continue // reported where it matters: in the service's own package
			}
			d.add(pkg, e)
		}
	})
	if len(loadErrs) > 0 {
		sort.Strings(loadErrs)
		return nil, &LoadError{Err: errors.New(dedupe(loadErrs)[0])}
	}
	for _, pkg := range pkgs {
		d.checkHandler(pkg)
	}
	return d.finish(), nil
}

// ownListError reports whether a go list error is about the service's own
// code (a package of the module gone, an import cycle), as opposed to its
// dependencies or go.mod, which a type check cannot judge.
func ownListError(e packages.Error, module string) bool {
	msg := e.Msg
	for _, s := range []string{"go.sum", "go.mod", "go mod ", "module cache", "no required module", "GOPROXY", "downloading", "reading http"} {
		if strings.Contains(msg, s) {
			return strings.Contains(msg, "package "+module+"/") && !strings.Contains(msg, "go.sum")
		}
	}
	return true
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// apiShape is what the diagnosis reads of one version of internal/api.
type apiShape struct {
	// methods are the Handler interface's methods by name.
	methods map[string]Operation
	// newError: the Handler has NewError (ogen's convenient errors).
	newError bool
	// fields are "Type.Field" -> Go type, of every struct type.
	fields map[string]string
	// types are the names of all declared types.
	types map[string]bool
}

func readAPIShape(files map[string][]byte) *apiShape {
	s := &apiShape{methods: map[string]Operation{}, fields: map[string]string{}, types: map[string]bool{}}
	if server := files["oas_server_gen.go"]; server != nil {
		ops, _ := interfaceMethods("oas_server_gen.go", server, func(n string) bool { return strings.HasSuffix(n, "Handler") })
		for _, op := range ops {
			if op.Name == "NewError" {
				s.newError = true
			}
			s.methods[op.Name] = op
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	fset := token.NewFileSet()
	for _, n := range names {
		f, err := parser.ParseFile(fset, n, files[n], 0)
		if err != nil {
			continue
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, spec := range g.Specs {
				ts := spec.(*ast.TypeSpec)
				s.types[ts.Name.Name] = true
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, fl := range st.Fields.List {
					var b bytes.Buffer
					_ = printer.Fprint(&b, fset, qualifyExpr(fl.Type))
					for _, name := range fl.Names {
						s.fields[ts.Name.Name+"."+name.Name] = b.String()
					}
				}
			}
		}
	}
	return s
}

// signature is "Name(params) results" of an operation.
func (o Operation) signature() string {
	s := o.Name + "(" + o.Params + ")"
	if o.Results != "" {
		s += " " + o.Results
	}
	return s
}

// diagnosis turns the errors of one load into findings.
type diagnosis struct {
	dir, module string
	plan        *Plan
	old, new    *apiShape
	// changed are the struct fields of internal/api whose type changed.
	changed  map[string][2]string
	findings []Finding
	seen     map[string]bool
	// errs are the plain errors per file, before they are classified.
	errs []rawErr
	// sigs are handler methods found with a signature that does not match.
	sigs map[string]bool
}

type rawErr struct {
	file      string
	line, col int
	msg       string
	pkg       *packages.Package
}

func (d *diagnosis) loadAPIs() {
	oldFiles, newFiles := map[string][]byte{}, map[string][]byte{}
	entries, _ := os.ReadDir(filepath.Join(d.dir, filepath.FromSlash(apiDir)))
	names := map[string]bool{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".go") {
			names[e.Name()] = true
		}
	}
	for _, c := range d.plan.Changes {
		if path.Dir(c.Path) == apiDir && strings.HasSuffix(c.Path, ".go") {
			names[path.Base(c.Path)] = true
		}
	}
	for n := range names {
		rel := path.Join(apiDir, n)
		if b, err := os.ReadFile(filepath.Join(d.dir, filepath.FromSlash(rel))); err == nil {
			oldFiles[n] = b
		}
		if b := stagedContent(d.dir, d.plan, rel); b != nil {
			newFiles[n] = b
		}
	}
	d.old, d.new = readAPIShape(oldFiles), readAPIShape(newFiles)
	d.changed = map[string][2]string{}
	for k, o := range d.old.fields {
		if n, ok := d.new.fields[k]; ok && n != o {
			d.changed[k] = [2]string{o, n}
		}
	}
}

func (d *diagnosis) rel(file string) string {
	r, err := filepath.Rel(d.dir, file)
	if err != nil || strings.HasPrefix(r, "..") {
		return file
	}
	return filepath.ToSlash(r)
}

func (d *diagnosis) add(pkg *packages.Package, e packages.Error) {
	key := e.Pos + "\x00" + e.Msg
	if d.seen[key] {
		return // the same file in the package and its test variant
	}
	d.seen[key] = true
	r := rawErr{msg: e.Msg, pkg: pkg}
	if m := posRe.FindStringSubmatch(e.Pos); m != nil {
		r.file = d.rel(m[1])
		r.line, _ = strconv.Atoi(m[2])
		r.col, _ = strconv.Atoi(m[3])
	} else {
		r.file = d.rel(e.Pos)
		if r.file == "" || r.file == "-" {
			r.file = strings.TrimPrefix(pkg.PkgPath, d.module+"/")
		}
	}
	d.errs = append(d.errs, r)
}

// checkHandler compares the methods the team declared on the handler
// package's Handler with the new api.Handler interface: each whose
// signature differs is a finding at its declaration, with both signatures.
func (d *diagnosis) checkHandler(pkg *packages.Package) {
	if pkg.PkgPath != d.module+"/internal/handler" || pkg.Types == nil || strings.HasSuffix(pkg.ID, ".test]") || strings.Contains(pkg.ID, " [") {
		return
	}
	var iface *types.Interface
	for _, imp := range pkg.Imports {
		if imp.PkgPath == d.module+"/"+apiDir && imp.Types != nil {
			if obj, ok := imp.Types.Scope().Lookup("Handler").(*types.TypeName); ok {
				iface, _ = obj.Type().Underlying().(*types.Interface)
			}
		}
	}
	obj, ok := pkg.Types.Scope().Lookup("Handler").(*types.TypeName)
	if iface == nil || !ok {
		return
	}
	if d.sigs == nil {
		d.sigs = map[string]bool{}
	}
	ms := types.NewMethodSet(types.NewPointer(obj.Type()))
	for i := 0; i < iface.NumMethods(); i++ {
		want := iface.Method(i)
		sel := ms.Lookup(pkg.Types, want.Name())
		if sel == nil {
			continue
		}
		have, ok := sel.Obj().(*types.Func)
		if !ok || have.Pkg() != pkg.Types || types.Identical(have.Type(), want.Type()) {
			continue
		}
		pos := pkg.Fset.Position(have.Pos())
		f := Finding{
			Kind: FindSignature, File: d.rel(pos.Filename), Line: pos.Line, Col: pos.Column,
			Msg: fmt.Sprintf("method %s no longer matches api.Handler: the spec changed its signature", want.Name()),
			Old: d.old.methods[want.Name()].signature(),
			New: d.new.methods[want.Name()].signature(),
			Fix: "change the method to the new signature and adapt its body",
		}
		if d.old.methods[want.Name()].Name == "" {
			f.Old = have.Name() + strings.TrimPrefix(types.TypeString(have.Type(), qualifier(pkg)), "func")
		}
		d.sigs[want.Name()] = true
		d.findings = append(d.findings, f)
	}
}

func qualifier(pkg *packages.Package) types.Qualifier {
	return func(p *types.Package) string {
		if p == pkg.Types {
			return ""
		}
		return p.Name()
	}
}

var (
	notImplRe  = regexp.MustCompile(`does not implement [\w.]*Handler`)
	dupMethod  = regexp.MustCompile(`^method (\w+)\.(\w+) already declared at (.+?):(\d+):\d+$`)
	redeclared = regexp.MustCompile(`^(\w+) redeclared in this block`)
	otherDecl  = regexp.MustCompile(`other declaration of (\w+)`)
)

// finish classifies the plain errors and returns the findings, sorted by
// file and line.
func (d *diagnosis) finish() *checked {
	out := &checked{failing: map[string]bool{}, kinds: map[string]FindingKind{}}
	// The convenient-errors flip explains every signature change at once.
	flip := d.old.newError && !d.new.newError && len(d.new.methods) > 0
	if flip {
		d.findings = append(d.findings, d.defaultResponseFindings()...)
		for i := range d.findings {
			if d.findings[i].Kind == FindSignature {
				d.findings[i].Fix = "add the default response above to the operations that lack it: this signature then stays as it is"
			}
		}
	}
	orphans := map[string]Change{}
	for _, c := range d.plan.Changes {
		if c.Action == Orphan && strings.HasSuffix(c.Path, ".go") {
			orphans[c.Path] = c
		}
	}
	orphanErrs := map[string][]rawErr{}
	for _, r := range d.errs {
		msg := r.msg
		switch {
		case len(d.sigs) > 0 && notImplRe.MatchString(msg):
			continue // said by the signature findings, at the methods
		case otherDecl.MatchString(msg):
			continue // the second half of a redeclaration
		}
		if _, ok := orphans[r.file]; ok {
			orphanErrs[r.file] = append(orphanErrs[r.file], r)
			continue
		}
		if f, ok := d.duplicate(r); ok {
			d.findings = append(d.findings, f)
			continue
		}
		f := Finding{Kind: FindTypeError, File: r.file, Line: r.line, Col: r.col, Msg: msg}
		if ch := d.changesAt(r); len(ch) > 0 {
			f.Kind = FindTypeChange
			f.Msg = strings.Join(ch, "; ") + ": " + msg
			f.Fix = "the spec changed the type of what this line uses: adapt the code to the new type (or change the spec back)"
		} else if notImplRe.MatchString(msg) {
			f.Fix = "give internal/handler's Handler the methods of the new api.Handler (see the operations in oas_server_gen.go)"
		}
		d.findings = append(d.findings, f)
	}
	for file, errs := range orphanErrs {
		d.findings = append(d.findings, d.orphanFinding(file, errs))
	}
	sort.SliceStable(d.findings, func(i, j int) bool {
		a, b := d.findings[i], d.findings[j]
		if (a.Kind == FindDefaultResponse) != (b.Kind == FindDefaultResponse) {
			return a.Kind == FindDefaultResponse
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	for _, f := range d.findings {
		if !out.failing[f.File] {
			out.failing[f.File] = true
			out.kinds[f.File] = f.Kind
		}
	}
	out.findings = d.findings
	return out
}

// changesAt names the changed api fields that the code at r's line selects.
func (d *diagnosis) changesAt(r rawErr) []string {
	if len(d.changed) == 0 || r.pkg == nil || r.pkg.TypesInfo == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range r.pkg.Syntax {
		if d.rel(r.pkg.Fset.Position(f.Pos()).Filename) != r.file {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			se, ok := n.(*ast.SelectorExpr)
			if !ok || r.pkg.Fset.Position(se.Sel.Pos()).Line != r.line {
				return true
			}
			sel := r.pkg.TypesInfo.Selections[se]
			if sel == nil || sel.Kind() != types.FieldVal {
				return true
			}
			recv := sel.Recv()
			if p, ok := recv.(*types.Pointer); ok {
				recv = p.Elem()
			}
			named, ok := recv.(*types.Named)
			if !ok || named.Obj().Pkg() == nil || named.Obj().Pkg().Path() != d.module+"/"+apiDir {
				return true
			}
			key := named.Obj().Name() + "." + se.Sel.Name
			if ch, ok := d.changed[key]; ok && !seen[key] {
				seen[key] = true
				out = append(out, fmt.Sprintf("api.%s: %s -> %s", key, ch[0], ch[1]))
			}
			return true
		})
	}
	sort.Strings(out)
	return out
}

// duplicate recognises a declaration of the team's that a generated file
// now declares as well.
func (d *diagnosis) duplicate(r rawErr) (Finding, bool) {
	m := dupMethod.FindStringSubmatch(r.msg)
	if m == nil {
		return Finding{}, false
	}
	other := d.rel(m[3])
	otherLine, _ := strconv.Atoi(m[4])
	team, teamLine, gen := r.file, r.line, other
	if d.classOf(r.file) == Generated && d.classOf(other) != Generated {
		team, teamLine, gen = other, otherLine, r.file
	}
	if d.classOf(gen) != Generated {
		return Finding{}, false
	}
	f := Finding{
		Kind: FindDuplicate, File: team, Line: teamLine,
		Msg: fmt.Sprintf("method %s.%s is declared here and in the generated %s", m[1], m[2], gen),
		Fix: fmt.Sprintf("delete the %s method from %s: the generated %s declares it now", m[2], team, gen),
	}
	if m[2] == "NewError" {
		f.Fix += "; move its domain-error mapping (the errors.Is checks that pick a status) into a method `ErrorStatus(err error) int` on " + m[1] + ", which the generated NewError calls"
	}
	return f, true
}

// classOf is the class of a file after the plan ("" for files svcgen
// does not know).
func (d *diagnosis) classOf(rel string) Class {
	for _, c := range d.plan.Changes {
		if c.Path == rel {
			return c.Class
		}
	}
	return ""
}

// orphanFinding explains the errors of a file the plan keeps as an
// orphan: the handler file of an operation gone from the spec, or an edited
// file of a feature turned off.
func (d *diagnosis) orphanFinding(file string, errs []rawErr) Finding {
	sort.Slice(errs, func(i, j int) bool { return errs[i].line < errs[j].line })
	first := errs[0]
	more := ""
	if len(errs) > 1 {
		more = fmt.Sprintf(" (and %d more error(s))", len(errs)-1)
	}
	if !strings.HasPrefix(file, "internal/handler/") {
		feature := ""
		for _, c := range d.plan.Changes {
			if c.Path == file {
				feature = c.Feature
			}
		}
		what, fix := "svcgen no longer produces this file", "move what you still need of it elsewhere and delete "+file
		if feature != "" {
			what = "feature " + feature + " is off, so svcgen no longer produces this file"
			fix = "keep the feature: add --features +" + feature + " to this regen; or " + fix
		}
		return Finding{Kind: FindOrphan, File: file, Line: first.line, Col: first.col,
			Msg: fmt.Sprintf("%s; it is kept because you edited it, and it no longer compiles: %s%s", what, first.msg, more), Fix: fix}
	}
	base := strings.TrimSuffix(path.Base(file), ".go")
	what := "its operation"
	for _, op := range d.old.methods {
		if op.File == base {
			what = "operation " + opLabel(op)
		}
	}
	msg := fmt.Sprintf("%s is no longer in the spec, and this file no longer compiles: %s%s", what, first.msg, more)
	f := Finding{Kind: FindOrphan, File: file, Line: first.line, Col: first.col, Msg: msg}
	// Operations new in this render are candidates for a rename.
	var added []Operation
	for name, op := range d.new.methods {
		if _, ok := d.old.methods[name]; !ok && name != "NewError" {
			added = append(added, op)
		}
	}
	sort.Slice(added, func(i, j int) bool { return added[i].Name < added[j].Name })
	fix := "delete " + file + " (move any code you still need elsewhere first)"
	if len(added) > 0 {
		var alts []string
		for _, op := range added {
			alts = append(alts, fmt.Sprintf("if it was renamed to %s: move its code into internal/handler/%s.go, the stub this regen adds for it (or `git mv %s internal/handler/%s.go` and rename the method to `%s`)",
				opLabel(op), op.File, file, op.File, op.signature()))
		}
		fix += "; or, " + strings.Join(alts, "; or, ")
	}
	f.Fix = fix
	return f
}

func opLabel(op Operation) string {
	id := op.OperationID
	if id == "" {
		id = op.Name
	}
	if op.Method != "" {
		return fmt.Sprintf("%s (%s %s)", id, op.Method, op.Path)
	}
	return id
}

// Scaffolds is the plan's scaffold files that it keeps or leaves
// orphaned, alone: after Apply and go mod tidy (when the new requirements
// kept TypeCheckPlan from loading the tree before), TypeCheckPlan on it
// checks the tree on disk and rewrites the untouched ones that fail, and
// Apply of it writes those rewrites and the manifest.
func (p *Plan) Scaffolds() *Plan {
	q := &Plan{Manifest: p.Manifest, prev: p.prev}
	for _, c := range p.Changes {
		if c.Class == Scaffold && (c.Action == Keep || c.Action == Orphan) {
			q.Changes = append(q.Changes, c)
		}
	}
	return q
}
