package generator

import (
	"fmt"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// String prints d the way time.ParseDuration reads it, shortest form first:
// "50ms", "5m", "1h30m".
func (d Duration) String() string {
	v := time.Duration(d)
	switch {
	case v == 0:
		return "0s"
	case v%time.Hour == 0:
		return strconv.FormatInt(int64(v/time.Hour), 10) + "h"
	case v%time.Minute == 0:
		return strconv.FormatInt(int64(v/time.Minute), 10) + "m"
	case v%time.Second == 0:
		return strconv.FormatInt(int64(v/time.Second), 10) + "s"
	case v%time.Millisecond == 0:
		return strconv.FormatInt(int64(v/time.Millisecond), 10) + "ms"
	}
	return v.String()
}

// Go prints d as a Go expression: "50 * time.Millisecond".
func (d Duration) Go() string {
	v := time.Duration(d)
	units := []struct {
		name string
		unit time.Duration
	}{{"time.Hour", time.Hour}, {"time.Minute", time.Minute}, {"time.Second", time.Second},
		{"time.Millisecond", time.Millisecond}, {"time.Microsecond", time.Microsecond}}
	if v == 0 {
		return "0"
	}
	for _, u := range units {
		if v%u.unit == 0 {
			return fmt.Sprintf("%d * %s", v/u.unit, u.name)
		}
	}
	return strconv.FormatInt(int64(v), 10)
}

// Duration returns d as a time.Duration.
func (d Duration) Duration() time.Duration { return time.Duration(d) }

// UnmarshalYAML reads "50ms", "5s", "10m".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return &fieldError{line: n.Line, msg: fmt.Sprintf("%q is not a duration (write it like 50ms, 5s or 10m)", s)}
	}
	if v < 0 {
		return &fieldError{line: n.Line, msg: fmt.Sprintf("%q is negative", s)}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes d in its short form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalText is used by JSON output.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// fieldError is a YAML value error that knows its line.
type fieldError struct {
	msg  string
	line int
}

func (e *fieldError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }
