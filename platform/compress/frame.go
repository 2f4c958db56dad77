package compress

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Frame header kinds (first byte of every frame).
const (
	KindRaw      byte = 0x00 // payload follows as is
	KindLZ4      byte = 0x01 // uvarint(decoded length) + LZ4 block
	KindZstdDict byte = 0x02 // dictionary id byte + uvarint(decoded length) + zstd frame made with that dictionary
)

// Frame modes (FrameConfig.Mode).
const (
	ModeLZ4      = "lz4"
	ModeZstdDict = "zstd-dict"
)

// Defaults of FrameConfig.
const (
	DefaultLZ4Threshold      = 1024
	DefaultZstdDictThreshold = 64
	DefaultMaxSize           = 1 << 20
)

// Errors of AppendPayload, wrapped with the details; test with errors.Is.
var (
	ErrUnknownKind = errors.New("unknown frame kind")
	ErrUnknownDict = errors.New("unknown dictionary id")
	ErrTruncated   = errors.New("truncated frame")
	ErrTooLarge    = errors.New("payload over the size limit")
	ErrCorrupt     = errors.New("corrupt frame")
)

// FrameConfig configures a Framer.
type FrameConfig struct {
	// Mode is "lz4" (the default) or "zstd-dict".
	Mode string
	// Dict is the zstd dictionary of zstd-dict mode (DefaultDict() when
	// empty). It decodes too, beside every embedded dictionary.
	Dict []byte
	// Threshold: payloads shorter than this many bytes go raw. 0 means the
	// default of the mode: 1024 for lz4 (one small message does not shrink
	// with LZ4), 64 for zstd-dict; 1 compresses everything.
	Threshold int
	// MaxSize is the largest payload AppendFrame encodes and AppendPayload
	// decodes (default 1 MiB); a frame declaring more is refused before any
	// memory is allocated for it.
	MaxSize int
}

// Framer encodes and decodes frames: one kind byte, then the payload raw,
// LZ4 block compressed, or zstd compressed with a shared dictionary.
// Whatever its mode, a Framer decodes every kind. It is safe for
// concurrent use: LZ4 compressors come from a pool, the zstd encoder and
// decoder are shared (EncodeAll and DecodeAll are safe for concurrent use).
type Framer struct {
	zenc      *zstd.Encoder // nil unless zstd-dict mode
	zdec      *zstd.Decoder
	lz4       sync.Pool // *lz4.Compressor
	known     [256]bool // dictionary ids zdec knows
	threshold int
	maxSize   int
	mode      byte // KindLZ4 or KindZstdDict
	dictID    byte
}

// NewFramer checks cfg, fills in its defaults and returns a Framer.
func NewFramer(cfg FrameConfig) (*Framer, error) {
	f := &Framer{threshold: cfg.Threshold, maxSize: cfg.MaxSize}
	f.lz4.New = func() any { return new(lz4.Compressor) }
	switch cfg.Mode {
	case "", ModeLZ4:
		f.mode = KindLZ4
		if f.threshold == 0 {
			f.threshold = DefaultLZ4Threshold
		}
	case ModeZstdDict:
		f.mode = KindZstdDict
		if f.threshold == 0 {
			f.threshold = DefaultZstdDictThreshold
		}
	default:
		return nil, fmt.Errorf("compress: frame mode %q: want %q or %q", cfg.Mode, ModeLZ4, ModeZstdDict)
	}
	if f.threshold < 0 {
		return nil, fmt.Errorf("compress: frame threshold %d: want 0 (the default) or more bytes", cfg.Threshold)
	}
	if f.maxSize == 0 {
		f.maxSize = DefaultMaxSize
	}
	if f.maxSize < 0 {
		return nil, fmt.Errorf("compress: frame max size %d: want 0 (the default, 1 MiB) or more bytes", cfg.MaxSize)
	}

	dict := cfg.Dict
	if len(dict) == 0 {
		dict = DefaultDict()
	}
	id, err := DictID(dict)
	if err != nil {
		return nil, fmt.Errorf("compress: frame dictionary: %w", err)
	}
	f.dictID = id
	// Every embedded dictionary decodes, and the configured one; two
	// different dictionaries must not share an id.
	byID := map[byte][]byte{id: dict}
	for _, d := range EmbeddedDicts() {
		did, err := DictID(d)
		if err != nil {
			return nil, fmt.Errorf("compress: embedded dictionary: %w", err)
		}
		if prev, ok := byID[did]; ok && !bytes.Equal(prev, d) {
			return nil, fmt.Errorf("compress: two different dictionaries have id %d: rebuild one with dictbuild -id N (another id)", did)
		}
		byID[did] = d
	}
	dicts := make([][]byte, 0, len(byID))
	for did, d := range byID {
		f.known[did] = true
		dicts = append(dicts, d)
	}
	f.zdec, err = zstd.NewReader(nil,
		zstd.WithDecoderDicts(dicts...),
		zstd.WithDecodeAllCapLimit(true),
		zstd.WithDecoderConcurrency(0),
	)
	if err != nil {
		return nil, fmt.Errorf("compress: zstd decoder: %w", err)
	}
	if f.mode == KindZstdDict {
		f.zenc, err = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderDict(dict),
			zstd.WithEncoderCRC(false), // the transport checks integrity; 4 bytes are 3% of a message
		)
		if err != nil {
			return nil, fmt.Errorf("compress: zstd encoder with the dictionary: %w", err)
		}
	}
	return f, nil
}

