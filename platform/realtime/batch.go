package realtime

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/svcgen/svcgen/platform/compress"
)

// The wire format. Every message the hub sends travels in a WebSocket
// binary frame whose payload is one compress frame:
//
//	frame   = kind(1 byte) body                 (see package compress)
//	kind    0x00 raw:       body = batch
//	        0x01 lz4:       body = uvarint(len(batch)) lz4-block(batch)
//	        0x02 zstd-dict: body = dict-id(1 byte) uvarint(len(batch)) zstd(batch)
//	batch   = message*
//	message = uvarint(n) n bytes                (binary safe)
//
// With a tick, a batch holds every message queued for the client during
// that tick, in the order they were published; with tick 0 it holds one.
// uvarint is Go's encoding/binary Uvarint (LEB128: 7 bits per byte, low
// group first, high bit set on every byte but the last). A JavaScript
// client reads it in a few lines:
//
//	function* messages(batch) { // batch: Uint8Array, already decompressed
//	  let i = 0;
//	  while (i < batch.length) {
//	    let n = 0, shift = 0, b;
//	    do { b = batch[i++]; n += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
//	    yield batch.subarray(i, i + n); i += n;
//	  }
//	}

// ErrBadBatch reports a batch that does not follow the format.
var ErrBadBatch = errors.New("realtime: malformed batch")

// AppendMessage appends one message to a batch.
func AppendMessage(batch, msg []byte) []byte {
	batch = binary.AppendUvarint(batch, uint64(len(msg)))
	return append(batch, msg...)
}

// SplitBatch calls fn with each message of a decoded batch, in order. The
// slices alias batch: copy what must outlive it.
func SplitBatch(batch []byte, fn func(msg []byte) error) error {
	for len(batch) > 0 {
		n, w := binary.Uvarint(batch)
		if w <= 0 || n > uint64(len(batch)-w) {
			return ErrBadBatch
		}
		batch = batch[w:]
		if err := fn(batch[:n]); err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}

// Decoder reads the frames the hub sends: Go clients, tests and tools use
// it; a Decoder is not safe for concurrent use.
type Decoder struct {
	framer *compress.Framer
	buf    []byte
}

// NewDecoder returns a Decoder for frames of any kind. MaxSize bounds a
// decoded batch and Dict must be the hub's dictionary in zstd-dict mode
// (the zero FrameConfig takes compress's defaults, as the hub does).
func NewDecoder(cfg compress.FrameConfig) (*Decoder, error) {
	f, err := compress.NewFramer(cfg)
	if err != nil {
		return nil, err
	}
	return &Decoder{framer: f}, nil
}

// Decode decompresses one frame and calls fn with each of its messages.
// The slices are valid until the next call of Decode.
func (d *Decoder) Decode(frame []byte, fn func(msg []byte) error) error {
	batch, err := d.framer.AppendPayload(d.buf[:0], frame)
	if err != nil {
		return fmt.Errorf("realtime: decode frame: %w", err)
	}
	d.buf = batch
	return SplitBatch(batch, fn)
}

// Messages decodes one frame into copies of its messages.
func (d *Decoder) Messages(frame []byte) ([][]byte, error) {
	var out [][]byte
	err := d.Decode(frame, func(msg []byte) error {
		out = append(out, append([]byte(nil), msg...))
		return nil
	})
	return out, err
}
