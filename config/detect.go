package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Kind is the kind of a configuration file.
type Kind int

// Configuration file kinds.
const (
	KindUnknown Kind = iota
	// KindKeepalived is a keepalived.conf.
	KindKeepalived
	// KindYAML is a vrrpguard YAML file.
	KindYAML
)

// String returns "keepalived", "yaml" or "unknown".
func (k Kind) String() string {
	switch k {
	case KindKeepalived:
		return "keepalived"
	case KindYAML:
		return "yaml"
	}
	return "unknown"
}

// Detect tells a keepalived.conf from a vrrpguard YAML file by content; the
// extension (.yaml/.yml, .conf) only decides when the content does not.
func Detect(path string) (Kind, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return KindUnknown, err
	}
	if k := DetectBytes(src); k != KindUnknown {
		return k, nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return KindYAML, nil
	case ".conf":
		return KindKeepalived, nil
	}
	return KindUnknown, fmt.Errorf("%s: cannot tell whether this is a keepalived.conf or a vrrpguard YAML file", path)
}

// keepalivedTop are keywords that start keepalived.conf statements at the
// top level.
var keepalivedTop = set("global_defs", "vrrp_instance", "vrrp_script", "vrrp_sync_group", "virtual_server",
	"virtual_server_group", "static_ipaddress", "static_routes", "static_rules", "vrrp_track_process",
	"vrrp_track_file", "track_file", "garp_group", "linkbeat_interfaces", "bfd_instance", "net_namespace",
	"include", "includer", "includem", "includew", "includeb", "includea")

// DetectBytes is Detect on content, without the extension hint; it returns
// KindUnknown when the content is not conclusive.
func DetectBytes(src []byte) Kind {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err == nil && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		m := doc.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			switch m.Content[i].Value {
			case "watch", "rules", "expect", "keepalived", "alerts":
				return KindYAML
			}
		}
	}
	for _, line := range strings.Split(string(src), "\n") {
		line, _ = decomment(line)
		f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == '{' || r == '}' })
		if len(f) > 0 && keepalivedTop[f[0]] {
			return KindKeepalived
		}
	}
	return KindUnknown
}
