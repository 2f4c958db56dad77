package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTutorialOnTerminal walks the first step of svcgen tutorial on a
// pseudo-terminal: the step is shown, a check before the step is done says
// what is missing, the check after it passes and the next step is shown;
// stopping keeps the position and the next run resumes there.
func TestTutorialOnTerminal(t *testing.T) {
	work := t.TempDir()
	args := []string{"tutorial", "--dir", "tut-svc", "--preset", "hot-path", "--http-port", "18391", "--admin-port", "18392"}
	tm := startTerm(t, work, args...)
	tm.expect(`Step 1 of 10: Generate a service`)
	tm.expect(`svcgen new tut-svc --preset hot-path --module example.com/tut-svc --out tut-svc --yes --http-port 18391 --admin-port 18392`)
	tm.expect(`I ran it: check the step`)
	tm.send(keyEnter)
	tm.expect(`missing: tut-svc/\.svcgen\.yaml does not exist`)

	// The newcomer runs the step's command in another terminal.
	cmd := exec.Command("svcgen", "new", "tut-svc", "--preset", "hot-path", "--module", "example.com/tut-svc",
		"--out", "tut-svc", "--yes", "--no-tidy", "--http-port", "18391", "--admin-port", "18392")
	cmd.Dir = work
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("svcgen new: %v\n%s", err, out)
	}
	tm.expect(`I ran it: check the step`)
	tm.send(keyEnter)
	tm.expect(`✓ +1\. Generate a service`)
	tm.expect(`Step 2 of 10: Run its tests`)
	tm.expect(`Stop here`)
	tm.send(keyDown + keyDown)
	tm.send(keyEnter)
	tm.expect(`Progress kept; continue with: svcgen tutorial --dir tut-svc`)
	if code := tm.wait(); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	data, err := os.ReadFile(filepath.Join(work, "tut-svc", progressFile))
	if err != nil {
		t.Fatal(err)
	}
	var p progress
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	if p.Next != 2 || p.Preset != "hot-path" || p.To != "read-heavy" {
		t.Fatalf("progress = %+v, want next 2, preset hot-path, to read-heavy", p)
	}

	// Resumed: step 1 is checked again, step 2 is shown.
	tm = startTerm(t, work, "tutorial", "--dir", "tut-svc")
	tm.expect(`✓ +1\. Generate a service`)
	tm.expect(`Step 2 of 10: Run its tests`)
	tm.expect(`I ran it: check the step`)
	tm.send(keyCtrlC)
	if code := tm.wait(); code != exitInterrupted {
		t.Fatalf("exit status %d after Ctrl-C, want %d", code, exitInterrupted)
	}
}

func TestSumMetric(t *testing.T) {
	exp := []byte(`# HELP svc_cache_hits_total Cache lookups answered by the tier.
# TYPE svc_cache_hits_total counter
svc_cache_hits_total{cache="items",tier="l1"} 3
svc_cache_hits_total{cache="items",tier="l2"} 1.5
svc_cache_hits_total_other 100
svc_matview_refreshes_total{result="ok",view="leaderboard"} 2
svc_matview_refreshes_total{result="error",view="leaderboard"} 7
svc_db_pool_acquires_total 21
`)
	for _, c := range []struct {
		metric, label string
		want          float64
	}{
		{"svc_cache_hits_total", "", 4.5},
		{"svc_matview_refreshes_total", `result="ok"`, 2},
		{"svc_db_pool_acquires_total", "", 21},
		{"svc_cache_misses_total", "", 0},
	} {
		if got := sumMetric(exp, c.metric, c.label); got != c.want {
			t.Errorf("sumMetric(%s, %q) = %g, want %g", c.metric, c.label, got, c.want)
		}
	}
}
