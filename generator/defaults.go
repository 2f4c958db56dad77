package generator

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Every feature carries the defaults of the parameters its templates read
// (the params block of its feature.yaml); the base folder those that the
// service reads whatever its features. A service's parameters are these
// defaults for its features with the preset's params written over them,
// field by field: a field the preset sets, even to zero, is the preset's;
// a field it leaves out is the feature's default. So a preset with an added
// feature generates a service whose configuration is complete.

// paramSource is one params block as written: a preset's, or a feature's
// defaults.
type paramSource struct {
	// node is the block's mapping node.
	node *yaml.Node
	// file names the block's file in errors ("presets/hot-path.yaml").
	file string
}

// paramsNode returns a document's top-level params block as a source, or
// nil when the document has none.
func paramsNode(file string, data []byte) *paramSource {
	if n := mapValue(docRoot(data), "params"); n != nil && n.Kind == yaml.MappingNode {
		return &paramSource{node: n, file: file}
	}
	return nil
}

// leaves lists the dotted paths of a params block's fields
// ("cache3.l1_size"), with their lines. The per-operation deadlines count
// as one field, timeouts.operations.
func leaves(n *yaml.Node, prefix string, out map[string]int) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, v := n.Content[i].Value, n.Content[i+1]
		p := key
		if prefix != "" {
			p = prefix + "." + key
		}
		if v.Kind == yaml.MappingNode && p != "timeouts.operations" {
			leaves(v, p, out)
			continue
		}
		out[p] = n.Content[i].Line
	}
}

// lineOf returns the line of a dotted path in a params block, or 0.
func (s *paramSource) lineOf(path string) int {
	if s == nil {
		return 0
	}
	all := map[string]int{}
	leaves(s.node, "", all)
	return all[path]
}

// checkDefaults makes sure no parameter is defaulted by two folders: which
// default applies must not depend on which features are on.
func (c *Catalog) checkDefaults() error {
	owner := map[string]string{}
	for _, f := range c.all() {
		if f.defaults == nil {
			continue
		}
		fields := map[string]int{}
		leaves(f.defaults.node, "", fields)
		for _, p := range sortedKeys(fields) {
			if prev, ok := owner[p]; ok {
				return fmt.Errorf("%s:%d: params.%s is already defaulted by %s; keep the default in one of the two files",
					f.defaults.file, fields[p], p, prev)
			}
			owner[p] = f.defaults.file
		}
		if err := f.Params.validate(); err != nil {
			return fmt.Errorf("%s: %w", f.defaults.file, err)
		}
	}
	return nil
}

// defaultSources are the defaults of the base, the starter and the given
// features, in that order.
func (c *Catalog) defaultSources(starter string, features []string) []*paramSource {
	var out []*paramSource
	folders := []*Feature{c.base, c.starters[starter]}
	for _, name := range features {
		folders = append(folders, c.features[name])
	}
	for _, f := range folders {
		if f != nil && f.defaults != nil {
			out = append(out, f.defaults)
		}
	}
	return out
}

// Defaults returns the defaults of the base folder and the given features,
// with no preset over them: what `svcgen explain` shows.
func (c *Catalog) Defaults(features ...string) (Params, error) {
	var p Params
	for _, s := range c.defaultSources("", features) {
		if err := s.node.Decode(&p); err != nil {
			return Params{}, fmt.Errorf("%s: %w", s.file, err)
		}
	}
	return p, nil
}

// Params returns the parameters of a service of preset with the given
// (resolved) features: the features' defaults, the preset's params over
// them field by field. It fails when a parameter a feature needs is still
// unusable, such as a cache of size 0, naming the file and line that set
// it and the fix.
func (c *Catalog) Params(preset *Preset, features []string) (Params, error) {
	defaults := c.defaultSources(preset.Starter, features)
	var p Params
	for _, s := range slices.Concat(defaults, ptrs(preset.sources)) {
		if err := s.node.Decode(&p); err != nil {
			return Params{}, fmt.Errorf("%s: %w", s.file, err)
		}
	}
	where := preset.Source
	if where == "" {
		where = "preset " + preset.Name
	}
	if err := p.validate(); err != nil {
		return Params{}, fmt.Errorf("%s: %w", where, err)
	}
	on := map[string]bool{}
	for _, f := range features {
		on[f] = true
	}
	for _, r := range requiredParams {
		if !on[r.feature] {
			continue
		}
		v, err := paramValue(&p, r.path)
		if err != nil {
			return Params{}, err
		}
		if msg := r.check(v, &p); msg != "" {
			return Params{}, requiredError(r, v, msg, preset, defaults)
		}
	}
	return p, nil
}

