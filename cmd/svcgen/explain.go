package main

import (
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/templates"
)

func newExplainCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "explain [FEATURE]",
		Short: "Explain what a feature solves, what it generates and how to see it working",
		Long: `Without an argument, list the features with their summaries. With one,
print what the feature solves (with the numbers svcgen's benchmarks
measured), the files it generates, the preset parameters that tune it and
how to see it working.`,
		Example: `  svcgen explain
  svcgen explain cache3`,
		Args: maxArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			cat, err := generator.LoadCatalog("")
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			var names []string
			for _, f := range cat.Features() {
				names = append(names, f.Name+"\t"+f.Summary)
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, args []string) error {
			cat, err := generator.LoadCatalog("")
			if err != nil {
				return err
			}
			if len(args) == 0 {
				return listFeatures(e, cat)
			}
			f, err := cat.Feature(args[0])
			if err != nil {
				return err
			}
			return explainFeature(e, cat, f)
		},
	}
}

func listFeatures(e *env, cat *generator.Catalog) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tSUMMARY")
	for _, f := range cat.Features() {
		fmt.Fprintf(tw, "%s\t%s\n", f.Name, f.Summary)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "\nRun 'svcgen explain FEATURE' for what a feature solves, its files and parameters.")
	return nil
}

// explainFeature prints the feature's explain.md between facts computed from
// the template tree and the catalog, so the file lists cannot drift.
func explainFeature(e *env, cat *generator.Catalog, f *generator.Feature) error {
	w := e.stdout
	fmt.Fprintf(w, "%s: %s\n\n", f.Name, f.Summary)
	if f.Explain != "" {
		fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(f.Explain))
	}

	own, err := featureFiles(templates.FS, f.Name)
	if err != nil {
		return err
	}
	if len(own) > 0 {
		fmt.Fprintf(w, "Files (templates/%s):\n", f.Name)
		for _, p := range own {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if len(f.Scaffold) > 0 {
		fmt.Fprintf(w, "Written once, then yours: %s\n", strings.Join(f.Scaffold, ", "))
	}
	others, err := filesMentioning(templates.FS, f.Name)
	if err != nil {
		return err
	}
	if len(others) > 0 {
		fmt.Fprintln(w, "Also changes, when enabled:")
		for _, p := range others {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}

	if key := featureParams(f.Name); key != "" {
		defaults, err := cat.Defaults(f.Name)
		if err != nil {
			return err
		}
		fields, err := generator.ParamFields(defaults, key)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Parameters (params.%s in a preset; the default of each field it leaves out): %s\n",
			key, strings.Join(fields, ", "))
	}
	if len(f.Requires) > 0 {
		fmt.Fprintf(w, "Requires: %s\n", strings.Join(f.Requires, ", "))
	}
	var in []string
	for _, p := range cat.Presets() {
		if slices.Contains(p.Features, f.Name) {
			in = append(in, p.Name)
		}
	}
	if len(in) > 0 {
		fmt.Fprintf(w, "In presets: %s\n", strings.Join(in, ", "))
	} else {
		fmt.Fprintf(w, "In presets: none (add with --features +%s)\n", f.Name)
	}
	return nil
}

// featureFiles lists the output paths of a feature folder's templates.
func featureFiles(fsys fs.FS, dir string) ([]string, error) {
	var out []string
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(p, dir+"/")
		if rel == "feature.yaml" || rel == "explain.md" {
			return nil
		}
		out = append(out, displayPath(rel))
		return nil
	})
	slices.Sort(out)
	return out, err
}

// filesMentioning lists the output paths of the templates outside the
// feature's folder that change with it ({{if .Feature "name"}}).
func filesMentioning(fsys fs.FS, name string) ([]string, error) {
	needle := []byte(`Feature "` + name + `"`)
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == name {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.Contains(p, "/") || path.Base(p) == "explain.md" || path.Base(p) == "feature.yaml" {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), string(needle)) {
			// Drop the folder: base/..., starters/<starter>/... or <feature>/...
			rel := p
			if strings.HasPrefix(rel, "starters/") {
				rel = strings.SplitN(rel, "/", 3)[2]
			} else {
				rel = strings.SplitN(rel, "/", 2)[1]
			}
			rel = strings.TrimPrefix(rel, "ops/")
			out = append(out, displayPath(rel))
		}
		return nil
	})
	slices.Sort(out)
	return slices.Compact(out), err
}

// displayPath is a template path as the output path it becomes, with the
// per-service and per-operation parts left as placeholders.
func displayPath(rel string) string {
	rel = strings.TrimSuffix(rel, ".tmpl")
	parts := strings.Split(rel, "/")
	for i, p := range parts {
		p = strings.ReplaceAll(p, "__name__", "<name>")
		p = strings.ReplaceAll(p, "__op__", "<operation>")
		if strings.HasPrefix(p, "_dot_") {
			p = "." + strings.TrimPrefix(p, "_dot_")
		}
		parts[i] = p
	}
	return strings.Join(parts, "/")
}

// featureParams returns the key under params: that tunes a feature, read
// from generator.Params' yaml tags, or "" when none does.
func featureParams(feature string) string {
	key := feature
	if feature == "servemux" {
		key = "server"
	}
	t := reflect.TypeFor[generator.Params]()
	for i := range t.NumField() {
		if yamlName(t.Field(i)) == key {
			return key
		}
	}
	return ""
}

func yamlName(f reflect.StructField) string {
	return strings.Split(f.Tag.Get("yaml"), ",")[0]
}
