package generator

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestOgenUnsupportedNames reads the source of the ogen module svcgen
// builds with: every not-implemented name it can raise must be one that
// --skip-unsupported accepts, and each name svcgen lists must still exist.
func TestOgenUnsupportedNames(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/ogen-go/ogen").Output()
	if err != nil {
		t.Fatalf("go list ogen: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "gen")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no ogen sources in %s: %v", dir, err)
	}
	lit := regexp.MustCompile(`ErrNotImplemented\{\s*(?:Name:\s*)?"([^"]+)"`)
	named := regexp.MustCompile(`const name = "([^"]+)"`)
	// Since v1.25 skipErrorName returns the names of typed errors.
	skipName := regexp.MustCompile(`return "([^"]+)", true`)
	sprintf := regexp.MustCompile(`ErrNotImplemented\{Name: fmt\.Sprintf\("([^"]+)"`)
	arrayDefault := regexp.MustCompile(`return "([^"]*array defaults[^"]*)"`)
	found := map[string]bool{}
	var dynamic []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range []*regexp.Regexp{lit, named, skipName, arrayDefault} {
			for _, m := range re.FindAllSubmatch(src, -1) {
				found[string(m[1])] = true
			}
		}
		for _, m := range sprintf.FindAllSubmatch(src, -1) {
			dynamic = append(dynamic, string(m[1]))
		}
	}
	// The names ogen formats: "%s security" and "allOf with %s".
	for _, d := range dynamic {
		var n int
		for _, name := range OgenUnsupported {
			prefix, suffix, _ := strings.Cut(d, "%s")
			if strings.HasPrefix(name, prefix) && strings.HasSuffix(name, suffix) && len(name) > len(prefix)+len(suffix) {
				found[name] = true
				n++
			}
		}
		if n == 0 {
			t.Errorf("ogen formats %q: add its values to OgenUnsupported", d)
		}
	}
	for name := range found {
		if !slices.Contains(OgenUnsupported, name) {
			t.Errorf("ogen raises %q, which --skip-unsupported does not accept: add it to OgenUnsupported", name)
		}
	}
	for _, name := range OgenUnsupported {
		if !found[name] {
			t.Errorf("OgenUnsupported has %q, which ogen no longer raises", name)
		}
	}
}

func TestCheckSkipUnsupported(t *testing.T) {
	for _, ok := range []string{"all", "complex defaults", "sse server response encoding"} {
		if err := CheckSkipUnsupported(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	err := CheckSkipUnsupported("complex defualts")
	if err == nil {
		t.Fatal("a misspelt name is accepted")
	}
	for _, want := range []string{`"complex defualts" is not something ogen skips`, `did you mean "complex defaults"?`, "\n  object defaults\n"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error has no %q:\n%v", want, err)
		}
	}
}
