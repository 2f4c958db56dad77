package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/svcgen/svcgen/generator"
)

// editBase is a service the spec edits start from: generated, tidied, one
// handler implemented, built.
type editBase struct {
	// name names it in the table.
	name string
	// spec is its spec under testdata/specs ("" for the preset's starter).
	spec, preset string
	// opID is the implemented operation; field a property of its 2xx
	// response schema that the implementation sets; param its path
	// parameter.
	opID, field, param string
	// handler is the handler file the test writes, "" to keep the
	// starter's implementation; impl its source ("MODULE" is replaced by
	// the module path).
	handler, impl string
	// test says the default run also runs the service's fast tests after
	// each edit.
	test bool
}

var editBases = []editBase{
	{
		name: "entity-starter", preset: "read-heavy",
		opID: "getItem", field: "quantity", param: "id",
		test: true,
	},
	{
		name: "matchmaking", spec: "matchmaking.yaml", preset: "hot-path",
		opID: "getPlayer", field: "rating", param: "playerId",
		handler: "internal/handler/get_player.go",
		impl: `package handler

import (
	"context"

	"MODULE/internal/api"
)

// GetPlayer implements GET /players/{playerId}.
func (h *Handler) GetPlayer(ctx context.Context, params api.GetPlayerParams) (api.GetPlayerRes, error) {
	return &api.Player{ID: params.PlayerId, Name: "Ayla", Status: api.PlayerStatusActive, Rating: 1512.5}, nil
}
`,
	},
	{
		name: "guild", spec: "guild-freeform-errors.yaml", preset: "hot-path",
		opID: "getGuild", field: "members", param: "guildId",
		handler: "internal/handler/get_guild.go",
		impl: `package handler

import (
	"context"

	"MODULE/internal/api"
)

// GetGuild implements GET /guilds/{guildId}.
func (h *Handler) GetGuild(ctx context.Context, params api.GetGuildParams) (api.GetGuildRes, error) {
	return &api.Guild{ID: params.GuildId, Name: "Night Watch", Members: 12}, nil
}
`,
	},
}

// specEdit is one change a team makes to its spec, as a transformation of
// the YAML document (so that it applies to any spec).
type specEdit struct {
	name  string
	apply func(s *specDoc, b editBase) error
}

