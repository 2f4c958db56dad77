package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/internal/loadbench"
)

// TestClients generates two hot-path services, stock and shop, shop with
// stock as a dependency (`--client stock=<stock's directory>`), edits
// shop's GetItem the way a team would (it reads the item from stock
// through the generated client), runs both on 127.0.0.1 with their own
// PostgreSQL databases, stock behind a TCP proxy of the test, and shows:
//
//   - a call goes through end to end (shop's GET /items/{id} answers
//     stock's item);
//   - a deadline: stock slowed by the proxy makes shop answer 504 in its
//     error shape within the call's budget (shop's deadline minus the
//     margin), well before the proxy's delay, not a hang;
//   - a failing dependency: stock stopped, each call makes at most 1 +
//     CLIENT_STOCK_RETRIES attempts (connections counted at the proxy),
//     the breaker opens after CLIENT_STOCK_BREAKER_FAILURES and shop
//     answers 503 with Retry-After at once, without touching the proxy;
//     stock restarted, the breaker half-opens and shop answers 200 again;
//   - the per-dependency metrics on shop's /metrics.
//
// It also runs the outbound package's own tests inside shop.
//
//	go test ./internal/e2e -run TestClients -count=1 -v -timeout 30m
func TestClients(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, builds and runs two services")
	}
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("psql is not on PATH (needed to create the services' databases)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	root := t.TempDir()

	// stock: the dependency, as generated.
	cat, err := generator.LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	stockDir := filepath.Join(root, "stock")
	res, err := generator.Generate(ctx, generator.Request{Catalog: cat, Options: generator.Options{Name: "stock", Module: "example.com/stock", Preset: "hot-path"}})
	if err != nil {
		t.Fatal(err)
	}
	writeTidy(t, stockDir, res)

	// shop: calls stock through internal/clients/stock.
	shopDir := filepath.Join(root, "shop")
	opts := generator.Options{Name: "shop", Module: "example.com/shop", Preset: "hot-path",
		Clients: []generator.Client{{Name: "stock", Spec: "../stock"}}}
	specs, err := generator.ReadClientSpecs(shopDir, opts.Clients)
	if err != nil {
		t.Fatal(err)
	}
	res, err = generator.Generate(ctx, generator.Request{Catalog: cat, Options: opts, Clients: specs})
	if err != nil {
		t.Fatal(err)
	}
	writeTidy(t, shopDir, res)
	// As generated, shop passes its own tests (the outbound package's
	// among them), vet and fieldalignment.
	run(t, shopDir, "go", "vet", "./...")
	run(t, shopDir, "go", "test", "-count=1", "./...")
	fa := fieldalignment(t)
	run(t, shopDir, fa, "./internal/platform/outbound/", "./internal/clients/", "./internal/config/", "./internal/app/", "./internal/platform/apierr/")
	// The team's edit replaces the starter's GetItem (whose tests are
	// the team's to update): it must build and vet.
	teamEdit(t, shopDir)
	run(t, shopDir, "go", "vet", "./internal/handler/", "./internal/app/", "./cmd/shop/")

	bins := t.TempDir()
	stockBin, shopBin := filepath.Join(bins, "stock"), filepath.Join(bins, "shop")
	for _, b := range []struct{ dir, name, out string }{{stockDir, "stock", stockBin}, {shopDir, "shop", shopBin}} {
		if err := loadbench.Build(ctx, b.dir, "./cmd/"+b.name, b.out); err != nil {
			t.Fatal(err)
		}
	}

	// A database of its own for each service on the shared PostgreSQL.
	dbs := map[string]string{}
	for _, name := range []string{"stock", "shop"} {
		db := fmt.Sprintf("svcgen_clients_%s_%d", name, os.Getpid())
		psql(t, pgURL(), "DROP DATABASE IF EXISTS "+db)
		psql(t, pgURL(), "CREATE DATABASE "+db)
		t.Cleanup(func() {
			_ = exec.Command("psql", pgURL(), "-qAtc", "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)").Run()
		})
		u, _ := url.Parse(pgURL())
		u.Path = "/" + db
		dbs[name] = u.String()
	}
	envFor := func(name string, extra ...string) []string {
		env := append(os.Environ(), "STORE=postgres", "DATABASE_URL="+dbs[name], "LOG_LEVEL=warn", "TIMEOUT_DB=500ms")
		mig := exec.CommandContext(ctx, filepath.Join(bins, name), "-migrate", "up")
		mig.Env = env
		if out, err := mig.CombinedOutput(); err != nil {
			t.Fatalf("%s -migrate up: %v\n%s", name, err, out)
		}
		return append(env, extra...)
	}

	stockEnv := envFor("stock", "TIMEOUT_DEFAULT=5s")
	stock := startSvc(t, ctx, stockBin, stockEnv, filepath.Join(bins, "stock.log"))
	proxy := newTCPProxy(t, strings.TrimPrefix(stock.HTTP, "http://"))

	const retries, failures = 2, 5
	const deadline, margin = 400 * time.Millisecond, 50 * time.Millisecond
	shop := startSvc(t, ctx, shopBin, envFor("shop",
		"CLIENT_STOCK_URL=http://"+proxy.addr,
		"TIMEOUT_DEFAULT="+deadline.String(),
		"CLIENT_STOCK_TIMEOUT=2s", // above shop's deadline: the caller's budget decides
		"CLIENT_STOCK_MARGIN="+margin.String(),
		"CLIENT_STOCK_RETRIES="+strconv.Itoa(retries),
		"CLIENT_STOCK_BREAKER_FAILURES="+strconv.Itoa(failures),
		"CLIENT_STOCK_BREAKER_OPEN=2s",
	), filepath.Join(bins, "shop.log"))
	client := &http.Client{Timeout: 10 * time.Second}

	// 1. End to end: an item created in stock, read through shop.
	resp, body := clientCall(t, ctx, client, http.MethodPost, stock.HTTP+"/items", `{"name":"sword","quantity":3,"price":1500}`)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("stock POST /items: %d %s", resp.StatusCode, body)
	}
	id := regexp.MustCompile(`"id":\s*(\d+)`).FindStringSubmatch(body)
	if id == nil {
		t.Fatalf("stock POST /items answered no id: %s", body)
	}
	itemURL := shop.HTTP + "/items/" + id[1]
	resp, body = clientCall(t, ctx, client, http.MethodGet, itemURL, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"name":"sword"`) {
		t.Fatalf("shop GET /items/%s through stock: %d %s", id[1], resp.StatusCode, body)
	}
	resp, body = clientCall(t, ctx, client, http.MethodGet, shop.HTTP+"/items/999999", "")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("shop GET of an item stock does not have: %d %s, want 404", resp.StatusCode, body)
	}
	var okLat []time.Duration
	for range 20 {
		start := time.Now()
		if resp, body := clientCall(t, ctx, client, http.MethodGet, itemURL, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("shop GET: %d %s", resp.StatusCode, body)
		}
		okLat = append(okLat, time.Since(start))
	}
	t.Logf("end to end: shop -> stock GET /items/%s answered 200; median %v over 20 calls", id[1], median(okLat))

	// 2. Deadline: stock answers after 1.5s; shop's budget is its
	// deadline (400ms) minus the margin (50ms).
	proxy.delay.Store(int64(1500 * time.Millisecond))
	start := time.Now()
	resp, body = clientCall(t, ctx, client, http.MethodGet, itemURL, "")
	took := time.Since(start)
	proxy.delay.Store(0)
	if resp.StatusCode != http.StatusGatewayTimeout || !errorShape(resp.Header, []byte(body), http.StatusGatewayTimeout) {
		t.Errorf("stock slowed: shop answered %d %s, want 504 in its error shape", resp.StatusCode, body)
	}
	if took >= 1500*time.Millisecond {
		t.Errorf("stock slowed: shop answered after %v, not before the dependency (1.5s): the budget did not end the call", took)
	}
	t.Logf("deadline: stock delayed 1.5s, shop (deadline %v, margin %v) answered %d after %v", deadline, margin, resp.StatusCode, took.Round(time.Millisecond))
	waitClientOK(t, ctx, client, itemURL) // the slow attempt counted as a failure, not enough to open

	// 3. Failing dependency: stock stopped.
	if err := stock.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-stock.done
	type down struct {
		status       int
		retryAfter   string
		attempts     int64
		took         time.Duration
		breakerShape bool
	}
	var calls []down
	for range 8 {
		before := proxy.conns.Load()
		start := time.Now()
		resp, body := clientCall(t, ctx, client, http.MethodGet, itemURL, "")
		calls = append(calls, down{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"),
			attempts: proxy.conns.Load() - before, took: time.Since(start),
			breakerShape: errorShape(resp.Header, []byte(body), resp.StatusCode)})
	}
	var table strings.Builder
	table.WriteString("| call | status | Retry-After | attempts at the proxy | latency |\n|---:|---:|---|---:|---:|\n")
	var before, after []time.Duration
	total := int64(0)
	opened := -1
	for i, c := range calls {
		fmt.Fprintf(&table, "| %d | %d | %s | %d | %v |\n", i+1, c.status, c.retryAfter, c.attempts, c.took.Round(10*time.Microsecond))
		total += c.attempts
		if c.status != http.StatusServiceUnavailable || c.retryAfter == "" || !c.breakerShape {
			t.Errorf("call %d with stock down: %d Retry-After %q, want 503 with Retry-After in the error shape", i+1, c.status, c.retryAfter)
		}
		if c.attempts > retries+1 {
			t.Errorf("call %d made %d attempts, want at most %d (1 + CLIENT_STOCK_RETRIES)", i+1, c.attempts, retries+1)
		}
		if c.attempts == 0 && opened < 0 {
			opened = i
		}
		if opened >= 0 {
			after = append(after, c.took)
			if c.attempts != 0 {
				t.Errorf("call %d reached the proxy with the breaker open", i+1)
			}
		} else {
			before = append(before, c.took)
		}
	}
	t.Log("stock stopped (CLIENT_STOCK_RETRIES=2, CLIENT_STOCK_BREAKER_FAILURES=5):\n" + table.String())
	if opened < 0 {
		t.Fatalf("the breaker never opened after %d attempts", total)
	}
	if calls[0].attempts != retries+1 {
		t.Errorf("the first call with stock down made %d attempts, want %d (1 + CLIENT_STOCK_RETRIES)", calls[0].attempts, retries+1)
	}
	if total != failures {
		t.Errorf("%d attempts reached the proxy before the breaker opened, want %d (CLIENT_STOCK_BREAKER_FAILURES)", total, failures)
	}
	t.Logf("breaker open after %d attempts in %d calls: median latency %v before, %v after (%.0fx faster)",
		total, opened, median(before), median(after), float64(median(before))/float64(max(median(after), 1)))
	if median(after) >= median(before) {
		t.Errorf("open breaker: median %v, not faster than the failing calls (%v)", median(after), median(before))
	}
	metrics := scrapeText(t, ctx, client, shop.Admin+"/metrics")
	for _, want := range []string{
		`shop_client_requests_total{code="200",dependency="stock",operation="getItem"}`,
		`shop_client_requests_total{code="open",dependency="stock",operation="getItem"}`,
		`shop_client_requests_total{code="timeout",dependency="stock",operation="getItem"}`,
		`shop_client_retries_total{dependency="stock",operation="getItem"}`,
		`shop_client_breaker_state{dependency="stock"} 2`,
		`shop_client_request_duration_seconds_count{dependency="stock",operation="getItem"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("shop's /metrics lacks %s", want)
		}
	}
	t.Log("shop /metrics:\n" + linesWith(metrics, "shop_client_requests_total", "shop_client_retries_total", "shop_client_breaker_state"))

	// 4. stock back (on a new port, the proxy follows): the breaker
	// half-opens after 2s and one probe closes it.
	stock = startSvc(t, ctx, stockBin, stockEnv, filepath.Join(bins, "stock2.log"))
	proxy.target.Store(strings.TrimPrefix(stock.HTTP, "http://"))
	back := time.Now()
	waitClientOK(t, ctx, client, itemURL)
	t.Logf("stock back: shop answered 200 again after %v (breaker open for 2s)", time.Since(back).Round(time.Millisecond))
	metrics = scrapeText(t, ctx, client, shop.Admin+"/metrics")
	if !strings.Contains(metrics, `shop_client_breaker_state{dependency="stock"} 0`) {
		t.Errorf("breaker not closed after recovery:\n%s", linesWith(metrics, "shop_client_breaker_state"))
	}
}

