package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
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

	own, err := cat.FeatureFiles(f.Name)
	if err != nil {
		return err
	}
	if len(own) > 0 {
		from := "templates/" + f.Name
		for _, pkg := range f.Packages {
			from += ", platform/" + pkg
		}
		fmt.Fprintf(w, "Files (%s):\n", from)
		for _, p := range own {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if len(f.Scaffold) > 0 {
		fmt.Fprintf(w, "Written once, then yours: %s\n", strings.Join(f.Scaffold, ", "))
	}
	others, err := cat.FilesMentioning(f.Name)
	if err != nil {
		return err
	}
	if len(others) > 0 {
		fmt.Fprintln(w, "Also changes, when enabled:")
		for _, p := range others {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}

	key, err := cat.FeatureParams(f.Name)
	if err != nil {
		return err
	}
	if key != "" {
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
	if in := cat.PresetsWith(f.Name); len(in) > 0 {
		fmt.Fprintf(w, "In presets: %s\n", strings.Join(in, ", "))
	} else {
		fmt.Fprintf(w, "In presets: none (add with --features +%s)\n", f.Name)
	}
	return nil
}
