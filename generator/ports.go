package generator

import "fmt"

// PortError is a port of the options a service cannot listen on: out of
// range, or the admin port the same as the HTTP port (Field "").
type PortError struct {
	// Field is the answer at fault by its yaml name, http_port or
	// admin_port; "" when the two are the same port.
	Field string
	// Port is the port given.
	Port int
}

func (e *PortError) Error() string { return e.Named(nil).Error() }

// Named is the error with each answer called by name(field) instead of its
// yaml name: a command line names its flags (--http-port).
func (e *PortError) Named(name func(field string) string) error {
	if name == nil {
		name = func(field string) string { return field }
	}
	if e.Field == "" {
		return fmt.Errorf("%s and %s are both %d: the admin port needs its own", name("http_port"), name("admin_port"), e.Port)
	}
	return fmt.Errorf("%s %d: a port is between 1 and 65535", name(e.Field), e.Port)
}

// ValidatePorts checks the HTTP and admin ports; its errors are *PortError.
func (o *Options) ValidatePorts() error {
	for _, p := range []struct {
		name string
		v    int
	}{{"http_port", o.HTTPPort}, {"admin_port", o.AdminPort}} {
		if p.v < 1 || p.v > 65535 {
			return &PortError{Field: p.name, Port: p.v}
		}
	}
	if o.HTTPPort == o.AdminPort {
		return &PortError{Port: o.HTTPPort}
	}
	return nil
}
