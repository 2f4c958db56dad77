// Package bufs pools buffers.
package bufs

import (
	"bytes"
	"sync"
)

// Pool holds scratch buffers.
var Pool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
