package generator

import (
	"errors"
	"strings"
	"testing"
)

func TestValidatePorts(t *testing.T) {
	flag := func(field string) string { return "--" + strings.ReplaceAll(field, "_", "-") }
	for _, tc := range []struct {
		http, admin int
		want, flags string
	}{
		{8080, 9090, "", ""},
		{70000, 9090, "http_port 70000: a port is between 1 and 65535", "--http-port 70000: a port is between 1 and 65535"},
		{8080, -1, "admin_port -1: a port is between 1 and 65535", "--admin-port -1: a port is between 1 and 65535"},
		{0, 0, "http_port 0: a port is between 1 and 65535", "--http-port 0: a port is between 1 and 65535"},
		{8080, 8080, "http_port and admin_port are both 8080: the admin port needs its own", "--http-port and --admin-port are both 8080: the admin port needs its own"},
	} {
		o := Options{HTTPPort: tc.http, AdminPort: tc.admin}
		err := o.ValidatePorts()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%d/%d: %v", tc.http, tc.admin, err)
			}
			continue
		}
		var pe *PortError
		if !errors.As(err, &pe) || err.Error() != tc.want || pe.Named(flag).Error() != tc.flags {
			t.Errorf("%d/%d: error %v, want %q (by flags %q)", tc.http, tc.admin, err, tc.want, tc.flags)
		}
		// Options.Validate applies the same rule.
		o.Name, o.Module, o.Preset = "svc", "example.com/svc", "hot-path"
		if err := o.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("%d/%d: Validate: %v, want %q", tc.http, tc.admin, err, tc.want)
		}
	}
}
