package cache

import "encoding/json"

// Codec turns a cached value into the bytes stored in Redis and back.
// Prefer a compact binary form for hot entities (see the store's item
// codec); JSON works for anything and is the easy start.
//
// Change the key prefix (Config.Prefix) whenever the encoding changes, so
// replicas running the old and the new version never read each other's
// bytes.
type Codec[V any] interface {
	// Append appends the encoding of v to dst and returns the result.
	Append(dst []byte, v V) ([]byte, error)
	// Decode parses data; it must not keep data after it returns.
	Decode(data []byte) (V, error)
}

// JSON is a Codec using encoding/json.
type JSON[V any] struct{}

// Append implements Codec.
func (JSON[V]) Append(dst []byte, v V) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// Decode implements Codec.
func (JSON[V]) Decode(data []byte) (V, error) {
	var v V
	err := json.Unmarshal(data, &v)
	return v, err
}
