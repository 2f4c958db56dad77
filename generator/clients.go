package generator

import (
	"context"
	"errors"
	"fmt"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/ogen-go/ogen"
	"github.com/ogen-go/ogen/gen"
	"github.com/ogen-go/ogen/location"
)

// ClientsDir holds one typed client package per dependency of the service.
const ClientsDir = "internal/clients"

// ClientsFeature is the feature that brings the outbound platform package;
// a service with clients has it on.
const ClientsFeature = "clients"

// IdempotentExtension marks a POST or PATCH operation of a dependency's spec
// as safe to retry (`x-svcgen-idempotent: true`), e.g. one that takes an
// idempotency key. GET, HEAD, PUT, DELETE and OPTIONS are idempotent by
// their method.
const IdempotentExtension = "x-svcgen-idempotent"

// Client is one dependency of the service: another service whose API the
// service calls through a generated, typed client.
type Client struct {
	// Name is the client's Go package name under internal/clients and the
	// middle of its environment variables (CLIENT_<NAME>_URL): lower-case
	// letters and digits, starting with a letter.
	Name string `yaml:"name" json:"name"`
	// Spec is the dependency's OpenAPI document, or the directory of a
	// generated service (its api/openapi.yaml), relative to the service.
	Spec string `yaml:"spec" json:"spec"`
}

// ClientData is what the templates know of one dependency.
type ClientData struct {
	// Name is the package name ("inventory").
	Name string
	// Env is the environment variables' middle ("INVENTORY").
	Env string
	// Field is the Go field name in clients.Set and clients.Config ("Inventory").
	Field string
	// Spec is the recorded spec path, relative to the service.
	Spec string
	// URL is the default of CLIENT_<NAME>_URL: the dependency's service
	// name and port when Spec is a generated service's directory, else
	// http://<name>:8080.
	URL string
	// Ops are the dependency's operations, in path and method order.
	Ops []ClientOp
	// Security are the methods of ogen's SecuritySource when the spec
	// has security schemes: the team supplies the credentials.
	Security []ClientSecurity
}

// ClientSecurity is one method of a client's SecuritySource.
type ClientSecurity struct {
	// Name is the method ("BearerAuth"); Params and Results its lists in
	// the client's package ("ctx context.Context, operationName OperationName",
	// "(BearerAuth, error)"); Args the names of its parameters
	// ("ctx, operationName"); Value the type of its credentials.
	Name, Params, Args, Results, Value string
}

var apiQualifier = regexp.MustCompile(`\bapi\.`)

// unqualify undoes interfaceMethods' api. qualifier: a client's types are
// in its own package.
func unqualify(s string) string { return apiQualifier.ReplaceAllString(s, "") }

// ClientOp is one operation of a dependency.
type ClientOp struct {
	// ID is the metrics label: the operationId, or "METHOD /path".
	ID string
	// Method is upper case; Path the spec's template ("/items/{id}").
	Method, Path string
	// Idempotent operations are retried on a connection error, 502, 503
	// and 504.
	Idempotent bool
}

var clientNameRe = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

// reservedClientNames are the identifiers the generated clients package
// and its importers already use.
var reservedClientNames = []string{"api", "app", "clients", "config", "context", "errors", "fmt", "handler", "http", "outbound", "prometheus", "store", "time", "url"}

// ValidateClientName checks a client's name: a Go package name that
// clashes with nothing the generated code imports.
func ValidateClientName(name string) error {
	switch {
	case name == "":
		return errors.New("client name is empty: use name=path, e.g. inventory=../inventory")
	case !clientNameRe.MatchString(name):
		fixed := strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
				return r
			case r >= 'A' && r <= 'Z':
				return r - 'A' + 'a'
			}
			return -1
		}, name)
		fixed = strings.TrimLeft(fixed, "0123456789")
		hint := ""
		if fixed != "" {
			hint = fmt.Sprintf(", e.g. %q", fixed)
		}
		return fmt.Errorf("client name %q is not a Go package name: use lower-case letters and digits, starting with a letter%s", name, hint)
	case token.IsKeyword(name) || slices.Contains(reservedClientNames, name):
		return fmt.Errorf("client name %q clashes with a name the generated code uses; pick another, e.g. %q", name, name+"svc")
	}
	return nil
}

// ValidateClients checks the clients' names: valid and distinct.
func ValidateClients(cs []Client) error {
	seen := map[string]bool{}
	for _, c := range cs {
		if err := ValidateClientName(c.Name); err != nil {
			return err
		}
		if seen[c.Name] {
			return fmt.Errorf("client %q is listed twice: give each dependency its own name", c.Name)
		}
		seen[c.Name] = true
		if strings.TrimSpace(c.Spec) == "" {
			return fmt.Errorf("client %q has no spec: give the dependency's OpenAPI document or its service directory", c.Name)
		}
	}
	return nil
}

