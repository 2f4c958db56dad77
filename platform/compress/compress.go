// Package compress is the service's compression: HTTP responses negotiate
// zstd or gzip by Accept-Encoding above a size threshold (Middleware),
// realtime frames are LZ4 blocks or zstd with a trained dictionary
// (Framer), bulk payloads are zstd at its fastest level (CompressBulk).
// Encoders and decoders are pooled or shared: a call allocates nothing
// beyond its output.
package compress

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Config is the compression part of the service's configuration.
type Config struct {
	// HTTP configures the response compression middleware (COMPRESS_HTTP_*,
	// COMPRESS_GZIP_LEVEL, COMPRESS_ZSTD_LEVEL).
	HTTP HTTPConfig
	// Frame configures the realtime frame codec (COMPRESS_FRAME_*).
	Frame FrameConfig
}

// Validate reports every bad setting at once, each naming its variable.
func (c Config) Validate() error {
	var errs []error
	switch c.Frame.Mode {
	case "", ModeLZ4, ModeZstdDict:
	default:
		errs = append(errs, fmt.Errorf("COMPRESS_FRAME_MODE=%q: want %s or %s", c.Frame.Mode, ModeLZ4, ModeZstdDict))
	}
	if c.Frame.Threshold < 0 {
		errs = append(errs, fmt.Errorf("COMPRESS_FRAME_THRESHOLD=%d: want 0 (the mode's default) or more bytes", c.Frame.Threshold))
	}
	if c.Frame.MaxSize < 0 {
		errs = append(errs, fmt.Errorf("COMPRESS_FRAME_MAX_BYTES=%d: want 0 (1 MiB) or more bytes", c.Frame.MaxSize))
	}
	if err := c.HTTP.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// bulk holds the shared zstd encoder and decoder of CompressBulk and
// DecompressBulk (EncodeAll and DecodeAll are safe for concurrent use).
var bulk struct {
	enc  *zstd.Encoder
	dec  *zstd.Decoder
	once sync.Once
}

func bulkCodec() (*zstd.Encoder, *zstd.Decoder) {
	bulk.once.Do(func() {
		var err error
		bulk.enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			panic("compress: zstd bulk encoder: " + err.Error())
		}
		bulk.dec, err = zstd.NewReader(nil, zstd.WithDecodeAllCapLimit(true), zstd.WithDecoderConcurrency(0))
		if err != nil {
			panic("compress: zstd bulk decoder: " + err.Error())
		}
	})
	return bulk.enc, bulk.dec
}

// CompressBulk appends src compressed as one zstd frame (fastest level,
// which measured smaller and faster than the default level on JSON) to dst.
// The frame records its decoded size.
func CompressBulk(dst, src []byte) []byte {
	enc, _ := bulkCodec()
	return enc.EncodeAll(src, dst)
}

// DecompressBulk appends the decoded zstd data src to dst; data decoding
// to more than max bytes is refused (ErrTooLarge) without decoding more
// than max bytes.
func DecompressBulk(dst, src []byte, max int) ([]byte, error) {
	if max < 0 {
		return dst, fmt.Errorf("compress: bulk limit %d: want 0 or more bytes", max)
	}
	var h zstd.Header
	if err := h.Decode(src); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return dst, fmt.Errorf("compress: bulk data: %w: %v", ErrTruncated, err)
		}
		return dst, fmt.Errorf("compress: bulk data: %w: %v", ErrCorrupt, err)
	}
	if h.HasFCS && h.FrameContentSize > uint64(max) {
		return dst, fmt.Errorf("compress: bulk data of %d bytes: %w (%d)", h.FrameContentSize, ErrTooLarge, max)
	}
	if h.HasFCS {
		_, dec := bulkCodec()
		start := len(dst)
		n := int(h.FrameContentSize)
		dst = slices.Grow(dst, n)
		out, err := dec.DecodeAll(src, dst[:start:start+n])
		switch {
		case err == nil:
			return out, nil
		case errors.Is(err, zstd.ErrDecoderSizeExceeded):
			// more frames follow the first one: decode as a stream below
		case errors.Is(err, io.ErrUnexpectedEOF):
			return dst[:start], fmt.Errorf("compress: bulk data: %w: %v", ErrTruncated, err)
		default:
			return dst[:start], fmt.Errorf("compress: bulk data: %w: %v", ErrCorrupt, err)
		}
		dst = dst[:start]
	}
	return decodeStream(dst, src, max)
}

// decodeStream decodes data whose size is not known up front (frames
// without a content size, or several frames), stopping past max bytes.
func decodeStream(dst, src []byte, max int) ([]byte, error) {
	d, err := zstd.NewReader(bytes.NewReader(src), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
	if err != nil {
		return dst, fmt.Errorf("compress: bulk data: %w: %v", ErrCorrupt, err)
	}
	defer d.Close()
	b := bytes.NewBuffer(dst)
	start := len(dst)
	n, err := b.ReadFrom(io.LimitReader(d, int64(max)+1))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return dst, fmt.Errorf("compress: bulk data: %w: %v", ErrTruncated, err)
		}
		return dst, fmt.Errorf("compress: bulk data: %w: %v", ErrCorrupt, err)
	}
	if n > int64(max) {
		return dst, fmt.Errorf("compress: bulk data of more than %d bytes: %w", max, ErrTooLarge)
	}
	return b.Bytes()[:start+int(n)], nil
}
