package compress_test

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/svcgen/svcgen/platform/compress"
)

func newFramer(t testing.TB, cfg compress.FrameConfig) *compress.Framer {
	t.Helper()
	f, err := compress.NewFramer(cfg)
	if err != nil {
		t.Fatalf("NewFramer(%+v): %v", cfg, err)
	}
	return f
}

// roundTrip frames payload, checks the kind, decodes and compares.
func roundTrip(t *testing.T, f *compress.Framer, payload []byte, want byte) []byte {
	t.Helper()
	prefix := []byte("prefix")
	frame, err := f.AppendFrame(bytes.Clone(prefix), payload)
	if err != nil {
		t.Fatalf("AppendFrame: %v", err)
	}
	if !bytes.HasPrefix(frame, prefix) {
		t.Fatalf("AppendFrame lost dst's content")
	}
	frame = frame[len(prefix):]
	kind, err := f.Kind(frame)
	if err != nil || kind != want {
		t.Fatalf("Kind = 0x%02x, %v; want 0x%02x", kind, err, want)
	}
	got, err := f.AppendPayload([]byte("x"), frame)
	if err != nil {
		t.Fatalf("AppendPayload: %v", err)
	}
	if !bytes.Equal(got[1:], payload) || got[0] != 'x' {
		t.Fatalf("round trip changed the payload:\n got %q\nwant %q", got, payload)
	}
	return frame
}

func TestFrameRoundTrips(t *testing.T) {
	msgs := compress.MovementMessages(50, 42)
	batch := compress.MovementBatch(msgs)
	lz4f := newFramer(t, compress.FrameConfig{})
	zf := newFramer(t, compress.FrameConfig{Mode: compress.ModeZstdDict})

	t.Run("lz4 batch", func(t *testing.T) {
		frame := roundTrip(t, lz4f, batch, compress.KindLZ4)
		if len(frame) >= len(batch) {
			t.Fatalf("lz4 frame of %d bytes is not smaller than the %d-byte batch", len(frame), len(batch))
		}
	})
	t.Run("lz4 single message under the threshold goes raw", func(t *testing.T) {
		frame := roundTrip(t, lz4f, msgs[0], compress.KindRaw)
		if len(frame) != len(msgs[0])+1 {
			t.Fatalf("raw frame is %d bytes, want %d", len(frame), len(msgs[0])+1)
		}
	})
	t.Run("zstd-dict single message", func(t *testing.T) {
		frame := roundTrip(t, zf, msgs[1], compress.KindZstdDict)
		if len(frame)*3/2 > len(msgs[1]) {
			t.Fatalf("zstd-dict frame of %d bytes for a %d-byte message: the dictionary should save a third or more", len(frame), len(msgs[1]))
		}
		id, err := compress.DictID(compress.DefaultDict())
		if err != nil || frame[1] != id {
			t.Fatalf("frame dictionary id %d, want the default dictionary's %d (%v)", frame[1], id, err)
		}
	})
	t.Run("zstd-dict batch", func(t *testing.T) {
		roundTrip(t, zf, batch, compress.KindZstdDict)
	})
	t.Run("zstd-dict below its threshold goes raw", func(t *testing.T) {
		roundTrip(t, zf, []byte(`{"ping":1}`), compress.KindRaw)
	})
	t.Run("empty payload", func(t *testing.T) {
		roundTrip(t, zf, nil, compress.KindRaw)
		roundTrip(t, newFramer(t, compress.FrameConfig{Threshold: 1}), []byte{}, compress.KindRaw)
	})
	t.Run("a framer decodes every kind whatever its mode", func(t *testing.T) {
		zframe, _ := zf.AppendFrame(nil, batch)
		lframe, _ := lz4f.AppendFrame(nil, batch)
		for _, c := range []struct {
			f     *compress.Framer
			frame []byte
		}{{lz4f, zframe}, {zf, lframe}} {
			got, err := c.f.AppendPayload(nil, c.frame)
			if err != nil || !bytes.Equal(got, batch) {
				t.Fatalf("cross-mode decode: %v", err)
			}
		}
	})
}

func TestIncompressibleFallsBackToRaw(t *testing.T) {
	noise := make([]byte, 4096)
	_, _ = rand.Read(noise)
	for _, mode := range []string{compress.ModeLZ4, compress.ModeZstdDict} {
		f := newFramer(t, compress.FrameConfig{Mode: mode, Threshold: 1})
		frame := roundTrip(t, f, noise, compress.KindRaw)
		if len(frame) != len(noise)+1 {
			t.Fatalf("%s: raw fallback frame is %d bytes, want %d", mode, len(frame), len(noise)+1)
		}
	}
}

