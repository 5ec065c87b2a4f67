package dashboards

import (
	"os"
	"path"
	"strings"
	"testing"
)

// TestProvisioning checks the Grafana provisioning files against each other
// and the README: the provider loads the directory the README mounts, and
// the provisioning directory the README names is the one beside it.
func TestProvisioning(t *testing.T) {
	var prov struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name    string `yaml:"name"`
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, "provisioning/dashboards/vrrpguard.yml", &prov)
	if prov.APIVersion != 1 || len(prov.Providers) != 1 {
		t.Fatalf("dashboard provisioning: apiVersion %d, %d providers; want 1 and 1", prov.APIVersion, len(prov.Providers))
	}
	p := prov.Providers[0]
	if p.Type != "file" || !path.IsAbs(p.Options.Path) {
		t.Errorf("provider %s: type %q, path %q; want a file provider with an absolute path", p.Name, p.Type, p.Options.Path)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"$PWD/dashboards:` + p.Options.Path + `:ro"`,
		"GF_PATHS_PROVISIONING=" + p.Options.Path + "/provisioning",
	} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not say %s (the provider loads %s)", want, p.Options.Path)
		}
	}

	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name     string `yaml:"name"`
			Type     string `yaml:"type"`
			URL      string `yaml:"url"`
			JSONData struct {
				TimeInterval string `yaml:"timeInterval"`
			} `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	readYAML(t, "provisioning/datasources/prometheus.yml", &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 {
		t.Fatalf("data source provisioning: apiVersion %d, %d data sources; want 1 and 1", ds.APIVersion, len(ds.Datasources))
	}
	if d := ds.Datasources[0]; d.Type != "prometheus" || d.URL == "" || d.JSONData.TimeInterval == "" {
		t.Errorf("data source %s: type %q, url %q, timeInterval %q; want prometheus with a url and the scrape interval", d.Name, d.Type, d.URL, d.JSONData.TimeInterval)
	}
}
