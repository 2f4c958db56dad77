package generator

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
)

// ResolveFeatures applies overrides ("+a", "-b", or "a" meaning "+a") to the
// preset's feature list and closes it over requires; errors name the unknown
// feature with a did-you-mean, a feature both added and removed, a feature
// that cannot go, and conflicts.
func (c *Catalog) ResolveFeatures(preset *Preset, overrides []string) ([]string, error) {
	if err := CheckFeatureFlag(overrides); err != nil {
		return nil, err
	}
	on := map[string]bool{}
	for _, f := range preset.Features {
		on[f] = true
	}
	removed := map[string]bool{}
	for _, raw := range overrides {
		o, add := splitOverride(raw)
		if o == "" {
			continue
		}
		if _, ok := c.features[o]; !ok {
			return nil, fmt.Errorf("unknown feature %q%s (see `svcgen presets show %s` for the features)", o, suggest(o, c.featureNames()), preset.Name)
		}
		on[o] = add
		removed[o] = !add
	}
	wanted := maps.Clone(on)
	// Close over requires, including the base's and the starter's.
	required := map[string]string{}
	var visit func(name, by string) error
	visit = func(name, by string) error {
		if !on[name] && removed[name] {
			return c.cannotRemove(preset, name, by, wanted)
		}
		if _, seen := required[name]; seen && on[name] {
			return nil
		}
		on[name] = true
		required[name] = by
		for _, r := range c.features[name].Requires {
			if err := visit(r, name); err != nil {
				return err
			}
		}
		return nil
	}
	for _, s := range []*Feature{c.base, c.starters[preset.Starter]} {
		if s == nil {
			continue
		}
		for _, r := range s.Requires {
			if err := visit(r, s.dir); err != nil {
				return nil, err
			}
		}
	}
	for _, name := range sortedKeys(on) {
		if on[name] {
			if err := visit(name, name); err != nil {
				return nil, err
			}
		}
	}
	var out []string
	for _, name := range sortedKeys(on) {
		if on[name] {
			out = append(out, name)
		}
	}
	for _, name := range out {
		for _, x := range c.features[name].Conflicts {
			if on[x] {
				return nil, fmt.Errorf("features %q and %q cannot be combined; remove one with --features -%s", name, x, x)
			}
		}
	}
	return out, nil
}

// baseNeeds says, for the features the base template requires, why no
// service can go without them and what can be done instead.
var baseNeeds = map[string]struct{ why, instead string }{
	"ogen": {
		why:     "every service serves its API through ogen's generated server",
		instead: "for a service that serves no API operations, keep ogen and give it an OpenAPI document whose paths are empty (paths: {}): --spec FILE for svcgen new, api/openapi.yaml for regen",
	},
	"servemux": {
		why:     "every service serves its API, /healthz and /readyz on the standard http.ServeMux",
		instead: "nothing replaces it; keep it",
	},
}

// cannotRemove is the error for a removed feature that by needs: another
// feature, the base template or a starter API.
func (c *Catalog) cannotRemove(preset *Preset, name, by string, wanted map[string]bool) error {
	switch {
	case by == baseDir:
		need, ok := baseNeeds[name]
		if !ok {
			need.why, need.instead = "every service is built on it", "keep it"
		}
		return fmt.Errorf("feature %q cannot be removed: %s (the base template needs it); %s", name, need.why, need.instead)
	case by == path.Join(startersDir, BlankStarter):
		return fmt.Errorf("feature %q cannot be removed: the store of a service from its own spec (internal/store) is built on it; keep it", name)
	case strings.HasPrefix(by, startersDir+"/"):
		msg := fmt.Sprintf("feature %q cannot be removed from preset %s: its starter API (%s) is built on it; keep it", name, preset.Name, path.Base(by))
		if blank := c.starters[BlankStarter]; blank != nil && !slices.Contains(blank.Requires, name) {
			msg += ", or generate the service from your own OpenAPI document (svcgen new --spec FILE), which goes without that starter"
		} else {
			msg += " (a service from its own spec needs it too)"
		}
		return errors.New(msg)
	}
	// Every wanted feature that needs it, directly or through another.
	var needs func(f string, seen map[string]bool) bool
	needs = func(f string, seen map[string]bool) bool {
		if seen[f] {
			return false
		}
		seen[f] = true
		for _, r := range c.features[f].Requires {
			if r == name || needs(r, seen) {
				return true
			}
		}
		return false
	}
	var by2 []string
	for _, f := range sortedKeys(wanted) {
		if wanted[f] && f != name && needs(f, map[string]bool{}) {
			by2 = append(by2, f)
		}
	}
	if len(by2) == 0 {
		by2 = []string{by}
	}
	quoted := make([]string, len(by2))
	flags := make([]string, 0, len(by2)+1)
	for i, f := range by2 {
		quoted[i] = strconv.Quote(f)
		flags = append(flags, "-"+f)
	}
	flags = append(flags, "-"+name)
	return fmt.Errorf("feature %q is needed by %s; keep it, or remove those too (%s)", name, strings.Join(quoted, ", "), strings.Join(flags, ","))
}

