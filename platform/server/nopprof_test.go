//go:build no_pprof

package server_test

import "testing"

// checkPprof: without the pprof feature the admin mux at base serves no
// profiles.
func checkPprof(t *testing.T, base string) {
	t.Helper()
	if code, _ := get(t, base+"/debug/pprof/"); code != 404 {
		t.Errorf("/debug/pprof/ without the pprof feature: %d, want 404", code)
	}
}
