package generator

import (
	"fmt"
	"io"
	"reflect"
	"strings"
)

var errIOEOF = io.EOF

// suggest returns ` (did you mean "x"?)` for the closest candidate within a
// small edit distance, or "".
func suggest(got string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(got), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(got)/3) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Damerau-Levenshtein distance (with adjacent swaps),
// so "cahce" is one step from "cache".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// yamlTypes are the types users write in YAML, by the name yaml.v3 gives
// them in its errors.
var yamlTypes = []any{Preset{}, Params{}, ServerParams{}, TimeoutParams{}, DBPoolParams{}, PoolParams{}, PartitionParams{}, MatviewParams{}, Cache3Params{}, CompressionParams{}, RealtimeParams{}, BatchParams{}, ObservabilityParams{}, Options{}, Feature{}, Module{}}

// yamlFields lists the YAML keys of a type named like "generator.Params".
func yamlFields(typeName string) []string {
	for _, v := range yamlTypes {
		t := reflect.TypeOf(v)
		if t.String() != typeName {
			continue
		}
		var out []string
		for i := range t.NumField() {
			tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
			if tag != "" && tag != "-" {
				out = append(out, tag)
			}
		}
		return out
	}
	return nil
}
