// Package profiling streams continuous profiles (CPU and allocations) to a
// Pyroscope server, when one is configured. With no server address nothing
// starts: no goroutine, no overhead.
package profiling

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/grafana/pyroscope-go"
)

// Config says where profiles go.
type Config struct {
	// Tags are added to every profile (region, version...).
	Tags map[string]string
	// ServerAddress is the Pyroscope URL, e.g. http://pyroscope:4040;
	// empty turns profiling off.
	ServerAddress string
	// AppName names the service in Pyroscope.
	AppName string
	// UploadRate is how often profiles are pushed; zero means every 15 s.
	UploadRate time.Duration
}

// ProfileTypes are the profiles collected: CPU and the four allocation views.
var ProfileTypes = []pyroscope.ProfileType{
	pyroscope.ProfileCPU,
	pyroscope.ProfileAllocObjects,
	pyroscope.ProfileAllocSpace,
	pyroscope.ProfileInuseObjects,
	pyroscope.ProfileInuseSpace,
}

// Start starts the profiler when cfg.ServerAddress is set and returns the
// func that stops it, flushing the last profiles; call it on shutdown.
// Without an address it starts nothing and stop is a no-op.
func Start(cfg Config, log *slog.Logger) (stop func() error, err error) {
	if cfg.ServerAddress == "" {
		return func() error { return nil }, nil
	}
	if cfg.AppName == "" {
		return nil, errors.New("profiling: AppName is empty (PYROSCOPE_APP_NAME)")
	}
	if log == nil {
		log = slog.Default()
	}
	p, err := pyroscope.Start(pyroscope.Config{
		ApplicationName: cfg.AppName,
		ServerAddress:   cfg.ServerAddress,
		Tags:            cfg.Tags,
		UploadRate:      cfg.UploadRate,
		ProfileTypes:    ProfileTypes,
		Logger:          logger{log.With(slog.String("component", "pyroscope"))},
	})
	if err != nil {
		return nil, fmt.Errorf("profiling: start pyroscope for %s: %w", cfg.ServerAddress, err)
	}
	log.Info("continuous profiling on", slog.String("server", cfg.ServerAddress), slog.String("app", cfg.AppName))
	return p.Stop, nil
}

// logger adapts slog to pyroscope.Logger; its info chatter goes to debug.
type logger struct{ l *slog.Logger }

func (a logger) Infof(format string, args ...any)  { a.l.Debug(fmt.Sprintf(format, args...)) }
func (a logger) Debugf(format string, args ...any) { a.l.Debug(fmt.Sprintf(format, args...)) }
func (a logger) Errorf(format string, args ...any) { a.l.Error(fmt.Sprintf(format, args...)) }
