package profiling_test

import (
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"go.uber.org/goleak"

	"github.com/svcgen/svcgen/platform/profiling"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOffWithoutAddress(t *testing.T) {
	defer goleak.VerifyNone(t) // nothing may have started
	stop, err := profiling.Start(profiling.Config{AppName: "svc"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestNeedsAppName(t *testing.T) {
	if _, err := profiling.Start(profiling.Config{ServerAddress: "http://127.0.0.1:1"}, nil); err == nil {
		t.Error("Start without AppName succeeded")
	}
}

// TestPushes starts the profiler against a local HTTP listener that takes
// the pushes as Pyroscope's /ingest does, parses every pushed body as a
// pprof profile and checks that a CPU profile with CPU samples and
// allocation profiles with allocation samples arrive.
func TestPushes(t *testing.T) {
	var (
		mu      sync.Mutex
		got     = map[string]int64{} // sample type -> sum of its values over the pushes
		badPush error
	)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ingest" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseMultipartForm(10 << 20); err != nil || r.MultipartForm.File["profile"] == nil {
			http.Error(w, "want a multipart profile", http.StatusBadRequest)
			return
		}
		f, err := r.MultipartForm.File["profile"][0].Open()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer f.Close()
		p, err := profile.Parse(f) // gzipped or not
		if err == nil {
			err = p.CheckValid()
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			badPush = fmt.Errorf("pushed profile %s: %w", r.URL.Query().Get("name"), err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for i, st := range p.SampleType {
			for _, s := range p.Sample {
				got[st.Type+"/"+st.Unit] += s.Value[i]
			}
		}
	}))
	defer ts.Close()

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	stop, err := profiling.Start(profiling.Config{
		ServerAddress: ts.URL, AppName: "svc", Tags: map[string]string{"env": "test"}, UploadRate: 200 * time.Millisecond,
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	// Sample types whose values must add up to more than zero: CPU time
	// from the CPU profiler, allocations from the heap profiler.
	want := []string{"cpu/nanoseconds", "alloc_objects/count", "alloc_space/bytes"}
	// The profiles must carry these types too (in-use values may be zero).
	present := []string{"inuse_objects/count", "inuse_space/bytes"}
	seen := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, w := range want {
			if got[w] <= 0 {
				return false
			}
		}
		for _, w := range present {
			if _, ok := got[w]; !ok {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !seen(); {
		burn(20 * time.Millisecond) // CPU and allocations to profile
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	ts.CloseClientConnections()
	mu.Lock()
	defer mu.Unlock()
	if badPush != nil {
		t.Error(badPush)
	}
	for _, w := range want {
		if got[w] <= 0 {
			t.Errorf("no %s samples pushed (got %v)", w, got)
		}
	}
	for _, w := range present {
		if _, ok := got[w]; !ok {
			t.Errorf("no %s profile pushed (got %v)", w, got)
		}
	}
}

var sink []byte

// burn spends about d of CPU, allocating as it goes.
func burn(d time.Duration) {
	h := fnv.New64a()
	for end := time.Now().Add(d); time.Now().Before(end); {
		sink = make([]byte, 4<<10)
		_, _ = h.Write(sink)
	}
}