// ParseClientFlag reads a --client value, NAME=PATH, where PATH is
// relative to the current directory; the returned Client's Spec is
// relative to serviceDir, as the manifest records it.
func ParseClientFlag(value, serviceDir string) (Client, error) {
	name, p, ok := strings.Cut(value, "=")
	if !ok {
		return Client{}, fmt.Errorf("--client %q: want NAME=PATH, e.g. --client inventory=../inventory-svc (a service directory) or inventory=specs/inventory.yaml", value)
	}
	c := Client{Name: strings.TrimSpace(name), Spec: strings.TrimSpace(p)}
	if err := ValidateClientName(c.Name); err != nil {
		return c, fmt.Errorf("--client %q: %w", value, err)
	}
	if _, err := clientSpecFile(c.Spec); err != nil {
		return c, fmt.Errorf("--client %s: %w", value, err)
	}
	abs, err := filepath.Abs(c.Spec)
	if err != nil {
		return c, err
	}
	base, err := filepath.Abs(serviceDir)
	if err != nil {
		return c, err
	}
	rel, err := filepath.Rel(base, abs)
	if err != nil {
		rel = abs
	}
	c.Spec = filepath.ToSlash(rel)
	return c, nil
}

// MergeClients adds or replaces (by name) clients in the recorded list.
func MergeClients(recorded, given []Client) []Client {
	out := slices.Clone(recorded)
	for _, g := range given {
		i := slices.IndexFunc(out, func(c Client) bool { return c.Name == g.Name })
		if i >= 0 {
			out[i] = g
		} else {
			out = append(out, g)
		}
	}
	return out
}

// clientSpecFile resolves a dependency's spec path: a file, or a service
// directory's api/openapi.yaml.
func clientSpecFile(p string) (string, error) {
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s does not exist: give the dependency's OpenAPI document or the directory of a generated service", p)
	}
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return p, nil
	}
	f := filepath.Join(p, filepath.FromSlash(SpecPath))
	if _, err := os.Stat(f); err != nil {
		return "", fmt.Errorf("%s is a directory without %s: give a generated service's directory or the dependency's OpenAPI document", p, SpecPath)
	}
	return f, nil
}

// ClientSpec is a dependency's OpenAPI document as read from disk.
type ClientSpec struct {
	// File names it in errors.
	File string
	// Data is its content.
	Data []byte
	// URL is the dependency's default base URL (see ClientData.URL).
	URL string
}

// ReadClientSpecs reads the clients' specs; their paths are relative to
// the service directory dir.
func ReadClientSpecs(dir string, cs []Client) (map[string]ClientSpec, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	if err := ValidateClients(cs); err != nil {
		return nil, fmt.Errorf("%s: clients: %w", filepath.Join(dir, ManifestPath), err)
	}
	out := map[string]ClientSpec{}
	for _, c := range cs {
		p := filepath.FromSlash(c.Spec)
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		f, err := clientSpecFile(p)
		if err != nil {
			return nil, fmt.Errorf("client %s (spec %s, relative to the service): %w", c.Name, c.Spec, err)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("client %s: %w", c.Name, err)
		}
		cs := ClientSpec{File: f, Data: data, URL: fmt.Sprintf("http://%s:%d", c.Name, DefaultHTTPPort)}
		if f != p { // a service directory: its own name and port
			if m, err := ReadManifest(p); err == nil && m.Answers.Name != "" {
				port := m.Answers.HTTPPort
				if port == 0 {
					port = DefaultHTTPPort
				}
				cs.URL = fmt.Sprintf("http://%s:%d", m.Answers.Name, port)
			}
		}
		out[c.Name] = cs
	}
	return out, nil
}

// clientFeatures are the ogen features of a dependency's client: the
// client only, with OpenTelemetry when the service has it.
func clientFeatures(otel bool) *gen.FeatureOptions {
	enable := gen.FeatureSet{gen.PathsClient.Name: {}}
	disable := gen.FeatureSet{gen.PathsServer.Name: {}, gen.WebhooksClient.Name: {}, gen.WebhooksServer.Name: {}, gen.OgenUnimplemented.Name: {}}
	if otel {
		enable[gen.OgenOtel.Name] = struct{}{}
	} else {
		disable[gen.OgenOtel.Name] = struct{}{}
	}
	return &gen.FeatureOptions{Enable: enable, Disable: disable}
}

