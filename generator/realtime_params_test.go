package generator

import (
	"strings"
	"testing"
	"time"
)

func TestRealtimeParamsWithDefaults(t *testing.T) {
	d := RealtimeParams{}.WithDefaults()
	if d.Path != "/ws" || time.Duration(d.Tick) != 50*time.Millisecond || d.SendQueue != 256 || d.MaxMessageBytes != 4096 ||
		time.Duration(d.PingInterval) != 15*time.Second || time.Duration(d.PingTimeout) != 5*time.Second || time.Duration(d.WriteTimeout) != 2*time.Second {
		t.Fatalf("defaults of an absent block: %+v", d)
	}
	// A block that sets tick 0 (no batching) keeps it.
	set := RealtimeParams{Path: "/stream", SendQueue: 64}.WithDefaults()
	if set.Tick != 0 || set.Path != "/stream" || set.SendQueue != 64 || set.MaxMessageBytes != 4096 {
		t.Fatalf("defaults of a partial block: %+v", set)
	}
}

func TestRealtimeParamsValidate(t *testing.T) {
	for _, tc := range []struct {
		p    RealtimeParams
		want string
	}{
		{RealtimeParams{Path: "ws"}, "params.realtime.path"},
		{RealtimeParams{Tick: Duration(-time.Second)}, "cannot be negative"},
		{RealtimeParams{SendQueue: -1}, "send_queue"},
	} {
		p := Params{Realtime: tc.p}
		if err := p.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("validate(%+v) = %v, want an error about %s", tc.p, err, tc.want)
		}
	}
	p := Params{Realtime: RealtimeParams{Path: "/ws", Tick: Duration(50 * time.Millisecond)}}
	if err := p.validate(); err != nil {
		t.Fatal(err)
	}
}
