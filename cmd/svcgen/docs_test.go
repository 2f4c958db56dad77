package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// shBlock is one ```sh block of a Markdown file.
type shBlock struct {
	line int // of the opening fence
	text string
}

// shBlocks returns the ```sh blocks of a Markdown document in order.
func shBlocks(doc []byte) []shBlock {
	var out []shBlock
	var cur *shBlock
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```sh":
			cur = &shBlock{line: n}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	return out
}

// TestDocs runs every ```sh block of docs/*.md with bash, each file's
// blocks in order in one empty directory, with this test binary on PATH as
// svcgen (TestMain). A block that exits non-zero fails the test.
// README.md is not run: its blocks install svcgen and start long jobs.
func TestDocs(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	if _, err := exec.LookPath("svcgen"); err != nil {
		t.Fatalf("svcgen is not on PATH (TestMain puts this test binary there): %v", err)
	}
	docs, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("no docs/*.md found")
	}
	goEnv := goEnvironment(t)
	for _, doc := range docs {
		t.Run(filepath.Base(doc), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(doc)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			env := os.Environ()
			for k, v := range goEnv {
				env = append(env, k+"="+v)
			}
			for _, b := range shBlocks(src) {
				cmd := exec.CommandContext(t.Context(), bash, "-euo", "pipefail", "-c", b.text)
				cmd.Dir = dir
				cmd.Env = env
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%s:%d: %v\n--- block\n%s--- output\n%s", filepath.ToSlash(doc), b.line, err, b.text, out)
				}
			}
		})
	}
}
