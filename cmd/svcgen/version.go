package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print svcgen's version and the Go it was built with",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(e.stdout, "svcgen %s\n", generator.Version)
			fmt.Fprintf(e.stdout, "go     %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			if bi, ok := debug.ReadBuildInfo(); ok {
				var rev, modified string
				for _, s := range bi.Settings {
					switch s.Key {
					case "vcs.revision":
						rev = s.Value
					case "vcs.modified":
						if s.Value == "true" {
							modified = " (modified)"
						}
					}
				}
				if rev != "" {
					fmt.Fprintf(e.stdout, "commit %s%s\n", rev, modified)
				}
			}
			return nil
		},
	}
}