// splitOverride returns the feature an override names and whether it adds
// it ("+a" and "a" add, "-a" removes).
func splitOverride(raw string) (string, bool) {
	o := strings.TrimSpace(raw)
	switch {
	case strings.HasPrefix(o, "+"):
		return o[1:], true
	case strings.HasPrefix(o, "-"):
		return o[1:], false
	}
	return o, true
}

// CheckFeatureFlag refuses overrides that contradict themselves: a sign
// without a name, or a feature both added and removed.
func CheckFeatureFlag(overrides []string) error {
	given := map[string]bool{}
	for _, raw := range overrides {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		o, add := splitOverride(raw)
		if o == "" {
			return fmt.Errorf("%q names no feature: write +name to add one, -name to remove one", raw)
		}
		if prev, ok := given[o]; ok && prev != add {
			return fmt.Errorf("feature %q is both added (+%s) and removed (-%s): keep the one you mean", o, o, o)
		}
		given[o] = add
	}
	return nil
}

// ParseFeatureFlag splits a --features value "+cache3,-pool" into its items.
func ParseFeatureFlag(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, f)
	}
	return out
}

// MergeFeatureOverrides adds later feature changes to earlier ones: for each
// feature the last "+name" or "-name" wins. The result is sorted, so
// regenerating with the same change twice records it once.
func MergeFeatureOverrides(earlier, later []string) []string {
	sign := map[string]string{}
	for _, o := range slices.Concat(earlier, later) {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
			continue
		case o[0] == '+' || o[0] == '-':
			sign[o[1:]] = o[:1]
		default:
			sign[o] = "+"
		}
	}
	out := make([]string, 0, len(sign))
	for _, name := range sortedKeys(sign) {
		out = append(out, sign[name]+name)
	}
	return out
}

// ApplyFeatureOverrides applies overrides ("+a", "-b", or "a" meaning "+a",
// as splitOverride reads them) to a feature list, keeping its order and
// adding new features at the end. Unlike ResolveFeatures it checks nothing
// and does not close over requires: it is the list a user sees checked.
func ApplyFeatureOverrides(features, overrides []string) []string {
	out := slices.Clone(features)
	for _, raw := range overrides {
		name, add := splitOverride(raw)
		switch {
		case name == "":
		case !add:
			out = slices.DeleteFunc(out, func(f string) bool { return f == name })
		case !slices.Contains(out, name):
			out = append(out, name)
		}
	}
	return out
}

// FeatureOverrides returns the overrides that turn the feature list from
// into to: "+x" for each added feature, then "-y" for each removed one,
// each group sorted. ApplyFeatureOverrides(from, FeatureOverrides(from,
// to)) holds the features of to.
func FeatureOverrides(from, to []string) []string {
	var add, del []string
	for _, f := range to {
		if !slices.Contains(from, f) {
			add = append(add, "+"+f)
		}
	}
	for _, f := range from {
		if !slices.Contains(to, f) {
			del = append(del, "-"+f)
		}
	}
	slices.Sort(add)
	slices.Sort(del)
	return append(add, del...)
}
