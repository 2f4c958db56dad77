package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/svcgen/svcgen/generator"
)

// expandCheckDirs turns check's arguments into service directories: a
// directory holding services below it (a fleet) stands for them; any other
// argument is kept, so it is reported as the service it is not.
func expandCheckDirs(args []string) []string {
	var out []string
	for _, a := range args {
		if _, err := os.Stat(filepath.Join(a, generator.ManifestPath)); err == nil {
			out = append(out, a)
			continue
		}
		found, err := generator.FindServices(a)
		if err != nil || len(found) == 0 {
			out = append(out, a)
			continue
		}
		out = append(out, found...)
	}
	return out
}

// runCheckJSON prints the drift report of the services in dirs as one JSON
// document (schema/check.schema.json); it fails, as check does, when any
// service drifted, would conflict or could not be checked.
func runCheckJSON(ctx context.Context, e *env, cat *generator.Catalog, dirs []string) error {
	rep := generator.CheckReport{Svcgen: generator.Version, Services: generator.CheckServices(ctx, cat, dirs)}
	rep.Summarize()
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return err
	}
	if bad := rep.Summary.Services - rep.Summary.UpToDate; bad > 0 {
		return fmt.Errorf("%d of %d service(s) drifted, would conflict or could not be checked (the JSON report says which and why); run svcgen regen in each", bad, len(dirs))
	}
	return nil
}
