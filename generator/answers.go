package generator

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"

	"golang.org/x/mod/module"
)

// Default ports of a generated service.
const (
	DefaultHTTPPort  = 8080
	DefaultAdminPort = 9090
)

// LoadAnswers reads an answers file (YAML, the Options struct). Unknown
// fields and bad values are errors with file:line.
func LoadAnswers(path string) (Options, error) {
	var o Options
	data, err := os.ReadFile(path)
	if err != nil {
		return o, fmt.Errorf("answers file: %w", err)
	}
	if err := decodeStrict(path, data, &o); err != nil {
		return o, err
	}
	if o.Name != "" {
		if err := ValidateName(o.Name); err != nil {
			return o, fmt.Errorf("%s:%d: name: %w", path, keyLine(data, "name"), err)
		}
	}
	if o.Module != "" {
		if err := ValidateModule(o.Module); err != nil {
			return o, fmt.Errorf("%s:%d: module: %w", path, keyLine(data, "module"), err)
		}
	}
	lines := seqLines(data, "skip_unsupported")
	for i, s := range o.SkipUnsupported {
		if err := CheckSkipUnsupported(s); err != nil {
			return o, fmt.Errorf("%s:%d: skip_unsupported: %w", path, lines[i], err)
		}
	}
	return o, nil
}

// AnswerLine returns "FILE:LINE" of a top-level field of an answers file
// (line 1 when the field is absent), for errors about its value.
func AnswerLine(path, field string) string {
	data, _ := os.ReadFile(path)
	return fmt.Sprintf("%s:%d", path, keyLine(data, field))
}

var nameRe = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// ValidateName checks a service name: kebab-case, starts with a letter, at
// most 63 characters (a Kubernetes DNS label). The error says what is wrong
// and suggests a valid form.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("service name is empty")
	case len(name) > 63:
		return fmt.Errorf("service name %q is %d characters long; the limit is 63 (it becomes a Kubernetes name)", name, len(name))
	case nameRe.MatchString(name):
		return nil
	}
	fixed := kebab(name)
	hint := "use lower-case letters, digits and single hyphens, starting with a letter"
	if fixed != "" && nameRe.MatchString(fixed) {
		hint += fmt.Sprintf(", e.g. %q", fixed)
	}
	return fmt.Errorf("service name %q is not kebab-case: %s", name, hint)
}

// kebab turns "Inventory_Service Go" into "inventory-service-go".
func kebab(s string) string {
	var b strings.Builder
	prevLower := false
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			if prevLower {
				b.WriteByte('-')
			}
			b.WriteRune(r - 'A' + 'a')
			prevLower = false
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			prevLower = true
		default:
			b.WriteByte('-')
			prevLower = false
		}
	}
	out := regexp.MustCompile(`-+`).ReplaceAllString(b.String(), "-")
	out = strings.Trim(out, "-")
	for out != "" && (out[0] >= '0' && out[0] <= '9') {
		out = strings.TrimLeft(out[1:], "-")
	}
	return out
}

// goIdent derives a Go package name: "inventory-service-go" -> "inventoryservicego".
func goIdent(name string) string { return strings.ReplaceAll(name, "-", "") }

// snake derives "inventory_service_go".
func snake(name string) string { return strings.ReplaceAll(name, "-", "_") }

// ValidateModule checks a Go module path.
func ValidateModule(path string) error {
	if path == "" {
		return errors.New("module path is empty")
	}
	if err := module.CheckPath(path); err != nil {
		// Single-element paths ("inventory") are fine for a service that is
		// never imported, as `go mod init` allows.
		if !strings.Contains(path, "/") && module.CheckImportPath(path) == nil {
			return nil
		}
		msg := fmt.Sprintf("%q is not a valid Go module path (%v)", path, err)
		if s := suggestModule(path); s != "" {
			msg += "; e.g. " + s
		} else {
			msg += "; use a form like github.com/acme/inventory-svc"
		}
		return errors.New(msg)
	}
	return nil
}

// suggestModule mends a module path that ValidateModule refuses: each
// element keeps its letters, digits and "-._~", the rest becoming "-";
// the host is lower-cased; a /v0 or /v1 suffix goes. "" when the mended
// path is still refused. Every suggestion passes ValidateModule.
func suggestModule(p string) string {
	var elems []string
	trimmed := p
	for _, scheme := range []string{"https://", "http://"} {
		trimmed = strings.TrimPrefix(trimmed, scheme)
	}
	for i, e := range strings.Split(trimmed, "/") {
		e = strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
				return r
			case r >= 'A' && r <= 'Z':
				if i == 0 {
					return r - 'A' + 'a'
				}
				return r
			case (r == '_' || r == '~') && i > 0:
				return r
			}
			return '-'
		}, e)
		e = regexp.MustCompile(`-{2,}`).ReplaceAllString(e, "-")
		e = regexp.MustCompile(`\.{2,}`).ReplaceAllString(e, ".")
		e = strings.Trim(e, "-.~_")
		if e != "" {
			elems = append(elems, e)
		}
	}
	if n := len(elems); n > 1 && (elems[n-1] == "v0" || elems[n-1] == "v1") {
		elems = elems[:n-1]
	}
	candidates := []string{strings.Join(elems, "/")}
	if len(elems) > 0 {
		if k := kebab(elems[len(elems)-1]); k != "" {
			candidates = append(candidates, "github.com/acme/"+k)
		}
	}
	for _, c := range candidates {
		if c != "" && c != p && ValidateModule(c) == nil {
			return c
		}
	}
	return ""
}

func lastElem(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// Defaults fills the zero fields of o: Module from Name, ports.
func (o *Options) Defaults() {
	if o.Module == "" && o.Name != "" {
		o.Module = o.Name
	}
	if o.HTTPPort == 0 {
		o.HTTPPort = DefaultHTTPPort
	}
	if o.AdminPort == 0 {
		o.AdminPort = DefaultAdminPort
	}
}

// Validate checks the options Generate needs.
func (o *Options) Validate() error {
	if err := ValidateName(o.Name); err != nil {
		return err
	}
	if err := ValidateModule(o.Module); err != nil {
		return err
	}
	if err := o.ValidatePorts(); err != nil {
		return err
	}
	if o.Preset == "" {
		return errors.New("no preset chosen")
	}
	return nil
}

// CheckToolchain reports a clear error when the go command is not on PATH
// (ogen's formatting and go mod tidy need it).
func CheckToolchain() error {
	if _, err := exec.LookPath("go"); err != nil {
		return errors.New("the go command is not on PATH: svcgen needs it to format ogen's output and to run go mod tidy; install Go 1.26 or later and add its bin directory to PATH")
	}
	return nil
}
