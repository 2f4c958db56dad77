package generator

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// depSpec is a small dependency API: a read, a create, and a create
// marked safe to retry.
const depSpec = `openapi: 3.0.3
info: {title: ledger, version: "1"}
paths:
  /balances/{player}:
    get:
      operationId: getBalance
      parameters:
        - {name: player, in: path, required: true, schema: {type: integer, format: int64}}
      responses:
        "200":
          description: the balance
          content:
            application/json:
              schema: {type: object, required: [amount], properties: {amount: {type: integer, format: int64}}}
  /grants:
    post:
      operationId: grant
      x-svcgen-idempotent: true
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [key], properties: {key: {type: string}}}
      responses:
        "204": {description: granted}
  /charges:
    post:
      operationId: charge
      responses:
        "204": {description: charged}
`

func TestValidateClientName(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"ledger", ""},
		{"ledger2", ""},
		{"", "empty"},
		{"Ledger-Svc", `e.g. "ledgersvc"`},
		{"2fa", "starting with a letter"},
		{"func", "clashes"},
		{"config", "clashes"},
		{"outbound", "clashes"},
	} {
		err := ValidateClientName(tc.name)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	if err := ValidateClients([]Client{{Name: "a", Spec: "x"}, {Name: "a", Spec: "y"}}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a name listed twice: %v", err)
	}
}