// Mode returns the kind AppendFrame compresses with: KindLZ4 or KindZstdDict.
func (f *Framer) Mode() byte { return f.mode }

// Threshold returns the payload size from which AppendFrame compresses.
func (f *Framer) Threshold() int { return f.threshold }

// AppendFrame appends the frame of payload to dst. Payloads shorter than
// the threshold go raw, and so does any payload the compressed kind would
// not make smaller. It fails only for a payload over MaxSize.
func (f *Framer) AppendFrame(dst, payload []byte) ([]byte, error) {
	if len(payload) > f.maxSize {
		return dst, fmt.Errorf("compress: payload of %d bytes: %w (%d)", len(payload), ErrTooLarge, f.maxSize)
	}
	if len(payload) >= f.threshold && len(payload) > 0 {
		start := len(dst)
		var ok bool
		if f.mode == KindZstdDict {
			dst, ok = f.appendZstd(dst, payload)
		} else {
			dst, ok = f.appendLZ4(dst, payload)
		}
		if ok {
			return dst, nil
		}
		dst = dst[:start]
	}
	dst = append(dst, KindRaw)
	return append(dst, payload...), nil
}

// appendLZ4 appends an LZ4 frame; ok is false when it is not smaller than
// the raw frame (1 + len(payload)).
func (f *Framer) appendLZ4(dst, payload []byte) ([]byte, bool) {
	start := len(dst)
	dst = append(dst, KindLZ4)
	dst = binary.AppendUvarint(dst, uint64(len(payload)))
	bound := lz4.CompressBlockBound(len(payload))
	dst = slices.Grow(dst, bound)
	c := f.lz4.Get().(*lz4.Compressor)
	n, err := c.CompressBlock(payload, dst[len(dst):len(dst)+bound])
	f.lz4.Put(c)
	if err != nil || n == 0 {
		return dst, false
	}
	dst = dst[:len(dst)+n]
	return dst, len(dst)-start < 1+len(payload)
}

// appendZstd appends a zstd-dict frame; ok as in appendLZ4.
func (f *Framer) appendZstd(dst, payload []byte) ([]byte, bool) {
	start := len(dst)
	dst = append(dst, KindZstdDict, f.dictID)
	dst = binary.AppendUvarint(dst, uint64(len(payload)))
	dst = f.zenc.EncodeAll(payload, dst)
	return dst, len(dst)-start < 1+len(payload)
}

// Kind returns the kind of frame without decoding it.
func (f *Framer) Kind(frame []byte) (byte, error) {
	if len(frame) == 0 {
		return 0, fmt.Errorf("compress: empty frame: %w", ErrTruncated)
	}
	if k := frame[0]; k > KindZstdDict {
		return 0, fmt.Errorf("compress: kind byte 0x%02x: %w", k, ErrUnknownKind)
	}
	return frame[0], nil
}

