package pgtest

import (
	"errors"
	"strings"
	"testing"
)

func TestDBName(t *testing.T) {
	long := strings.Repeat("VeryLongSubtestName/", 10)
	seen := map[string]bool{}
	for _, test := range []string{"TestX", "TestX", "TestStore/GET_by-id#01", long, "Ünïcode/…"} {
		n := dbName(test)
		if len(n) > maxName || !strings.HasPrefix(n, "test_") || seen[n] {
			t.Errorf("dbName(%q) = %q: want test_..., unique, at most %d bytes", test, n, maxName)
		}
		seen[n] = true
		for _, c := range n {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
				t.Errorf("dbName(%q) = %q has %q", test, n, c)
			}
		}
	}
	if n := dbName("TestStore/GET_by-id#01"); !strings.HasPrefix(n, "test_teststore_get_by_id_01_") {
		t.Errorf("dbName = %q", n)
	}
}

// TestUnreachable: the failure says where it looked, hides the password
// and says how to start a server.
func TestUnreachable(t *testing.T) {
	msg := unreachable("postgres://app:s3cret@db.internal:5432/postgres", errors.New("connection refused"))
	for _, want := range []string{"db.internal:5432", "connection refused", "docker compose up -d postgres", "SVCGEN_TEST_PG_URL", "DATABASE_URL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "s3cret") {
		t.Errorf("message shows the password:\n%s", msg)
	}
	if msg := unreachable("host=db password=s3cret", errors.New("x")); strings.Contains(msg, "s3cret") {
		t.Errorf("message shows a DSN's password:\n%s", msg)
	}
}