func TestParseClientFlag(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	if err := os.MkdirAll(filepath.Join("ledger", "api"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("ledger", "api", "openapi.yaml"), []byte(depSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("empty", 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := ParseClientFlag("ledger=ledger", filepath.Join("services", "shop"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "ledger" || c.Spec != "../../ledger" {
		t.Errorf("got %+v, want ledger at ../../ledger (relative to the service)", c)
	}
	for _, tc := range []struct{ flag, want string }{
		{"ledger", "want NAME=PATH"},
		{"ledger=missing.yaml", "missing.yaml does not exist"},
		{"ledger=empty", "directory without api/openapi.yaml"},
		{"Led-ger=ledger", "not a Go package name"},
	} {
		if _, err := ParseClientFlag(tc.flag, "shop"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--client %s: %v, want an error saying %q", tc.flag, err, tc.want)
		}
	}
	specs, err := ReadClientSpecs(filepath.Join("services", "shop"), []Client{c})
	if err != nil {
		t.Fatal(err)
	}
	if string(specs["ledger"].Data) != depSpec {
		t.Error("the service directory's api/openapi.yaml was not read")
	}
}

func clientRequest(t *testing.T, spec string) Request {
	t.Helper()
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	return Request{
		Catalog: c,
		Options: Options{Name: "shop", Module: "example.com/shop", Preset: "hot-path", Clients: []Client{{Name: "ledger", Spec: "../ledger"}}},
		Clients: map[string]ClientSpec{"ledger": {File: "../ledger/api/openapi.yaml", Data: []byte(spec), URL: "http://ledger:8080"}},
	}
}

func TestGenerateClient(t *testing.T) {
	res, err := Generate(context.Background(), clientRequest(t, depSpec))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]File{}
	for _, f := range res.Files {
		files[f.Path] = f
	}
	for _, p := range []string{"internal/clients/ledger/oas_client_gen.go", "internal/clients/ledger/client.go", "internal/clients/clients.go", "internal/platform/outbound/outbound.go"} {
		f, ok := files[p]
		if !ok {
			t.Errorf("%s missing", p)
			continue
		}
		if f.Class != Generated {
			t.Errorf("%s is %s, want generated", p, f.Class)
		}
	}
	if !strings.Contains(string(files["internal/clients/ledger/oas_client_gen.go"].Content), "ogen/otel") {
		t.Error("internal/clients/ledger/oas_client_gen.go: no OpenTelemetry with the tracing feature on")
	}
	if !strings.Contains(string(files["internal/clients/clients.go"].Content), "tracing.Transport(base)") {
		t.Error("internal/clients/clients.go: attempts do not go through tracing.Transport with the tracing feature on")
	}
	untraced := clientRequest(t, depSpec)
	untraced.Options.Features = []string{"-tracing"}
	plain, err := Generate(context.Background(), untraced)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range plain.Files {
		if strings.HasPrefix(f.Path, "internal/clients/") && (strings.Contains(string(f.Content), "ogen/otel") || strings.Contains(string(f.Content), "tracing.")) {
			t.Errorf("%s uses OpenTelemetry without the tracing feature", f.Path)
		}
	}
	for p := range files {
		if strings.HasPrefix(p, "internal/clients/ledger/oas_server") || strings.HasPrefix(p, "internal/clients/ledger/oas_router") {
			t.Errorf("%s: a client package got server code", p)
		}
	}
	client := string(files["internal/clients/ledger/client.go"].Content)
	for _, want := range []string{
		`{ID: "charge", Method: "POST", Path: "/charges", Idempotent: false}`,
		`{ID: "getBalance", Method: "GET", Path: "/balances/{player}", Idempotent: true}`,
		`{ID: "grant", Method: "POST", Path: "/grants", Idempotent: true}`,
	} {
		if !strings.Contains(client, want) {
			t.Errorf("client.go lacks %s:\n%s", want, client)
		}
	}
	cfg := string(files["internal/config/clients.go"].Content)
	if !strings.Contains(cfg, `r.str("CLIENT_LEDGER_URL", &c.Clients.Ledger.URL)`) {
		t.Error("config.go does not read CLIENT_LEDGER_URL")
	}
	if !strings.Contains(string(files["internal/clients/clients.go"].Content), `outbound.DefaultConfig("http://ledger:8080")`) {
		t.Error("clients.go lacks the default URL")
	}
	if !strings.Contains(string(files[ManifestPath].Content), "spec: ../ledger") {
		t.Error("the manifest does not record the client")
	}
}

func TestGenerateClientErrors(t *testing.T) {
	req := clientRequest(t, "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /a:\n    get:\n      responses: {200: {$ref: '#/components/responses/Missing'}}\n")
	_, err := Generate(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "client ledger") || !strings.Contains(err.Error(), "openapi.yaml:") {
		t.Errorf("a spec ogen refuses: %v, want an error naming the client and the spec's line", err)
	}
	req = clientRequest(t, depSpec)
	req.Options.Features = []string{"-clients"}
	if _, err := Generate(context.Background(), req); err == nil || !strings.Contains(err.Error(), "cannot be removed") {
		t.Errorf("-clients with clients: %v", err)
	}
	req = clientRequest(t, depSpec)
	req.Clients = nil
	if _, err := Generate(context.Background(), req); err == nil || !strings.Contains(err.Error(), "was not read") {
		t.Errorf("a client without its spec: %v", err)
	}
}

func TestGenerateSecuredClient(t *testing.T) {
	spec, err := os.ReadFile("../testdata/specs/arena-secured.yaml")
	if err != nil {
		t.Fatal(err)
	}
	req := clientRequest(t, string(spec))
	res, err := Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range res.Files {
		files[f.Path] = string(f.Content)
	}
	client := files["internal/clients/ledger/client.go"]
	for _, want := range []string{
		"func New(cfg outbound.Config, m *outbound.Metrics, base http.RoundTripper, sec SecuritySource, opts ...ClientOption)",
		"func (c *Credentials) PlayerToken(ctx context.Context, operationName OperationName) (PlayerToken, error) {",
		"return (*src).ServerKey(ctx, operationName)",
	} {
		if !strings.Contains(client, want) {
			t.Errorf("client.go lacks %s", want)
		}
	}
	if !strings.Contains(files["internal/clients/clients.go"], "s.LedgerCredentials = &ledger.Credentials{}") {
		t.Error("clients.go does not build the ledger's credentials")
	}
}
