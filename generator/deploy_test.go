package generator

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestDeployManifests checks, for every preset and for a preset with a
// feature added, that the deploy files survive a rollout: the grace period
// covers the preStop sleep and both drains of SHUTDOWN_TIMEOUT, every URL
// a feature needs comes from a Secret (none falls back to 127.0.0.1), a
// startupProbe guards the first start, a NetworkPolicy keeps the admin port
// inside the cluster, and compose publishes nothing beyond 127.0.0.1.
func TestDeployManifests(t *testing.T) {
	c, err := LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	type variant struct {
		name string
		opts Options
	}
	var variants []variant
	for _, p := range c.Presets() {
		variants = append(variants, variant{p.Name, goldenOptions(p.Name)})
	}
	o := goldenOptions("hot-path")
	o.Features = []string{"+cache3"}
	variants = append(variants, variant{"hot-path+cache3", o})

	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			res, err := Generate(context.Background(), Request{Catalog: c, Options: v.opts})
			if err != nil {
				t.Fatal(err)
			}
			files := map[string][]byte{}
			for _, f := range res.Files {
				files[f.Path] = f.Content
			}
			get := func(p string) []byte {
				t.Helper()
				b, ok := files[p]
				if !ok {
					t.Fatalf("%s renders no %s", v.name, p)
				}
				return b
			}

			var dep struct {
				Spec struct {
					Template struct {
						Metadata struct {
							Labels map[string]string `yaml:"labels"`
						} `yaml:"metadata"`
						Spec struct {
							Containers []struct {
								Env []struct {
									ValueFrom *struct {
										SecretKeyRef *struct{ Name, Key string } `yaml:"secretKeyRef"`
									} `yaml:"valueFrom"`
									Name  string `yaml:"name"`
									Value string `yaml:"value"`
								} `yaml:"env"`
								Ports []struct {
									Name string `yaml:"name"`
								} `yaml:"ports"`
								StartupProbe *struct {
									HTTPGet struct {
										Path string `yaml:"path"`
									} `yaml:"httpGet"`
									PeriodSeconds    int `yaml:"periodSeconds"`
									FailureThreshold int `yaml:"failureThreshold"`
								} `yaml:"startupProbe"`
								Lifecycle struct {
									PreStop struct {
										Sleep struct {
											Seconds int `yaml:"seconds"`
										} `yaml:"sleep"`
									} `yaml:"preStop"`
								} `yaml:"lifecycle"`
							} `yaml:"containers"`
							TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
						} `yaml:"spec"`
					} `yaml:"template"`
				} `yaml:"spec"`
			}
			if err := yaml.Unmarshal(get("deploy/k8s/deployment.yaml"), &dep); err != nil {
				t.Fatalf("deployment.yaml: %v", err)
			}
			pod := dep.Spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("deployment.yaml: %d containers, want 1", len(pod.Containers))
			}
			ctr := pod.Containers[0]
			env := map[string]string{}
			secret := map[string]string{}
			for _, e := range ctr.Env {
				env[e.Name] = e.Value
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					secret[e.Name] = e.ValueFrom.SecretKeyRef.Name
				}
			}

			// Grace period: preStop + SHUTDOWN_TIMEOUT twice.
			shutdown, err := time.ParseDuration(env["SHUTDOWN_TIMEOUT"])
			if err != nil {
				t.Fatalf("SHUTDOWN_TIMEOUT in deployment.yaml: %v", err)
			}
			preStop := time.Duration(ctr.Lifecycle.PreStop.Sleep.Seconds) * time.Second
			if preStop <= 0 {
				t.Error("deployment.yaml: no preStop sleep")
			}
			if grace := time.Duration(pod.TerminationGracePeriodSeconds) * time.Second; grace < preStop+2*shutdown {
				t.Errorf("terminationGracePeriodSeconds %v < preStop %v + 2 x SHUTDOWN_TIMEOUT %v: the kubelet kills the pod mid-drain", grace, preStop, shutdown)
			}

			// The URLs the service needs come from Secrets.
			want := []string{"DATABASE_URL"}
			// Redis: the cache's L2, the realtime rooms' link between pods.
			if slices.Contains(res.Features, "cache3") || slices.Contains(res.Features, "realtime") {
				want = append(want, "REDIS_URL")
			} else if _, ok := env["REDIS_URL"]; ok {
				t.Error("REDIS_URL set for a service without the cache3 or realtime feature")
			}
			for _, name := range want {
				if secret[name] == "" {
					t.Errorf("deployment.yaml sets no %s from a Secret: the pod falls back to 127.0.0.1", name)
				}
			}

			if p := ctr.StartupProbe; p == nil || p.HTTPGet.Path != "/healthz" || p.PeriodSeconds*p.FailureThreshold < 30 {
				t.Errorf("deployment.yaml: want a startupProbe on /healthz allowing at least 30s, got %+v", p)
			}

			// NetworkPolicy: the API port open, the admin port in-cluster.
			var np struct {
				Kind string `yaml:"kind"`
				Spec struct {
					PodSelector struct {
						MatchLabels map[string]string `yaml:"matchLabels"`
					} `yaml:"podSelector"`
					Ingress []struct {
						From []map[string]any `yaml:"from"`
						Port []struct {
							Port string `yaml:"port"`
						} `yaml:"ports"`
					} `yaml:"ingress"`
				} `yaml:"spec"`
			}
			if err := yaml.Unmarshal(get("deploy/k8s/networkpolicy.yaml"), &np); err != nil {
				t.Fatalf("networkpolicy.yaml: %v", err)
			}
			if np.Kind != "NetworkPolicy" {
				t.Fatalf("networkpolicy.yaml: kind %q", np.Kind)
			}
			for k, val := range np.Spec.PodSelector.MatchLabels {
				if dep.Spec.Template.Metadata.Labels[k] != val {
					t.Errorf("the NetworkPolicy selects %s=%s, which the pods do not carry", k, val)
				}
			}
			ports := map[string]bool{}
			for _, p := range ctr.Ports {
				ports[p.Name] = true
			}
			open := map[string]bool{}
			for _, rule := range np.Spec.Ingress {
				for _, p := range rule.Port {
					if !ports[p.Port] {
						t.Errorf("the NetworkPolicy names port %q, which the container does not", p.Port)
					}
					switch {
					case len(rule.From) == 0:
						open[p.Port] = true
					default:
						for _, from := range rule.From {
							if _, ok := from["ipBlock"]; ok {
								t.Errorf("port %s is opened to an ipBlock: %v", p.Port, from)
							}
						}
					}
				}
			}
			if !open["http"] || open["admin"] {
				t.Errorf("want the http port open and the admin port in-cluster only, open: %v", open)
			}

			// compose publishes on loopback only.
			var compose struct {
				Services map[string]struct {
					Ports []string `yaml:"ports"`
				} `yaml:"services"`
			}
			if err := yaml.Unmarshal(get("compose.yaml"), &compose); err != nil {
				t.Fatalf("compose.yaml: %v", err)
			}
			published := 0
			for name, s := range compose.Services {
				for _, p := range s.Ports {
					published++
					if !strings.HasPrefix(p, "127.0.0.1:") {
						t.Errorf("compose.yaml: service %s publishes %q on every interface", name, p)
					}
				}
			}
			if published == 0 {
				t.Error("compose.yaml publishes no port")
			}
		})
	}
}