// runOgenClient generates a dependency's client package in memory. What
// ogen cannot generate is skipped (a client need not cover every
// operation); the operations it serves are read from the spec.
func runOgenClient(c Client, spec ClientSpec, otel bool) (map[string][]byte, ClientData, error) {
	d := ClientData{Name: c.Name, Env: strings.ToUpper(c.Name), Field: strings.ToUpper(c.Name[:1]) + c.Name[1:], Spec: c.Spec}
	parsed, err := ogen.Parse(spec.Data)
	if err != nil {
		return nil, d, fmt.Errorf("client %s: %w", c.Name, specError(spec.File, spec.Data, err))
	}
	opts := gen.Options{}
	opts.Parser.File = location.NewFile(path.Base(spec.File), spec.File, spec.Data)
	opts.Generator.Features = clientFeatures(otel)
	opts.Generator.IgnoreNotImplemented = []string{"all"}
	g, err := gen.NewGenerator(parsed, opts)
	if err != nil {
		return nil, d, fmt.Errorf("client %s: ogen refuses its spec: %w", c.Name, specError(spec.File, spec.Data, err))
	}
	fs := &memFS{files: map[string][]byte{}}
	if err := g.WriteSource(fs, c.Name); err != nil {
		return nil, d, fmt.Errorf("client %s: ogen could not write the client for %s: %w", c.Name, spec.File, err)
	}
	if _, ok := fs.files["oas_client_gen.go"]; !ok {
		return nil, d, fmt.Errorf("client %s: %s has no operation ogen can generate a client for", c.Name, spec.File)
	}
	if sec, ok := fs.files["oas_security_gen.go"]; ok {
		methods, err := interfaceMethods("oas_security_gen.go", sec, func(n string) bool { return n == "SecuritySource" })
		if err != nil {
			return nil, d, fmt.Errorf("client %s: reading ogen's SecuritySource: %w", c.Name, err)
		}
		for _, m := range methods {
			res := unqualify(m.Results)
			parts := strings.Split(strings.Trim(res, "()"), ", ")
			if len(parts) != 2 || parts[1] != "error" {
				return nil, d, fmt.Errorf("client %s: ogen's SecuritySource.%s returns %s, want (T, error)", c.Name, m.Name, res)
			}
			params := unqualify(m.Params)
			var args []string
			for _, p := range strings.Split(params, ", ") {
				if f := strings.Fields(p); len(f) == 2 {
					args = append(args, f[0])
				}
			}
			d.Security = append(d.Security, ClientSecurity{Name: m.Name, Params: params, Args: strings.Join(args, ", "), Results: res, Value: parts[0]})
		}
	}
	d.URL = spec.URL
	d.Ops = clientOps(parsed)
	return fs.files, d, nil
}

// clientOps lists a spec's operations with their retry safety.
func clientOps(s *ogen.Spec) []ClientOp {
	var ops []ClientOp
	paths := make([]string, 0, len(s.Paths))
	for p := range s.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		item := s.Paths[p]
		if item == nil {
			continue
		}
		for _, m := range []struct {
			op     *ogen.Operation
			method string
		}{{item.Get, "GET"}, {item.Head, "HEAD"}, {item.Options, "OPTIONS"}, {item.Put, "PUT"}, {item.Delete, "DELETE"}, {item.Post, "POST"}, {item.Patch, "PATCH"}} {
			if m.op == nil {
				continue
			}
			op := ClientOp{ID: m.op.OperationID, Method: m.method, Path: p}
			if op.ID == "" {
				op.ID = m.method + " " + p
			}
			switch m.method {
			case "GET", "HEAD", "OPTIONS", "PUT", "DELETE":
				op.Idempotent = true
			default:
				if n, ok := m.op.Common.Extensions[IdempotentExtension]; ok && n.Value == "true" {
					op.Idempotent = true
				}
			}
			ops = append(ops, op)
		}
	}
	return ops
}

// generateClients runs ogen for every dependency, in parallel.
func generateClients(ctx context.Context, cs []Client, specs map[string]ClientSpec, otel bool) ([]File, []ClientData, error) {
	if len(cs) == 0 {
		return nil, nil, nil
	}
	type result struct {
		err   error
		files map[string][]byte
		data  ClientData
	}
	out := make([]result, len(cs))
	if err := parallel(ctx, len(cs), func(i int) {
		c := cs[i]
		spec, ok := specs[c.Name]
		if !ok {
			out[i].err = fmt.Errorf("client %s: its spec %s was not read", c.Name, c.Spec)
			return
		}
		out[i].files, out[i].data, out[i].err = runOgenClient(c, spec, otel)
	}); err != nil {
		return nil, nil, err
	}
	var files []File
	var data []ClientData
	for i, r := range out {
		if r.err != nil {
			return nil, nil, r.err
		}
		for _, name := range sortedKeys(r.files) {
			files = append(files, File{Path: path.Join(ClientsDir, cs[i].Name, name), Template: "ogen " + cs[i].Spec, Content: r.files[name], Class: Generated})
		}
		data = append(data, r.data)
	}
	return files, data, nil
}

func clientNames(cs []Client) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}
