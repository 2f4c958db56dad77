package generator

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// linkRe matches a Markdown link to a line: [text](path#L12).
var linkRe = regexp.MustCompile(`\[([^\]]+)\]\(([^)#\s]+)#L(\d+)\)`)

// TestExplainLinks renders every preset with --explain and follows every
// line link of README.md and TUTORIAL.md: the file exists, the link's text
// names the same place, and the line holds the "Explain KEY:" comment the
// link was computed from. Without --explain there is no TUTORIAL.md, no
// tour and no newcomer comment.
func TestExplainLinks(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Presets() {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			o := goldenOptions(p.Name)
			o.Explain = true
			res, err := Generate(context.Background(), Request{Catalog: c, Options: o})
			if err != nil {
				t.Fatal(err)
			}
			files := map[string][]byte{}
			for _, f := range res.Files {
				files[f.Path] = f.Content
			}
			if !bytes.Contains(files[ManifestPath], []byte("explain: true")) {
				t.Errorf("%s does not record explain: true, so regen would drop the tour", ManifestPath)
			}
			for _, doc := range []string{"README.md", "TUTORIAL.md"} {
				content, ok := files[doc]
				if !ok {
					t.Fatalf("%s is missing", doc)
				}
				links := linkRe.FindAllSubmatch(content, -1)
				if len(links) < 10 {
					t.Fatalf("%s has %d line links, want one per feature and more", doc, len(links))
				}
				targets := map[string]bool{}
				for _, l := range links {
					text, path, n := string(l[1]), string(l[2]), string(l[3])
					if text != path+":"+n {
						t.Errorf("%s: link text %q does not match its target %s#L%s", doc, text, path, n)
					}
					target, ok := files[path]
					if !ok {
						t.Errorf("%s: link to %s, which the service does not have", doc, path)
						continue
					}
					num, _ := strconv.Atoi(n)
					lines := strings.Split(string(target), "\n")
					if num < 1 || num > len(lines) {
						t.Errorf("%s: link to %s#L%d, past the end (%d lines)", doc, path, num, len(lines))
						continue
					}
					if !strings.Contains(lines[num-1], "Explain ") {
						t.Errorf("%s: link to %s#L%d: the line is %q, not an Explain comment", doc, path, num, lines[num-1])
					}
					targets[path] = true
				}
				// The places a newcomer reads first are all linked.
				for _, want := range []string{"cmd/" + o.Name + "/main.go", "internal/app/app.go", "internal/app/stack.go", "internal/handler/handler.go", "internal/store/postgres.go", "Makefile"} {
					if !targets[want] {
						t.Errorf("%s links nowhere into %s", doc, want)
					}
				}
			}
			// Every enabled feature is described in the README's tour.
			tour := string(files["README.md"][bytes.Index(files["README.md"], []byte("## A tour of the code")):])
			for _, f := range res.Features {
				if !strings.Contains(tour, "| "+f+" |") {
					t.Errorf("README.md's tour has no row for the feature %s", f)
				}
			}
			if !slices.ContainsFunc(res.Files, func(f File) bool {
				return strings.HasPrefix(f.Path, "internal/handler/") && bytes.Contains(f.Content, []byte("Explain "))
			}) {
				t.Error("no handler carries a newcomer comment")
			}

			plain, err := Generate(context.Background(), Request{Catalog: c, Options: goldenOptions(p.Name)})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range plain.Files {
				if f.Path == "TUTORIAL.md" {
					t.Error("TUTORIAL.md is written without --explain")
				}
				if regexp.MustCompile(`(//|#) Explain [a-z0-9]+:`).Match(f.Content) || bytes.Contains(f.Content, []byte("@@line:")) {
					t.Errorf("%s has a newcomer comment or a line placeholder without --explain", f.Path)
				}
			}
		})
	}
}

func TestResolveLinesMissingAnchor(t *testing.T) {
	jobs := []renderJob{
		{tmpl: "base/README.md.tmpl", out: "README.md", content: []byte("see main.go#L" + linePlaceholder("main.go", "nope") + "\n")},
		{tmpl: "base/main.go.tmpl", out: "main.go", content: []byte("package main\n\n// Explain wiring: here.\nfunc main() {}\n")},
	}
	err := resolveLines(jobs)
	if err == nil || !strings.Contains(err.Error(), `"Explain nope:"`) || !strings.Contains(err.Error(), "templates/base/README.md.tmpl") {
		t.Fatalf("err = %v, want one naming the template and the missing comment", err)
	}
	jobs[0].content = []byte("see main.go#L" + linePlaceholder("main.go", "wiring") + "\n")
	if err := resolveLines(jobs); err != nil {
		t.Fatal(err)
	}
	if got := string(jobs[0].content); got != "see main.go#L3\n" {
		t.Fatalf("got %q", got)
	}
}
