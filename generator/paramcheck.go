package generator

import (
	"fmt"
	"slices"
	"strings"
)

// paramError is a bad preset parameter: Path ("params.dbpool.min_conns")
// locates it in the file.
type paramError struct {
	Path string
	Msg  string
	// Also are the other parameters the fault is about: when Path is not
	// in the file (the preset inherits it), the line of the first of them
	// that is.
	Also []string
}

func (e *paramError) Error() string { return e.Path + " " + e.Msg }

func perr(path, format string, args ...any) error {
	return &paramError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// negative returns the error for the first of the named values below 0.
func negative[N int | int32 | int64 | Duration](block string, vals ...struct {
	name string
	v    N
}) error {
	for _, x := range vals {
		if x.v < 0 {
			return perr(block+"."+x.name, "is %v: it cannot be negative; use 0 or more", x.v)
		}
	}
	return nil
}

type nv[N int | int32 | int64 | Duration] = struct {
	name string
	v    N
}

// validate checks values that YAML types cannot. Its errors are
// *paramError.
func (p *Params) validate() error {
	if err := negative("params.dbpool", nv[int32]{"max_conns", p.DBPool.MaxConns}, nv[int32]{"min_conns", p.DBPool.MinConns}); err != nil {
		return err
	}
	if p.DBPool.MinConns > p.DBPool.MaxConns && p.DBPool.MaxConns > 0 {
		err := perr("params.dbpool.min_conns", "(%d) is above max_conns (%d): lower min_conns or raise max_conns", p.DBPool.MinConns, p.DBPool.MaxConns)
		err.(*paramError).Also = []string{"params.dbpool.max_conns"}
		return err
	}
	if err := negative("params.pool", nv[int]{"buffer_size", p.Pool.BufferSize}, nv[int]{"max_buffer_size", p.Pool.MaxBufferSize}); err != nil {
		return err
	}
	if p.Pool.MaxBufferSize > 0 && p.Pool.BufferSize > p.Pool.MaxBufferSize {
		err := perr("params.pool.buffer_size", "(%d) is above max_buffer_size (%d): lower buffer_size or raise max_buffer_size", p.Pool.BufferSize, p.Pool.MaxBufferSize)
		err.(*paramError).Also = []string{"params.pool.max_buffer_size"}
		return err
	}
	if err := negative("params.server", nv[int64]{"max_body_bytes", p.Server.MaxBodyBytes}); err != nil {
		return err
	}
	switch p.Partition.Interval {
	case "", "day", "week", "month":
	default:
		return perr("params.partition.interval", "%q: want day, week or month%s",
			p.Partition.Interval, suggest(p.Partition.Interval, []string{"day", "week", "month"}))
	}
	if err := negative("params.partition", nv[int]{"premake", p.Partition.Premake}, nv[int]{"retention", p.Partition.Retention}); err != nil {
		return err
	}
	if err := p.Compression.validate(); err != nil {
		return err
	}
	if err := p.Realtime.validate(); err != nil {
		return err
	}
	if g := p.Runtime.GOGC; g < 0 || g > 10000 {
		return perr("params.runtime.gogc", "is %d: want a percentage from 1 to 10000 (100 is the Go default), or 0 for the Go default; GOGC=off is for the environment, not a preset", g)
	}
	if err := negative("params.batch", nv[Duration]{"wait", p.Batch.Wait}); err != nil {
		return err
	}
	return negative("params.batch", nv[int]{"max_batch", p.Batch.MaxBatch}, nv[int]{"copy_chunk", p.Batch.CopyChunk})
}

// validate checks the realtime params a preset sets.
func (r *RealtimeParams) validate() error {
	if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
		return perr("params.realtime.path", "%q: want an absolute path such as /ws", r.Path)
	}
	if err := negative("params.realtime", nv[Duration]{"tick", r.Tick}, nv[Duration]{"ping_interval", r.PingInterval},
		nv[Duration]{"ping_timeout", r.PingTimeout}, nv[Duration]{"write_timeout", r.WriteTimeout},
		nv[Duration]{"presence_interval", r.PresenceInterval}); err != nil {
		return err
	}
	if err := negative("params.realtime", nv[int]{"send_queue", r.SendQueue}); err != nil {
		return err
	}
	return negative("params.realtime", nv[int64]{"max_message_bytes", r.MaxMessageBytes})
}

// validate checks the compression params a preset sets.
func (c *CompressionParams) validate() error {
	modes := []string{"lz4", "zstd-dict"}
	if c.FrameMode != "" && !slices.Contains(modes, c.FrameMode) {
		return perr("params.compression.frame_mode", "%q: want lz4 or zstd-dict%s", c.FrameMode, suggest(c.FrameMode, modes))
	}
	levels := []string{"fastest", "default", "better", "best"}
	if c.ZstdLevel != "" && !slices.Contains(levels, c.ZstdLevel) {
		return perr("params.compression.zstd_level", "%q: want fastest, default, better or best%s", c.ZstdLevel, suggest(c.ZstdLevel, levels))
	}
	if c.GzipLevel < 0 || c.GzipLevel > 9 {
		return perr("params.compression.gzip_level", "%d: want 1 (fastest) to 9 (smallest), or 0 for the default 5", c.GzipLevel)
	}
	return negative("params.compression", nv[int]{"frame_threshold", c.FrameThreshold}, nv[int]{"http_min_bytes", c.HTTPMinBytes})
}
