package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
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
	if keepalived.Recognize(src) {
		return KindKeepalived
	}
	return KindUnknown
}
