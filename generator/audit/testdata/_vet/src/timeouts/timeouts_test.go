package timeouts

import (
	"net/http"
	"testing"
)

// Test files are not the code that serves: nothing here is reported.
func TestFetch(t *testing.T) {
	if _, err := http.Get("http://127.0.0.1:1/"); err == nil {
		t.Skip("something listens on port 1")
	}
}
