//go:build !no_pprof

package server_test

import "testing"

// checkPprof: the admin mux at base serves the profiles.
func checkPprof(t *testing.T, base string) {
	t.Helper()
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/symbol", "/debug/pprof/heap?debug=1", "/debug/pprof/goroutine?debug=1"} {
		if code, _ := get(t, base+p); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
	if code, _ := get(t, base+"/debug/pprof/profile?seconds=1"); code != 200 {
		t.Errorf("profile: %d", code)
	}
	if code, _ := get(t, base+"/debug/pprof/trace?seconds=0.1"); code != 200 {
		t.Errorf("trace: %d", code)
	}
}