var specEdits = []specEdit{
	{"add op with default", func(s *specDoc, b editBase) error {
		def := s.anyDefault()
		if def == nil {
			def = yamlNode(`{description: Unexpected error, content: {application/json: {schema: {type: object, required: [code, message], properties: {code: {type: integer}, message: {type: string}}}}}}`)
		}
		op := yamlNode(`{operationId: listAuditEntries, summary: The audit log, responses: {"200": {description: The entries., content: {application/json: {schema: {type: array, items: {type: string}}}}}}}`)
		setKey(mapGet(op, "responses"), "default", def)
		setKey(s.paths(), "/audit-entries", yamlNode(`{}`))
		setKey(mapGet(s.paths(), "/audit-entries"), "get", op)
		return nil
	}},
	{"add op without default", func(s *specDoc, b editBase) error {
		setKey(s.paths(), "/stats", yamlNode(`{get: {operationId: getStats, responses: {"200": {description: Counts., content: {application/json: {schema: {type: object, required: [count], properties: {count: {type: integer, format: int64}}}}}}}}}`))
		return nil
	}},
	{"add op with only 204", func(s *specDoc, b editBase) error {
		setKey(s.paths(), "/maintenance/flush", yamlNode(`{post: {operationId: flushCaches, summary: Drop every cached entry, responses: {"204": {description: Flushed.}}}}`))
		return nil
	}},
	{"rename implemented op", func(s *specDoc, b editBase) error {
		_, _, op, err := s.op(b.opID)
		if err != nil {
			return err
		}
		mapGet(op, "operationId").Value = b.opID + "V2"
		return nil
	}},
	{"remove implemented op", func(s *specDoc, b editBase) error {
		route, method, _, err := s.op(b.opID)
		if err != nil {
			return err
		}
		item := mapGet(s.paths(), route)
		delKey(item, method)
		if !slices.ContainsFunc(keys(item), func(k string) bool { return slices.Contains(httpVerbs, k) }) {
			delKey(s.paths(), route)
		}
		return nil
	}},
	{"add field", func(s *specDoc, b editBase) error {
		props, _, err := s.responseProps(b)
		if err != nil {
			return err
		}
		setKey(props, "note", yamlNode(`{type: string, description: A free note.}`))
		return nil
	}},
	{"remove field", func(s *specDoc, b editBase) error {
		props, schema, err := s.responseProps(b)
		if err != nil {
			return err
		}
		delKey(props, b.field)
		if req := mapGet(schema, "required"); req != nil {
			req.Content = slices.DeleteFunc(req.Content, func(n *yaml.Node) bool { return n.Value == b.field })
		}
		return nil
	}},
	{"retype field", func(s *specDoc, b editBase) error {
		props, _, err := s.responseProps(b)
		if err != nil {
			return err
		}
		f := s.resolve(mapGet(props, b.field))
		switch t := mapGet(f, "type"); {
		case t != nil && (t.Value == "integer" || t.Value == "number"):
			setKey(props, b.field, yamlNode(`{type: string}`))
		default:
			setKey(props, b.field, yamlNode(`{type: integer, format: int64}`))
		}
		return nil
	}},
	{"add path parameter", func(s *specDoc, b editBase) error {
		route, method, op, err := s.op(b.opID)
		if err != nil {
			return err
		}
		item := mapGet(s.paths(), route)
		moved := yamlNode(`{}`)
		if ps := mapGet(item, "parameters"); ps != nil {
			setKey(moved, "parameters", ps)
		}
		params := mapGet(op, "parameters")
		if params == nil {
			params = yamlNode(`[]`)
			setKey(op, "parameters", params)
		}
		params.Content = append(params.Content, yamlNode(`{name: revision, in: path, required: true, schema: {type: integer, format: int32}}`))
		setKey(moved, method, op)
		delKey(item, method)
		if !slices.ContainsFunc(keys(item), func(k string) bool { return slices.Contains(httpVerbs, k) }) {
			delKey(s.paths(), route)
		}
		setKey(s.paths(), route+"/revisions/{revision}", moved)
		return nil
	}},
	{"retype path parameter", func(s *specDoc, b editBase) error {
		p, err := s.pathParam(b)
		if err != nil {
			return err
		}
		t := mapGet(s.resolve(mapGet(p, "schema")), "type")
		if t != nil && t.Value == "string" {
			setKey(p, "schema", yamlNode(`{type: integer, format: int64}`))
		} else {
			setKey(p, "schema", yamlNode(`{type: string}`))
		}
		return nil
	}},
	{"add security scheme", func(s *specDoc, b editBase) error {
		comps := mapGet(s.root, "components")
		if comps == nil {
			comps = yamlNode(`{}`)
			setKey(s.root, "components", comps)
		}
		schemes := mapGet(comps, "securitySchemes")
		if schemes == nil {
			schemes = yamlNode(`{}`)
			setKey(comps, "securitySchemes", schemes)
		}
		setKey(schemes, "partnerKey", yamlNode(`{type: apiKey, in: header, name: X-Partner-Key}`))
		_, _, op, err := s.op(b.opID)
		if err != nil {
			return err
		}
		setKey(op, "security", yamlNode(`[{partnerKey: []}]`))
		return nil
	}},
	{"change response code", func(s *specDoc, b editBase) error {
		_, _, op, err := s.op(b.opID)
		if err != nil {
			return err
		}
		rs := mapGet(op, "responses")
		for i := 0; i+1 < len(rs.Content); i += 2 {
			if k := rs.Content[i]; strings.HasPrefix(k.Value, "2") {
				if k.Value == "200" {
					k.Value = "201"
				} else {
					k.Value = "200"
				}
				return nil
			}
		}
		return errors.New("no 2xx response")
	}},
	{"change content type", func(s *specDoc, b editBase) error {
		_, _, op, err := s.op(b.opID)
		if err != nil {
			return err
		}
		resp := s.successResponse(op)
		content := mapGet(resp, "content")
		for i := 0; i+1 < len(content.Content); i += 2 {
			if content.Content[i].Value == "application/json" {
				// The response may be a shared component: the edit makes it
				// the operation's own first.
				own := cloneNode(resp)
				c := mapGet(own, "content")
				c.Content[i].Value = "application/vnd.api+json"
				rs := mapGet(op, "responses")
				for j := 0; j+1 < len(rs.Content); j += 2 {
					if s.resolve(rs.Content[j+1]) == resp {
						rs.Content[j+1] = own
					}
				}
				return nil
			}
		}
		return errors.New("no application/json response")
	}},
}

