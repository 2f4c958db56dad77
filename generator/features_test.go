package generator

import (
	"slices"
	"testing"
)

func TestFeatureOverrides(t *testing.T) {
	for _, tc := range []struct {
		from, to, want []string
	}{
		{[]string{"a", "b"}, []string{"a", "b"}, nil},
		{[]string{"a", "b"}, []string{"b", "a"}, nil},
		{[]string{"a", "b"}, []string{"a", "d", "c"}, []string{"+c", "+d", "-b"}},
		{nil, []string{"x"}, []string{"+x"}},
		{[]string{"x"}, nil, []string{"-x"}},
	} {
		if got := FeatureOverrides(tc.from, tc.to); !slices.Equal(got, tc.want) {
			t.Errorf("FeatureOverrides(%q, %q) = %q, want %q", tc.from, tc.to, got, tc.want)
		}
		// The overrides applied to from give to back.
		got := ApplyFeatureOverrides(tc.from, FeatureOverrides(tc.from, tc.to))
		slices.Sort(got)
		want := slices.Clone(tc.to)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("ApplyFeatureOverrides(%q, diff) = %q, want %q", tc.from, got, want)
		}
	}
}

func TestApplyFeatureOverrides(t *testing.T) {
	got := ApplyFeatureOverrides([]string{"a", "b", "c"}, []string{"-b", "+d", "e", "+a", "-zz", " +f ", "+"})
	if want := []string{"a", "c", "d", "e", "f"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The wizard's overrides, recorded, resolve to the features it showed.
func TestFeatureOverridesResolve(t *testing.T) {
	cat, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	p, err := cat.Preset("read-heavy")
	if err != nil {
		t.Fatal(err)
	}
	chosen := ApplyFeatureOverrides(p.Features, []string{"-pgo", "+pool"})
	over := FeatureOverrides(p.Features, chosen)
	if want := []string{"+pool", "-pgo"}; !slices.Equal(over, want) {
		t.Fatalf("FeatureOverrides = %q, want %q", over, want)
	}
	got, err := cat.ResolveFeatures(p, over)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, "pool") || slices.Contains(got, "pgo") {
		t.Errorf("ResolveFeatures(%q) = %q: want pool and no pgo", over, got)
	}
	if merged := MergeFeatureOverrides(nil, over); !slices.Equal(merged, []string{"-pgo", "+pool"}) {
		t.Errorf("MergeFeatureOverrides(nil, %q) = %q", over, merged)
	}
}
