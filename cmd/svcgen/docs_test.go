package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// shBlock is one ```sh block of a Markdown file.
type shBlock struct {
	line  int // of the opening fence
	text  string
	attrs map[string]string
}

// Block attributes, after the language on the opening fence
// (```sh dir=repo run="./scripts/test.sh -run TestSchemas ./generator"):
//
//	dir=repo   run the block in the repository's root instead of the
//	           document's scratch directory (for go install ./cmd/svcgen)
//	run="CMD"  run CMD instead of the block: for a block that runs this
//	           very test (./scripts/test.sh); CMD exercises the same script
//	           on a small part of the suite. Logged, never silent.
var knownAttrs = map[string]bool{"dir": true, "run": true}

// shBlocks returns the ```sh blocks of a Markdown document in order.
func shBlocks(doc []byte) ([]shBlock, error) {
	var out []shBlock
	var cur *shBlock
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && (trimmed == "```sh" || strings.HasPrefix(trimmed, "```sh ")):
			attrs, err := fenceAttrs(strings.TrimPrefix(trimmed, "```sh"))
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			cur = &shBlock{line: n, attrs: attrs}
		case cur == nil && (strings.HasPrefix(trimmed, "```bash") || strings.HasPrefix(trimmed, "```shell") || strings.HasPrefix(trimmed, "```console")):
			return nil, fmt.Errorf("line %d: %s: use ```sh so the block runs", n, trimmed)
		case cur != nil && trimmed == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: the sh block is not closed", cur.line)
	}
	return out, nil
}

// fenceAttrs parses key=value and key="value with spaces" words.
func fenceAttrs(s string) (map[string]string, error) {
	attrs := map[string]string{}
	s = strings.TrimSpace(s)
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("block attribute %q: want key=value", s)
		}
		key, rest := s[:eq], s[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("block attribute %s: unterminated quote", key)
			}
			val, rest = rest[1:end+1], rest[end+2:]
		} else {
			end := strings.IndexFunc(rest, unicode.IsSpace)
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
		}
		if !knownAttrs[key] {
			return nil, fmt.Errorf("unknown block attribute %q (known: dir, run)", key)
		}
		attrs[key] = val
		s = strings.TrimSpace(rest)
	}
	return attrs, nil
}

// docsPrelude runs before every block. `make run` starts a long-lived
// server: it is started in the background in its own process group,
// waited for on /healthz (HTTP_PORT, default 8080; the port must be free)
// and the whole group is stopped when the block ends.
const docsPrelude = `
make() {
	if [ "$#" -eq 1 ] && [ "$1" = run ]; then
		port="${HTTP_PORT:-8080}"
		if curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; then
			echo "docs: port $port is taken by another process; make run needs it free" >&2
			return 1
		fi
		set -m
		command make run > "$DOCS_LOGS/make-run.$$.log" 2>&1 &
		set +m
		DOCS_BG="$DOCS_BG $!"
		for _ in $(seq 600); do
			curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && return 0
			if ! kill -0 "$!" 2>/dev/null; then
				echo "docs: make run stopped:" >&2; cat "$DOCS_LOGS/make-run.$$.log" >&2; return 1
			fi
			sleep 0.1
		done
		echo "docs: make run did not answer /healthz on :$port within 60s" >&2
		return 1
	fi
	command make "$@"
}
DOCS_BG=""
trap 'for p in $DOCS_BG; do kill -INT -- "-$p" 2>/dev/null || true; sleep 1; kill -KILL -- "-$p" 2>/dev/null || true; done' EXIT
`

// TestDocs runs every ```sh block of README.md and of the Markdown files
// under docs/ with bash, each file's blocks in order in one scratch
// directory (dir=repo: the repository's root), with this test binary on
// PATH as svcgen (TestMain), GOPATH in the scratch directory and the go
// command's caches shared. A block that exits non-zero fails the test.
func TestDocs(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is not on PATH: the doc blocks run with bash (apt-get install bash)")
	}
	for _, tool := range []string{"curl", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH: the doc blocks use it (apt-get install %s)", tool, tool)
		}
	}
	if _, err := exec.LookPath("svcgen"); err != nil {
		t.Fatalf("svcgen is not on PATH (TestMain puts this test binary there): %v", err)
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	docs := []string{filepath.Join(repo, "README.md")}
	err = filepath.WalkDir(filepath.Join(repo, "docs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			docs = append(docs, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	goEnv := goEnvironment(t)
	for _, doc := range docs {
		rel, _ := filepath.Rel(repo, doc)
		rel = filepath.ToSlash(rel)
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(doc)
			if err != nil {
				t.Fatal(err)
			}
			blocks, err := shBlocks(src)
			if err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			if len(blocks) == 0 && strings.HasPrefix(rel, "docs/") {
				t.Fatalf("%s has no sh block: every guide shows its commands", rel)
			}
			dir := t.TempDir()
			logs := t.TempDir()
			env := os.Environ()
			for k, v := range goEnv {
				env = append(env, k+"="+v)
			}
			// A database of its own: the blocks run migrations.
			db, err := freshDatabase(envOr("SVCGEN_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
				"svcgen_docs_"+strings.Map(func(r rune) rune {
					if unicode.IsLetter(r) || unicode.IsDigit(r) {
						return unicode.ToLower(r)
					}
					return '_'
				}, strings.TrimSuffix(rel, ".md")))
			if err != nil {
				t.Fatal(err)
			}
			env = append(env, "GOPATH="+filepath.Join(dir, ".gopath"), "TMPDIR="+t.TempDir(), "DOCS_LOGS="+logs,
				"DATABASE_URL="+db,
				"REDIS_URL="+envOr("SVCGEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
			for _, b := range blocks {
				text, wd := b.text, dir
				if b.attrs["dir"] == "repo" {
					wd = repo
				} else if d, ok := b.attrs["dir"]; ok {
					t.Fatalf("%s:%d: dir=%s: the only value is repo", rel, b.line, d)
				}
				if r, ok := b.attrs["run"]; ok {
					t.Logf("%s:%d: runs %q in place of the block (the block runs this test itself)", rel, b.line, r)
					text = r + "\n"
				}
				cmd := exec.CommandContext(t.Context(), bash, "-euo", "pipefail", "-c", docsPrelude+text)
				cmd.Dir = wd
				cmd.Env = env
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%s:%d: %v\n--- block\n%s--- output\n%s", rel, b.line, err, b.text, out)
				}
			}
		})
	}
}