func ptrs[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// requiredError names where the unusable value came from: the preset's
// line that set it, else the feature default, else that nothing set it.
func requiredError(r requiredParam, v reflect.Value, msg string, preset *Preset, defaults []*paramSource) error {
	what := "params." + r.path
	for i := len(preset.sources) - 1; i >= 0; i-- {
		s := &preset.sources[i]
		if line := s.lineOf(r.path); line > 0 {
			return fmt.Errorf("%s:%d: %s is %s: %s; set it to a usable value, or delete the line to take the default",
				s.file, line, what, show(v), msg)
		}
	}
	for _, s := range defaults {
		if line := s.lineOf(r.path); line > 0 {
			return fmt.Errorf("%s:%d: the default %s is %s: %s; give it a usable default",
				s.file, line, what, show(v), msg)
		}
	}
	return fmt.Errorf("%s: %s is not set and no feature defaults it: %s; set it in the preset's params", presetWhere(preset), what, msg)
}

func presetWhere(p *Preset) string {
	if p.Source != "" {
		return p.Source
	}
	return "preset " + p.Name
}

func show(v reflect.Value) string {
	if d, ok := v.Interface().(Duration); ok {
		return d.String()
	}
	return fmt.Sprint(v.Interface())
}

// requiredParam is a parameter a generated service cannot work with at
// some value: its config rejects it at start, or it silently undoes what
// the feature is for. It is checked when feature is on (servemux and
// dbpool are on in every service: the base and the starters need them).
type requiredParam struct {
	check   func(v reflect.Value, p *Params) string
	feature string
	path    string
}

// positive fails on zero and below: why says what zero would do.
func positive(why string) func(reflect.Value, *Params) string {
	return func(v reflect.Value, _ *Params) string {
		if number(v) <= 0 {
			return "want above 0 (" + why + ")"
		}
		return ""
	}
}

// atMost fails above max, for the service's own config bounds.
func atMost(max float64, form string) func(reflect.Value, *Params) string {
	return func(v reflect.Value, _ *Params) string {
		if number(v) > max {
			return "want at most " + form + " (the service's config rejects more)"
		}
		return ""
	}
}

// belowPoolLimit keeps the DBConnectionsHigh alert able to fire: the pool
// never opens more than params.dbpool.max_conns connections per replica.
func belowPoolLimit(v reflect.Value, p *Params) string {
	n := number(v)
	if n <= 0 {
		return "want above 0 (the alert would always fire)"
	}
	if limit := float64(p.DBPool.MaxConns); limit > 0 && n >= limit {
		return fmt.Sprintf("want below params.dbpool.max_conns (%d): the pool never opens more connections, so the alert could never fire", p.DBPool.MaxConns)
	}
	return ""
}

func number(v reflect.Value) float64 {
	switch v.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	case reflect.Float64:
		return v.Float()
	}
	return math.NaN()
}