// AppendPayload decodes frame and appends its payload to dst. A frame
// declaring more than MaxSize bytes is refused before decoding.
func (f *Framer) AppendPayload(dst, frame []byte) ([]byte, error) {
	kind, err := f.Kind(frame)
	if err != nil {
		return dst, err
	}
	switch kind {
	case KindRaw:
		if len(frame)-1 > f.maxSize {
			return dst, fmt.Errorf("compress: raw frame of %d bytes: %w (%d)", len(frame)-1, ErrTooLarge, f.maxSize)
		}
		return append(dst, frame[1:]...), nil
	case KindLZ4:
		n, body, err := f.length(frame[1:], "lz4")
		if err != nil {
			return dst, err
		}
		dst = slices.Grow(dst, n)
		out := dst[len(dst) : len(dst)+n]
		m, err := lz4.UncompressBlock(body, out)
		if err != nil {
			return dst, fmt.Errorf("compress: lz4 frame body (corrupt or cut short): %w: %v", ErrCorrupt, err)
		}
		if m != n {
			return dst, fmt.Errorf("compress: lz4 frame decodes to %d bytes, header says %d: %w", m, n, ErrCorrupt)
		}
		return dst[:len(dst)+n], nil
	default: // KindZstdDict
		if len(frame) < 2 {
			return dst, fmt.Errorf("compress: zstd-dict frame without dictionary id: %w", ErrTruncated)
		}
		id := frame[1]
		if !f.known[id] {
			return dst, fmt.Errorf("compress: zstd-dict frame with dictionary id %d: %w (this service knows %v)", id, ErrUnknownDict, f.knownIDs())
		}
		n, body, err := f.length(frame[2:], "zstd-dict")
		if err != nil {
			return dst, err
		}
		var h zstd.Header
		if err := h.Decode(body); err != nil {
			return dst, fmt.Errorf("compress: zstd-dict frame: %w: %v", ErrCorrupt, err)
		}
		if h.DictionaryID != uint32(id) {
			return dst, fmt.Errorf("compress: zstd-dict frame says dictionary %d, its zstd header %d: %w", id, h.DictionaryID, ErrCorrupt)
		}
		dst = slices.Grow(dst, n)
		start := len(dst)
		// The capacity is exactly n: the decoder refuses to write more.
		out, err := f.zdec.DecodeAll(body, dst[:start:start+n])
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return dst, fmt.Errorf("compress: zstd-dict frame body: %w: %v", ErrTruncated, err)
		}
		if err != nil {
			return dst, fmt.Errorf("compress: zstd-dict frame: %w: %v", ErrCorrupt, err)
		}
		if len(out)-start != n {
			return dst, fmt.Errorf("compress: zstd-dict frame decodes to %d bytes, header says %d: %w", len(out)-start, n, ErrCorrupt)
		}
		return dst[:start+n], nil
	}
}

// length reads the uvarint decoded length at the start of b and checks it
// against MaxSize; body is the rest.
func (f *Framer) length(b []byte, kind string) (n int, body []byte, err error) {
	v, k := binary.Uvarint(b)
	switch {
	case k == 0:
		return 0, nil, fmt.Errorf("compress: %s frame ends inside its length: %w", kind, ErrTruncated)
	case k < 0:
		return 0, nil, fmt.Errorf("compress: %s frame length overflows: %w", kind, ErrCorrupt)
	case v > uint64(f.maxSize):
		return 0, nil, fmt.Errorf("compress: %s frame of %d bytes: %w (%d)", kind, v, ErrTooLarge, f.maxSize)
	case len(b) == k:
		return 0, nil, fmt.Errorf("compress: %s frame has no body: %w", kind, ErrTruncated)
	}
	return int(v), b[k:], nil
}

func (f *Framer) knownIDs() []int {
	var ids []int
	for id, ok := range f.known {
		if ok {
			ids = append(ids, id)
		}
	}
	return ids
}