var httpVerbs = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// specDoc is a spec being edited.
type specDoc struct {
	doc  yaml.Node
	root *yaml.Node
}

func parseSpecDoc(data []byte) (*specDoc, error) {
	s := &specDoc{}
	if err := yaml.Unmarshal(data, &s.doc); err != nil {
		return nil, err
	}
	s.root = s.doc.Content[0]
	return s, nil
}

func (s *specDoc) bytes() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&s.doc); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

func (s *specDoc) paths() *yaml.Node { return mapGet(s.root, "paths") }

// op finds an operation by operationId.
func (s *specDoc) op(id string) (route, method string, op *yaml.Node, err error) {
	ps := s.paths()
	for i := 0; i+1 < len(ps.Content); i += 2 {
		item := ps.Content[i+1]
		for j := 0; j+1 < len(item.Content); j += 2 {
			if v := mapGet(item.Content[j+1], "operationId"); v != nil && v.Value == id {
				return ps.Content[i].Value, item.Content[j].Value, item.Content[j+1], nil
			}
		}
	}
	return "", "", nil, fmt.Errorf("no operation %s", id)
}

// resolve follows a local $ref.
func (s *specDoc) resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
		ref := mapGet(n, "$ref")
		if ref == nil || !strings.HasPrefix(ref.Value, "#/") {
			return n
		}
		n = s.root
		for _, k := range strings.Split(strings.TrimPrefix(ref.Value, "#/"), "/") {
			n = mapGet(n, strings.ReplaceAll(strings.ReplaceAll(k, "~1", "/"), "~0", "~"))
		}
	}
	return n
}

// successResponse is an operation's first 2xx response, resolved.
func (s *specDoc) successResponse(op *yaml.Node) *yaml.Node {
	rs := mapGet(op, "responses")
	for i := 0; i+1 < len(rs.Content); i += 2 {
		if strings.HasPrefix(rs.Content[i].Value, "2") {
			return s.resolve(rs.Content[i+1])
		}
	}
	return nil
}

// responseProps finds the properties (and their schema) of the
// implemented operation's 2xx JSON response that hold b.field, through
// $refs and allOf.
func (s *specDoc) responseProps(b editBase) (props, schema *yaml.Node, err error) {
	_, _, op, err := s.op(b.opID)
	if err != nil {
		return nil, nil, err
	}
	resp := s.successResponse(op)
	sch := s.resolve(mapGet(mapGet(mapGet(resp, "content"), "application/json"), "schema"))
	var find func(n *yaml.Node) (*yaml.Node, *yaml.Node)
	find = func(n *yaml.Node) (*yaml.Node, *yaml.Node) {
		n = s.resolve(n)
		if p := mapGet(n, "properties"); p != nil && mapGet(p, b.field) != nil {
			return p, n
		}
		if all := mapGet(n, "allOf"); all != nil {
			for _, c := range all.Content {
				if p, sch := find(c); p != nil {
					return p, sch
				}
			}
		}
		return nil, nil
	}
	if props, schema = find(sch); props == nil {
		return nil, nil, fmt.Errorf("no property %s in the response of %s", b.field, b.opID)
	}
	return props, schema, nil
}

