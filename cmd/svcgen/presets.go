package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/svcgen/svcgen/generator"
)

func newPresetsCmd(e *env) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "presets",
		Short: "List the presets",
		Long: `List the presets a service can start from: the embedded ones and, with
--presets-dir, a team's own.`,
		Args: subcommandsOnly,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cat, err := generator.LoadCatalog(dir)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSTARTER\tDESCRIPTION")
			for _, p := range cat.Presets() {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Name, p.Starter, p.Description)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "\nRun 'svcgen presets show NAME' for a preset's features and parameters.")
			return nil
		},
	}
	cmd.PersistentFlags().StringVar(&dir, "presets-dir", "", "directory of extra preset YAML files")
	_ = cmd.MarkPersistentFlagDirname("presets-dir")

	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a preset's features and parameters",
		Args:  exactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			cat, err := generator.LoadCatalog(dir)
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			var names []string
			for _, p := range cat.Presets() {
				names = append(names, p.Name+"\t"+p.Description)
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := generator.LoadCatalog(dir)
			if err != nil {
				return err
			}
			p, err := cat.Preset(args[0])
			if err != nil {
				return err
			}
			return showPreset(e, cat, p)
		},
	}
	cmd.AddCommand(show)
	return cmd
}

func showPreset(e *env, cat *generator.Catalog, p *generator.Preset) error {
	w := e.stdout
	fmt.Fprintf(w, "%s: %s\n", p.Name, p.Description)
	if p.Starter != "" {
		fmt.Fprintf(w, "starter API: %s\n", p.Starter)
	}
	if p.Source != "" {
		fmt.Fprintf(w, "source: %s\n", p.Source)
	}

	fmt.Fprintln(w, "\nfeatures:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var others []string
	for _, f := range cat.Features() {
		if slices.Contains(p.Features, f.Name) {
			fmt.Fprintf(tw, "  %s\t%s\n", f.Name, f.Summary)
		} else {
			others = append(others, f.Name)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(others) > 0 {
		fmt.Fprintf(w, "not included (add with --features +NAME): %s\n", strings.Join(others, ", "))
	}

	// The params a service of this preset gets: its features' defaults
	// with the preset's own values over them.
	features, err := cat.ResolveFeatures(p, nil)
	if err != nil {
		return err
	}
	merged, err := cat.Params(p, features)
	if err != nil {
		return err
	}
	var params strings.Builder
	enc := yaml.NewEncoder(&params)
	enc.SetIndent(2)
	if err := enc.Encode(merged); err != nil {
		return fmt.Errorf("print params of %s: %w", p.Name, err)
	}
	fmt.Fprintln(w, "\nparams (the preset's, and its features' defaults for what it leaves out):")
	for _, line := range strings.SplitAfter(strings.TrimRight(params.String(), "\n"), "\n") {
		fmt.Fprint(w, "  "+line)
	}
	fmt.Fprintln(w)
	return nil
}
