package compress

import (
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"slices"
)

// DictFile is the dictionary that zstd-dict frames use by default.
// default.dict ships with the service: dictbuild trained it on 1800 of
// 2000 synthetic movement messages (MovementMessages with seed 1, the shape a
// movement service sends: ~300-byte JSON with player, room, position,
// velocity, rotation, sequence, timestamp and state flags) with
//
//	go run ./internal/platform/compress/dictbuild -synthetic 2000 -seed 1 -id 1 -out internal/platform/compress/dict/default.dict
//
// `make dict SAMPLES=...` trains a dictionary on the service's own recorded
// messages into dict/service.dict, which then takes its place for encoding.
const (
	DictFile        = "dict/default.dict"
	ServiceDictFile = "dict/service.dict"
)

// dictFS holds every dictionary of the dict folder: all of them decode, so a
// frame made with an older dictionary still decodes while its file is kept.
//
//go:embed dict/*.dict
var dictFS embed.FS

// zstdDictMagic starts every zstd dictionary (little endian 0xEC30A437).
const zstdDictMagic = 0xEC30A437

// DefaultDict returns the dictionary zstd-dict frames use when
// FrameConfig.Dict is empty: dict/service.dict when present, else the
// shipped dict/default.dict.
func DefaultDict() []byte {
	if b, err := dictFS.ReadFile(ServiceDictFile); err == nil {
		return b
	}
	b, err := dictFS.ReadFile(DictFile)
	if err != nil {
		panic("compress: " + DictFile + " is not embedded: " + err.Error())
	}
	return b
}

// EmbeddedDicts returns every embedded dictionary, sorted by file name.
func EmbeddedDicts() [][]byte {
	names, err := fs.Glob(dictFS, "dict/*.dict")
	if err != nil {
		panic("compress: " + err.Error())
	}
	slices.Sort(names)
	out := make([][]byte, 0, len(names))
	for _, n := range names {
		b, err := dictFS.ReadFile(n)
		if err != nil {
			panic("compress: " + err.Error())
		}
		out = append(out, b)
	}
	return out
}

// DictID returns the id a zstd dictionary carries (the zstd frame header
// repeats it). Frames carry it in one byte, so ids run from 1 to 255.
func DictID(dict []byte) (byte, error) {
	if len(dict) < 8 || binary.LittleEndian.Uint32(dict) != zstdDictMagic {
		return 0, errors.New("not a zstd dictionary (no 0xEC30A437 magic): build one with dictbuild (make dict)")
	}
	id := binary.LittleEndian.Uint32(dict[4:])
	if id == 0 || id > 255 {
		return 0, fmt.Errorf("dictionary id %d is outside 1..255 (frames carry the id in one byte): rebuild it with dictbuild -id N", id)
	}
	return byte(id), nil
}
