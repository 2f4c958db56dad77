// Command dictbuild trains the zstd dictionary of the realtime frames
// (zstd-dict mode) on sample messages and writes it where the compress
// package embeds it. `make dict SAMPLES=path` runs it.
//
//	dictbuild -in samples.txt -id 2 -out internal/platform/compress/dict/service.dict
//	dictbuild -in samples/ ...        (one message per file)
//	dictbuild -synthetic 2000 -seed 1 -id 1 -out .../dict/default.dict
//
// A file holds one message per line; a folder holds one message per file.
// -synthetic trains on compress.MovementMessages instead (how the shipped
// default.dict was made). Record a few thousand real messages: the
// dictionary learns their recurring keys and values, so it must see the
// traffic it will compress. It prints the ratio it reaches on held-out
// samples (every tenth message is kept out of training).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/dict"
	"github.com/klauspost/compress/zstd"

	"github.com/svcgen/svcgen/platform/compress"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dictbuild:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("dictbuild", flag.ContinueOnError)
	in := fs.String("in", "", "sample messages: a file with one per line, or a folder with one per file")
	synthetic := fs.Int("synthetic", 0, "train on this many synthetic movement messages instead of -in")
	seed := fs.Uint64("seed", 1, "seed of the synthetic messages")
	id := fs.Uint("id", 2, "dictionary id, 1..255 (frames carry it; the shipped default.dict is 1)")
	size := fs.Int("size", 8<<10, "largest dictionary size in bytes")
	out := fs.String("out", "internal/platform/compress/dict/service.dict", "where to write the dictionary")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *id < 1 || *id > 255 {
		return fmt.Errorf("-id %d: want 1..255 (frames carry the id in one byte)", *id)
	}
	if err := idFree(byte(*id), *out); err != nil {
		return err
	}
	var samples [][]byte
	switch {
	case *synthetic > 0:
		samples = compress.MovementMessages(*synthetic, *seed)
	case *in != "":
		var err error
		if samples, err = readSamples(*in); err != nil {
			return err
		}
	default:
		return errors.New("no samples: give -in FILE|DIR (make dict SAMPLES=...) or -synthetic N")
	}
	if len(samples) < 20 {
		return fmt.Errorf("%d samples: want at least 20, better a few thousand", len(samples))
	}
	var train, held [][]byte
	for i, s := range samples {
		if i%10 == 9 {
			held = append(held, s)
		} else {
			train = append(train, s)
		}
	}
	d, err := dict.BuildZstdDict(train, dict.Options{
		MaxDictSize: *size,
		HashBytes:   6,
		ZstdDictID:  uint32(*id),
		ZstdLevel:   zstd.SpeedFastest,
	})
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := os.WriteFile(*out, d, 0o644); err != nil {
		return err
	}
	plain, with, err := ratios(d, held)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dictbuild: %s: %d bytes, id %d, from %d samples; held-out ratio %.2f with it, %.2f without\n",
		*out, len(d), *id, len(train), with, plain)
	return nil
}

// idFree checks that no other dictionary beside out has the id: every
// dictionary there decodes, by id.
func idFree(id byte, out string) error {
	others, err := filepath.Glob(filepath.Join(filepath.Dir(out), "*.dict"))
	if err != nil {
		return err
	}
	for _, o := range others {
		if filepath.Base(o) == filepath.Base(out) {
			continue
		}
		b, err := os.ReadFile(o)
		if err != nil {
			return err
		}
		if got, err := compress.DictID(b); err == nil && got == id {
			return fmt.Errorf("-id %d is taken by %s: choose another (frames name their dictionary by id)", id, o)
		}
	}
	return nil
}

// readSamples reads one message per line of a file, or per file of a folder.
func readSamples(path string) ([][]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(path, e.Name()))
			if err != nil {
				return nil, err
			}
			if len(b) > 0 {
				out = append(out, b)
			}
		}
		return out, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, bytes.Clone(line))
		}
	}
	return out, sc.Err()
}

// ratios compresses each held-out message alone, without and with d.
func ratios(d []byte, msgs [][]byte) (plain, with float64, err error) {
	e0, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false))
	if err != nil {
		return 0, 0, err
	}
	e1, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false), zstd.WithEncoderDict(d))
	if err != nil {
		return 0, 0, fmt.Errorf("the new dictionary does not load: %w", err)
	}
	var raw, n0, n1 int
	for _, m := range msgs {
		raw += len(m)
		n0 += len(e0.EncodeAll(m, nil))
		n1 += len(e1.EncodeAll(m, nil))
	}
	return float64(raw) / float64(n0), float64(raw) / float64(n1), nil
}
