package generator

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
)

// linePlaceholder is the template function line: {{line "cmd/x/main.go"
// "dbpool"}} becomes the number of the line of that output file holding the
// comment "Explain dbpool:". The number is filled in after every file is
// rendered and formatted (resolveLines), so links in README.md and
// TUTORIAL.md point at the right line whatever the templates become.
func linePlaceholder(path, key string) string {
	return "@@line:" + path + "#" + key + "@@"
}

var lineRe = regexp.MustCompile(`@@line:([^#@]+)#([^@]+)@@`)

// resolveLines replaces the line placeholders of every rendered file. A
// placeholder whose file or comment does not exist is a template bug.
func resolveLines(jobs []renderJob) error {
	out := map[string][]byte{}
	for _, j := range jobs {
		if !j.skip {
			out[j.out] = j.content
		}
	}
	for i := range jobs {
		j := &jobs[i]
		if j.skip || !bytes.Contains(j.content, []byte("@@line:")) {
			continue
		}
		var err error
		j.content = lineRe.ReplaceAllFunc(j.content, func(m []byte) []byte {
			sub := lineRe.FindSubmatch(m)
			file, key := string(sub[1]), string(sub[2])
			n := ExplainLine(out[file], key)
			if n == 0 && err == nil {
				err = fmt.Errorf("templates/%s: line %q %q: %s has no line with %q", j.tmpl, file, key, file, "Explain "+key+":")
			}
			return []byte(strconv.Itoa(n))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ExplainLine returns the 1-based number of the first line of content
// holding "Explain KEY:", or 0.
func ExplainLine(content []byte, key string) int {
	mark := []byte("Explain " + key + ":")
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		if bytes.Contains(sc.Bytes(), mark) {
			return n
		}
	}
	return 0
}