// pathParam finds the implemented operation's path parameter b.param, on
// the operation or its path item, resolved.
func (s *specDoc) pathParam(b editBase) (*yaml.Node, error) {
	route, _, op, err := s.op(b.opID)
	if err != nil {
		return nil, err
	}
	for _, list := range []*yaml.Node{mapGet(op, "parameters"), mapGet(mapGet(s.paths(), route), "parameters")} {
		if list == nil {
			continue
		}
		for _, p := range list.Content {
			if p = s.resolve(p); mapGet(p, "name") != nil && mapGet(p, "name").Value == b.param {
				return p, nil
			}
		}
	}
	return nil, fmt.Errorf("no path parameter %s on %s", b.param, b.opID)
}

// anyDefault is a copy of some operation's default response, nil when no
// operation has one.
func (s *specDoc) anyDefault() *yaml.Node {
	ps := s.paths()
	for i := 0; i+1 < len(ps.Content); i += 2 {
		item := ps.Content[i+1]
		for j := 0; j+1 < len(item.Content); j += 2 {
			if d := mapGet(mapGet(item.Content[j+1], "responses"), "default"); d != nil {
				return cloneNode(d)
			}
		}
	}
	return nil
}

func yamlNode(src string) *yaml.Node {
	var d yaml.Node
	if err := yaml.Unmarshal([]byte(src), &d); err != nil {
		panic(err)
	}
	n := d.Content[0]
	clearStyle(n)
	return n
}

// clearStyle writes inline snippets in the document's block style.
func clearStyle(n *yaml.Node) {
	n.Style &^= yaml.FlowStyle
	for _, c := range n.Content {
		clearStyle(c)
	}
}

func cloneNode(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = nil
	for _, x := range n.Content {
		c.Content = append(c.Content, cloneNode(x))
	}
	return &c
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func setKey(n *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content[i+1] = v
			return
		}
	}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

func delKey(n *yaml.Node, key string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content = slices.Delete(n.Content, i, i+2)
			return
		}
	}
}