// teamEdit makes shop's GetItem read the item from stock through the
// generated client, as a team would: a field on the Handler, set in
// app.Setup from Deps.Clients.
func teamEdit(t *testing.T, dir string) {
	t.Helper()
	edit := func(file, old, new string) {
		p := filepath.Join(dir, file)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("%s has no %q to edit", file, old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit("internal/handler/handler.go", "	Store store.Store\n", "	Store store.Store\n	// Stock reads items from the stock service.\n	Stock *stock.Client\n")
	edit("internal/handler/handler.go", "import (\n", "import (\n\t\"example.com/shop/internal/clients/stock\"\n")
	getItem := `package handler

import (
	"context"
	"errors"
	"net/http"

	"example.com/shop/internal/api"
	"example.com/shop/internal/clients/stock"
	"example.com/shop/internal/store"
)

// GetItem implements GET /items/{id}: the item as the stock service has it.
func (h *Handler) GetItem(ctx context.Context, params api.GetItemParams) (*api.Item, error) {
	it, err := h.Stock.GetItem(ctx, stock.GetItemParams{ID: stock.ItemID(params.ID)})
	var se *stock.ErrorStatusCode
	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &api.Item{ID: api.ItemID(it.ID), Name: it.Name, Quantity: it.Quantity, Price: it.Price, UpdatedAt: it.UpdatedAt}, nil
}
`
	if err := os.WriteFile(filepath.Join(dir, "internal/handler/get_item.go"), []byte(getItem), 0o644); err != nil {
		t.Fatal(err)
	}
	edit("internal/app/app.go", "func Setup(ctx context.Context, d *Deps) error {\n", "func Setup(ctx context.Context, d *Deps) error {\n\td.Handler.Stock = d.Clients.Stock\n")
	out, err := exec.Command("gofmt", "-l", "-w", filepath.Join(dir, "internal")).CombinedOutput()
	if err != nil {
		t.Fatalf("gofmt: %v\n%s", err, out)
	}
}

func clientCall(t *testing.T, ctx context.Context, client *http.Client, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func waitClientOK(t *testing.T, ctx context.Context, client *http.Client, url string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, body := clientCall(t, ctx, client, http.MethodGet, url, "")
		if resp.StatusCode == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d %s, want 200 within 30s", url, resp.StatusCode, body)
		}
	}
}

// scrapeText returns a /metrics page as text.
func scrapeText(t *testing.T, ctx context.Context, client *http.Client, url string) string {
	t.Helper()
	resp, body := clientCall(t, ctx, client, http.MethodGet, url, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d", url, resp.StatusCode)
	}
	return body
}

// linesWith returns the lines of s that start with one of prefixes.
func linesWith(s string, prefixes ...string) string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		for _, p := range prefixes {
			if strings.HasPrefix(sc.Text(), p) {
				out = append(out, sc.Text())
			}
		}
	}
	return strings.Join(out, "\n")
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// tcpProxy forwards connections to target, counting them, and delays
// every chunk sent towards the target by delay.
type tcpProxy struct {
	ln     net.Listener
	target atomic.Value // string
	wg     sync.WaitGroup
	addr   string
	conns  atomic.Int64
	delay  atomic.Int64
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, addr: ln.Addr().String()}
	p.target.Store(target)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *tcpProxy) serve(c net.Conn) {
	defer c.Close()
	up, err := net.DialTimeout("tcp", p.target.Load().(string), time.Second)
	if err != nil {
		return // the dependency is down: the caller sees its connection closed
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if d := time.Duration(p.delay.Load()); d > 0 {
					time.Sleep(d)
				}
				if _, werr := up.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		up.Close()
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(c, up)
		c.Close()
		done <- struct{}{}
	}()
	<-done
	<-done
}