// requiredParams are checked on every service's merged parameters, so no
// default the generated config holds is one it would refuse or one that
// breaks the feature. Parameters where 0 has a documented meaning
// (realtime.tick, partition.retention, partition.check_every,
// matview.refresh_every, compression.frame_threshold, ...) are not here.
var requiredParams = []requiredParam{
	{feature: "dbpool", path: "timeouts.db", check: positive("0 gives every database call an expired deadline without the timeouts feature, and none with it")},
	{feature: "servemux", path: "server.read_header_timeout", check: positive("0 lets a client hold a connection by sending headers slowly")},
	{feature: "servemux", path: "server.shutdown_timeout", check: positive("0 cuts in-flight requests on SIGTERM")},
	{feature: "servemux", path: "server.max_body_bytes", check: positive("HTTP_MAX_BODY_BYTES must be a positive number of bytes")},
	{feature: "timeouts", path: "timeouts.http", check: positive("0 runs operations without a deadline")},
	{feature: "cache3", path: "cache3.l1_size", check: positive("the cache refuses to start with no room in memory")},
	{feature: "cache3", path: "cache3.l1_ttl", check: positive("the cache refuses to start")},
	{feature: "cache3", path: "cache3.l2_ttl", check: positive("the cache refuses to start")},
	{feature: "cache3", path: "cache3.negative_ttl", check: positive("the cache refuses to start")},
	{feature: "cache3", path: "cache3.jitter", check: func(v reflect.Value, _ *Params) string {
		if f := v.Float(); f < 0 || f >= 1 {
			return "want a fraction from 0 up to (not including) 1 (the cache refuses to start)"
		}
		return ""
	}},
	{feature: "batch", path: "batch.wait", check: atMost(float64(100*time.Millisecond), "100ms")},
	{feature: "batch", path: "batch.max_batch", check: atMost(65535, "65535")},
	{feature: "batch", path: "batch.copy_chunk", check: atMost(1_000_000, "1000000")},
	{feature: "observability", path: "observability.latency_p99", check: positive("the alert would always fire")},
	{feature: "observability", path: "observability.latency_p95", check: positive("the alert would always fire")},
	{feature: "observability", path: "observability.error_ratio", check: positive("the alert would fire on the first error")},
	{feature: "observability", path: "observability.memory_bytes", check: positive("the alert would always fire")},
	{feature: "observability", path: "observability.db_conns", check: belowPoolLimit},
	{feature: "observability", path: "observability.gc_pause_p99", check: positive("the alert would always fire")},
	{feature: "observability", path: "observability.goroutine_growth", check: positive("the alert would always fire")},
	{feature: "observability", path: "observability.goroutine_window", check: positive("the growth is measured over this window")},
}

// paramValue returns the field of p at a dotted YAML path.
func paramValue(p *Params, path string) (reflect.Value, error) {
	v := reflect.ValueOf(p).Elem()
	for part := range strings.SplitSeq(path, ".") {
		found := false
		for i := range v.NumField() {
			if strings.Split(v.Type().Field(i).Tag.Get("yaml"), ",")[0] == part {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return reflect.Value{}, fmt.Errorf("params.%s: no such parameter (generator/defaults.go is out of step with Params)", path)
		}
	}
	return v, nil
}

// ParamFields lists the fields of one params section with their values in
// p, in declaration order: "l1_size=100000". A map field shows its entries,
// or "none".
func ParamFields(p Params, section string) ([]string, error) {
	v, err := paramValue(&p, section)
	if err != nil {
		return nil, err
	}
	if v.Kind() != reflect.Struct {
		return nil, errors.New("params." + section + " is not a section")
	}
	var out []string
	for i := range v.NumField() {
		name := strings.Split(v.Type().Field(i).Tag.Get("yaml"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		f := v.Field(i)
		var val string
		switch f.Kind() {
		case reflect.Map:
			var items []string
			for _, k := range f.MapKeys() {
				items = append(items, fmt.Sprintf("%v:%s", k.Interface(), show(f.MapIndex(k))))
			}
			slices.Sort(items)
			val = "none"
			if len(items) > 0 {
				val = strings.Join(items, ",")
			}
		case reflect.Slice:
			var items []string
			for j := range f.Len() {
				items = append(items, show(f.Index(j)))
			}
			val = "none"
			if len(items) > 0 {
				val = strings.Join(items, ",")
			}
		case reflect.String:
			val = strconv.Quote(f.String())
			if f.String() != "" {
				val = f.String()
			}
		default:
			val = show(f)
		}
		out = append(out, name+"="+val)
	}
	return out, nil
}