func keys(n *yaml.Node) []string {
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

var (
	svcgenOnce sync.Once
	svcgenBin  string
	svcgenErr  error
)

// svcgenBinary builds the CLI from ./cmd/svcgen once.
func svcgenBinary(t *testing.T) string {
	t.Helper()
	svcgenOnce.Do(func() {
		dir, err := os.MkdirTemp("", "svcgen-bin-")
		if err != nil {
			svcgenErr = err
			return
		}
		svcgenBin = filepath.Join(dir, "svcgen")
		if out, err := exec.Command("go", "build", "-o", svcgenBin, "github.com/svcgen/svcgen/cmd/svcgen").CombinedOutput(); err != nil {
			svcgenErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if svcgenErr != nil {
		t.Fatalf("building svcgen: %v", svcgenErr)
	}
	return svcgenBin
}

// inDir runs a command in dir, with the test services and STORE=memory in
// its environment, and returns its combined output.
func inDir(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DATABASE_URL="+pgURL(), "REDIS_URL="+redisURL(), "GOFLAGS=-mod=mod", "STORE=memory")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// prepareBase generates a base service with the CLI, implements its
// handler and proves it builds.
func prepareBase(t *testing.T, bin string, b editBase) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "svc")
	args := []string{"new", "edit-" + b.name, "--preset", b.preset, "--yes", "--out", dir, "--module", "example.com/edit/" + b.name}
	if b.spec != "" {
		spec, err := filepath.Abs(filepath.Join("..", "..", "testdata", "specs", b.spec))
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--spec", spec)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if out, err := inDir(ctx, t.TempDir(), bin, args...); err != nil {
		t.Fatalf("svcgen %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if b.handler != "" {
		src := strings.ReplaceAll(b.impl, "MODULE", "example.com/edit/"+b.name)
		if err := os.WriteFile(filepath.Join(dir, b.handler), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
		if out, err := inDir(ctx, dir, "go", step...); err != nil {
			t.Fatalf("the base service %s does not pass go %s before any edit: %v\n%s", b.name, step[0], err, out)
		}
	}
	return dir
}

// editRow is one line of the spec-edit table.
type editRow struct {
	base, edit, outcome string
	regenExit           int
	silent              bool
	teamTest            bool
	seconds             float64
}

// Outcomes of an edit.
const (
	outcomeOK       = "ok"              // regen exit 0, builds, vets, tests pass
	outcomeRefused  = "refused, listed" // regen exit 1 naming every file that no longer compiles
	outcomeMissed   = "refused, missed" // regen exit 1 but some broken files unnamed
	outcomeSilent   = "SILENT BREAK"    // regen exit 0 but the tree is broken
	outcomeRegenErr = "regen error"     // regen failed otherwise (conflicts, a bad spec)
	outcomeFlagged  = "flagged, listed" // regen wrote, exit 1 naming the implementations that serve no operation
	outcomeTeamTest = "team test fails" // builds, vets and svcgen's tests pass; the team's own test asserts what the edit changed
)

// TestSpecEdits applies realistic spec edits to services whose team has
// implemented a handler, runs svcgen regen, and checks that regen either
// leaves a tree that builds, vets and passes its tests, or exits 1 naming
// every file that no longer compiles. A regen that exits 0 on a broken
// tree is a silent break; the test fails on any.
//
// The default run builds and vets after every edit and runs the fast tests
// of the starter service; SVCGEN_SPECEDIT_FULL=1 runs the fast tests after
// every edit and `go test ./...` on the starter.
func TestSpecEdits(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates and builds dozens of services")
	}
	full := os.Getenv("SVCGEN_SPECEDIT_FULL") != ""
	bin := svcgenBinary(t)
	start := time.Now()
	var (
		mu   sync.Mutex
		rows []editRow
	)
	sem := make(chan struct{}, 2)
	t.Run("bases", func(t *testing.T) {
		for _, b := range editBases {
			t.Run(b.name, func(t *testing.T) {
				t.Parallel()
				sem <- struct{}{}
				base := prepareBase(t, bin, b)
				<-sem
				for _, e := range specEdits {
					t.Run(strings.ReplaceAll(e.name, " ", "-"), func(t *testing.T) {
						t.Parallel()
						sem <- struct{}{}
						defer func() { <-sem }()
						began := time.Now()
						r := editAndRegen(t, bin, base, b, e, full)
						r.seconds = time.Since(began).Seconds()
						mu.Lock()
						rows = append(rows, r)
						mu.Unlock()
					})
				}
			})
		}
	})
	sort.Slice(rows, func(i, j int) bool {
		return rows[i].base < rows[j].base || rows[i].base == rows[j].base && rows[i].edit < rows[j].edit
	})
	var b strings.Builder
	silent := map[string]int{}
	fmt.Fprintf(&b, "%-16s %-24s %4s %6s  %s\n", "service", "edit", "exit", "s", "outcome")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-16s %-24s %4d %6.1f  %s\n", r.base, r.edit, r.regenExit, r.seconds, r.outcome)
		if r.silent {
			silent[r.base]++
		}
	}
	total, teamTests := 0, 0
	var per []string
	for _, base := range editBases {
		total += silent[base.name]
		per = append(per, fmt.Sprintf("%s %d", base.name, silent[base.name]))
	}
	for _, r := range rows {
		if r.teamTest {
			teamTests++
		}
	}
	t.Logf("spec edits:\n%s", b.String())
	t.Logf("spec edits: %d edits on %d services in %v; silent breaks: %d (%s); team tests failing on behaviour the edit changed: %d", len(rows), len(editBases), time.Since(start).Round(time.Second), total, strings.Join(per, ", "), teamTests)
	if total > 0 {
		t.Errorf("%d silent break(s): svcgen regen exited 0 and left a service that does not build, vet or pass its tests", total)
	}
}

// editAndRegen copies the base service, edits its spec, regenerates it
// with the CLI and judges the result.
func editAndRegen(t *testing.T, bin, base string, b editBase, e specEdit, full bool) editRow {
	r := editRow{base: b.name, edit: e.name}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "svc")
	if out, err := exec.Command("cp", "-a", base, dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	specPath := filepath.Join(dir, "api", "openapi.yaml")
	data, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := parseSpecDoc(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.apply(doc, b); err != nil {
		t.Fatalf("applying %q to %s: %v", e.name, b.name, err)
	}
	edited, err := doc.bytes()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(specPath, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest, _ := os.ReadFile(filepath.Join(dir, generator.ManifestPath))

	out, err := inDir(ctx, dir, bin, "regen")
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.regenExit = ee.ExitCode()
	default:
		t.Fatalf("svcgen regen: %v", err)
	}
	t.Logf("svcgen regen (exit %d):\n%s", r.regenExit, out)

	if r.regenExit != 0 {
		if strings.Contains(out, "merge conflicts") {
			r.outcome = outcomeRegenErr + ": " + firstLine(lastLines(out, 1))
			return r
		}
		// A refused regen leaves the tree as it was: apply the render the
		// way regen would have, to learn what does not compile.
		if now, _ := os.ReadFile(filepath.Join(dir, generator.ManifestPath)); bytes.Equal(now, manifest) {
			if err := applyRegen(ctx, dir); err != nil {
				r.outcome = outcomeRegenErr + ": " + firstLine(out) + " (apply: " + firstLine(err.Error()) + ")"
				return r
			}
		}
	}
	broken, detail := proveEdited(ctx, dir, b.test || full, full && b.test)
	owned := teamFiles(t, dir)
	// The files to change are the team's: a generated file that fails
	// (internal/app/stack.go, where api.NewServer meets the handler) is
	// rewritten by svcgen and changes with them.
	var toChange []string
	for _, f := range broken {
		if owned(f) {
			toChange = append(toChange, f)
		}
	}
	teamTestOnly := strings.HasPrefix(detail, "go test") && len(broken) > 0 && len(toChange) == len(broken)
	switch {
	case len(broken) == 0 && detail == "" && r.regenExit == 0:
		r.outcome = outcomeOK
	case r.regenExit != 0 && len(broken) > 0 && len(toChange) == 0 && !teamTestOnly && regexp.MustCompile(`(?m)^internal/handler/\S+\.go:\d+:\d+: `).MatchString(out):
		// Only generated code fails to compile (the chain in internal/app
		// meets the handler there), so the compiler names none of the
		// team's files: regen names the handlers to change.
		r.outcome = fmt.Sprintf("%s the handlers (the compiler stops at %s)", outcomeRefused, strings.Join(broken, ", "))
	case r.regenExit != 0 && strings.Contains(out, "serve no operation") && (detail == "" || teamTestOnly):
		var named []string
		for _, m := range regexp.MustCompile(`(?m)^(internal/handler/\S+\.go):\d+:\d+: \S+ implements no operation`).FindAllStringSubmatch(out, -1) {
			named = append(named, m[1])
		}
		r.outcome = fmt.Sprintf("%s %d file(s): %s", outcomeFlagged, len(named), strings.Join(named, ", "))
		if len(named) == 0 {
			t.Errorf("%s / %s: regen exited %d without naming the unserved files: %s", b.name, e.name, r.regenExit, out)
		}
	case r.regenExit == 0 && teamTestOnly:
		r.teamTest = true
		r.outcome = fmt.Sprintf("%s: %s (%s)", outcomeTeamTest, strings.Join(broken, ", "), detail)
	case r.regenExit == 0:
		r.silent = true
		r.outcome = outcomeSilent + ": " + detail
		t.Errorf("%s / %s: regen exited 0 but %s", b.name, e.name, detail)
	case len(broken) == 0 && detail == "":
		r.outcome = outcomeRegenErr + " on a tree that compiles: " + firstLine(out)
		t.Errorf("%s / %s: regen exited %d but the tree builds: %s", b.name, e.name, r.regenExit, out)
	default:
		var missed []string
		for _, f := range toChange {
			if !strings.Contains(out, f) {
				missed = append(missed, f)
			}
		}
		if len(missed) == 0 && len(toChange) > 0 {
			r.outcome = fmt.Sprintf("%s %d file(s): %s", outcomeRefused, len(toChange), strings.Join(toChange, ", "))
		} else {
			r.outcome = fmt.Sprintf("%s: %s (%s)", outcomeMissed, strings.Join(missed, ", "), detail)
			t.Errorf("%s / %s: regen exited %d without naming %s", b.name, e.name, r.regenExit, strings.Join(missed, ", "))
		}
	}
	return r
}

// applyRegen renders and applies the regeneration of dir with the engine,
// without the CLI's checks.
func applyRegen(ctx context.Context, dir string) error {
	c, err := generator.LoadCatalog("")
	if err != nil {
		return err
	}
	m, err := generator.ReadManifest(dir)
	if err != nil {
		return err
	}
	req, err := generator.RegenRequest(c, dir, m)
	if err != nil {
		return err
	}
	res, err := generator.Generate(ctx, req)
	if err != nil {
		return err
	}
	p, err := generator.PlanRegen(dir, m, res, generator.RegenOptions{Catalog: c, Overwrite: true})
	if err != nil {
		return err
	}
	return generator.Apply(dir, p)
}

var compilerFileRe = regexp.MustCompile(`(?m)^\s*(?:vet: )?(?:\./)?(\S+\.go):\d+(?::\d+)?: `)

// proveEdited builds and vets dir (and runs its fast tests when test is
// set, all its tests when all is set). It returns the files the compiler
// or vet names, and what failed ("" when nothing did).
func proveEdited(ctx context.Context, dir string, test, all bool) (files []string, detail string) {
	steps := [][]string{{"build", "-gcflags=-e", "./..."}, {"vet", "./..."}}
	switch {
	case all:
		steps = append(steps, []string{"test", "-count=1", "./..."})
	case test:
		steps = append(steps, []string{"test", "-count=1", "./internal/handler/...", "./internal/app/...", "./internal/config/..."})
	}
	for _, step := range steps {
		out, err := inDir(ctx, dir, "go", step...)
		if err == nil {
			continue
		}
		seen := map[string]bool{}
		for _, m := range compilerFileRe.FindAllStringSubmatch(out, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				files = append(files, m[1])
			}
		}
		sort.Strings(files)
		return files, fmt.Sprintf("go %s fails: %s", step[0], compilerLines(out, 2))
	}
	return nil, ""
}

// teamFiles says which files of dir are the team's: scaffold or merged
// in its manifest, or not svcgen's at all.
func teamFiles(t *testing.T, dir string) func(string) bool {
	m, err := generator.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	class := map[string]generator.Class{}
	for _, f := range m.Files {
		class[f.Path] = f.Class
	}
	return func(p string) bool {
		if strings.Contains(p, "/") {
			return class[p] != generator.Generated
		}
		// go test names a file by its base name: any generated file of
		// that name makes it svcgen's.
		for q, c := range class {
			if path.Base(q) == p && c == generator.Generated {
				return false
			}
		}
		return true
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// baseSpec reads a base's spec: its file under testdata/specs, or the
// starter's as the preset generates it.
func baseSpec(t *testing.T, b editBase) []byte {
	t.Helper()
	p := filepath.Join("..", "..", "testdata", "specs", b.spec)
	if b.spec == "" {
		p = filepath.Join("..", "..", "templates", "starters", "entity", "api", "openapi.yaml")
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestSpecEditsApply checks, without building anything, that every edit
// applies to every base spec and leaves a spec svcgen generates from.
func TestSpecEditsApply(t *testing.T) {
	c, err := generator.LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range editBases {
		for _, e := range specEdits {
			t.Run(b.name+"/"+strings.ReplaceAll(e.name, " ", "-"), func(t *testing.T) {
				data := baseSpec(t, b)
				doc, err := parseSpecDoc(data)
				if err != nil {
					t.Fatal(err)
				}
				if err := e.apply(doc, b); err != nil {
					t.Fatal(err)
				}
				edited, err := doc.bytes()
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(edited, data) {
					t.Fatal("the edit changed nothing")
				}
				o := generator.Options{Name: "edit-" + b.name, Module: "example.com/edit", Preset: b.preset, Spec: "openapi.yaml"}
				if _, err := generator.Generate(context.Background(), generator.Request{Catalog: c, Options: o, Spec: edited, FromStarter: b.spec == ""}); err != nil {
					t.Fatalf("svcgen cannot generate from the edited spec: %v\n%s", err, edited)
				}
			})
		}
	}
}