func TestFrameErrors(t *testing.T) {
	f := newFramer(t, compress.FrameConfig{Threshold: 1, MaxSize: 64 << 10})
	zf := newFramer(t, compress.FrameConfig{Mode: compress.ModeZstdDict, MaxSize: 64 << 10})
	batch := compress.MovementBatch(compress.MovementMessages(50, 3))
	lframe, _ := f.AppendFrame(nil, batch)
	zframe, _ := zf.AppendFrame(nil, batch)
	if lframe[0] != compress.KindLZ4 || zframe[0] != compress.KindZstdDict {
		t.Fatalf("setup: kinds 0x%02x 0x%02x", lframe[0], zframe[0])
	}
	corrupt := func(frame []byte, at int) []byte {
		c := bytes.Clone(frame)
		for i := at; i < len(c); i += 7 {
			c[i] ^= 0xA5
		}
		return c
	}
	// A zstd-dict frame that declares more than MaxSize.
	huge := append([]byte{compress.KindZstdDict, zframe[1]}, binary.AppendUvarint(nil, 1<<30)...)
	huge = append(huge, zframe[2+uvarintLen(zframe[2:]):]...)

	cases := []struct {
		want  error
		f     *compress.Framer
		name  string
		frame []byte
	}{
		{compress.ErrTruncated, f, "empty", nil},
		{compress.ErrUnknownKind, f, "unknown kind", []byte{0x7f, 1, 2, 3}},
		{compress.ErrTruncated, f, "lz4 without length", []byte{compress.KindLZ4}},
		{compress.ErrTruncated, f, "lz4 length cut", []byte{compress.KindLZ4, 0x80}},
		{compress.ErrTruncated, f, "lz4 without body", []byte{compress.KindLZ4, 10}},
		{compress.ErrCorrupt, f, "lz4 body cut", lframe[:len(lframe)/2]},
		{compress.ErrCorrupt, f, "lz4 corrupt", corrupt(lframe, 4)},
		{compress.ErrTooLarge, f, "lz4 over MaxSize", append([]byte{compress.KindLZ4}, binary.AppendUvarint(nil, 1<<20)...)},
		{compress.ErrCorrupt, f, "lz4 length overflows", []byte{compress.KindLZ4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{compress.ErrTooLarge, f, "raw over MaxSize", make([]byte, 64<<10+2)},
		{compress.ErrTruncated, f, "zstd without dictionary id", []byte{compress.KindZstdDict}},
		{compress.ErrUnknownDict, zf, "zstd unknown dictionary", append([]byte{compress.KindZstdDict, 200}, zframe[2:]...)},
		{compress.ErrTruncated, zf, "zstd body cut", zframe[:len(zframe)-20]},
		{compress.ErrCorrupt, zf, "zstd corrupt", corrupt(zframe, 8)},
		{compress.ErrTooLarge, zf, "zstd over MaxSize", huge},
		{compress.ErrCorrupt, zf, "zstd wrong length", append([]byte{compress.KindZstdDict, zframe[1], 5}, zframe[2+uvarintLen(zframe[2:]):]...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.f.AppendPayload([]byte("keep"), c.frame)
			if !errors.Is(err, c.want) {
				t.Fatalf("AppendPayload error %v, want %v", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "compress: ") {
				t.Fatalf("error %q does not say where it comes from", err)
			}
			if string(got) != "keep" {
				t.Fatalf("a failed decode returned %q, want dst unchanged", got)
			}
		})
	}
	if _, err := f.AppendFrame(nil, make([]byte, 64<<10+1)); !errors.Is(err, compress.ErrTooLarge) {
		t.Fatalf("AppendFrame over MaxSize: %v, want ErrTooLarge", err)
	}
	if _, err := f.Kind([]byte{3}); !errors.Is(err, compress.ErrUnknownKind) {
		t.Fatalf("Kind(0x03): %v, want ErrUnknownKind", err)
	}
}

func uvarintLen(b []byte) int {
	_, n := binary.Uvarint(b)
	return n
}

func TestNewFramerErrors(t *testing.T) {
	bad := []struct {
		want string
		cfg  compress.FrameConfig
	}{
		{`frame mode "snappy"`, compress.FrameConfig{Mode: "snappy"}},
		{"threshold -1", compress.FrameConfig{Threshold: -1}},
		{"max size -5", compress.FrameConfig{MaxSize: -5}},
		{"not a zstd dictionary", compress.FrameConfig{Mode: compress.ModeZstdDict, Dict: []byte("not a dictionary")}},
	}
	for _, c := range bad {
		_, err := compress.NewFramer(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewFramer(%+v) = %v, want an error containing %q", c.cfg, err, c.want)
		}
	}
	// Another dictionary with the id of the shipped one is refused.
	d := bytes.Clone(compress.DefaultDict())
	d[len(d)-1] ^= 1
	if _, err := compress.NewFramer(compress.FrameConfig{Dict: d}); err == nil || !strings.Contains(err.Error(), "have id") {
		t.Errorf("a different dictionary with a taken id: %v, want an error", err)
	}
}

// TestConcurrentFramers runs encoders and decoders of both modes at once
// (go test -race checks the pooled and shared state).
func TestConcurrentFramers(t *testing.T) {
	msgs := compress.MovementMessages(200, 9)
	batch := compress.MovementBatch(msgs[:50])
	for _, mode := range []string{compress.ModeLZ4, compress.ModeZstdDict} {
		f := newFramer(t, compress.FrameConfig{Mode: mode})
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Go(func() {
				var frame, out []byte
				for i := range 200 {
					p := msgs[(i+g)%len(msgs)]
					if i%4 == 0 {
						p = batch
					}
					var err error
					if frame, err = f.AppendFrame(frame[:0], p); err != nil {
						errs <- err
						return
					}
					if out, err = f.AppendPayload(out[:0], frame); err != nil {
						errs <- err
						return
					}
					if !bytes.Equal(out, p) {
						errs <- errors.New(mode + ": concurrent round trip changed a payload")
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}

func TestBulk(t *testing.T) {
	doc := bulkJSON(64 << 10)
	c := compress.CompressBulk([]byte("hdr"), doc)
	if string(c[:3]) != "hdr" || len(c)*3 > len(doc) {
		t.Fatalf("CompressBulk: %d bytes for %d, want under a third", len(c)-3, len(doc))
	}
	got, err := compress.DecompressBulk([]byte("out:"), c[3:], len(doc))
	if err != nil || !bytes.Equal(got[4:], doc) || string(got[:4]) != "out:" {
		t.Fatalf("DecompressBulk: %v", err)
	}
	if _, err := compress.DecompressBulk(nil, c[3:], len(doc)-1); !errors.Is(err, compress.ErrTooLarge) {
		t.Fatalf("over max: %v, want ErrTooLarge", err)
	}
	if _, err := compress.DecompressBulk(nil, c[3:len(c)/2], len(doc)); err == nil {
		t.Fatal("cut data decoded without an error")
	}
	if _, err := compress.DecompressBulk(nil, []byte("not zstd at all"), 1<<20); !errors.Is(err, compress.ErrCorrupt) {
		t.Fatalf("garbage: %v, want ErrCorrupt", err)
	}

	// Streamed data (no content size in the header) and two frames back
	// to back decode too, within the limit.
	var streamed bytes.Buffer
	w, err := zstd.NewWriter(&streamed, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(doc)
	_ = w.Close()
	for name, src := range map[string][]byte{
		"streamed":   streamed.Bytes(),
		"two frames": compress.CompressBulk(compress.CompressBulk(nil, doc[:1000]), doc[1000:]),
	} {
		got, err := compress.DecompressBulk(nil, src, len(doc))
		if err != nil || !bytes.Equal(got, doc) {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := compress.DecompressBulk(nil, src, len(doc)-1); !errors.Is(err, compress.ErrTooLarge) {
			t.Fatalf("%s over max: %v, want ErrTooLarge", name, err)
		}
	}
}

// FuzzAppendPayload: no input panics, a decoded payload stays within
// MaxSize, and a frame AppendFrame made decodes to its payload.
func FuzzAppendPayload(f *testing.F) {
	lz4f, err := compress.NewFramer(compress.FrameConfig{Threshold: 1, MaxSize: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	zf, err := compress.NewFramer(compress.FrameConfig{Mode: compress.ModeZstdDict, Threshold: 1, MaxSize: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	for _, m := range compress.MovementMessages(4, 5) {
		for _, fr := range []*compress.Framer{lz4f, zf} {
			frame, _ := fr.AppendFrame(nil, m)
			f.Add(frame)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{compress.KindLZ4, 0xff, 0xff, 0x03, 0x10})
	f.Add([]byte{compress.KindZstdDict, 1, 4, 0x28, 0xb5, 0x2f, 0xfd})
	f.Fuzz(func(t *testing.T, frame []byte) {
		for _, fr := range []*compress.Framer{lz4f, zf} {
			out, err := fr.AppendPayload(nil, frame)
			if err == nil && len(out) > 1<<16 {
				t.Fatalf("decoded %d bytes, over MaxSize", len(out))
			}
			if len(frame) > 1<<16 {
				continue
			}
			enc, err := fr.AppendFrame(nil, frame)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := fr.AppendPayload(nil, enc)
			if err != nil || !bytes.Equal(dec, frame) {
				t.Fatalf("round trip of %q: %v", frame, err)
			}
		}
	})
}
