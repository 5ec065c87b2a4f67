package config

import (
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/rules"
)

// decoder decodes a yaml.Node tree into Go values strictly: unknown keys,
// duplicate keys and values of the wrong type are errors with line numbers.
type decoder struct {
	file    string
	errs    []error
	lines   map[string]int          // path of each value decoded -> its line
	expects map[string]*expectEntry // path of each expect entry -> the entry as written
}

// errorf records an error at a line (at most 20: the first errors are the
// ones to fix).
func (d *decoder) errorf(line int, format string, args ...any) {
	if len(d.errs) < 20 {
		d.errs = append(d.errs, &Error{File: d.file, Line: line, Message: fmt.Sprintf(format, args...)})
	}
}

func describe(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decode decodes n into v; line is the line of n's key, where messages
// about n point (0: n's own line).
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, line int) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			d.decode(n.Content[0], v, path, line)
		}
		return
	case yaml.AliasNode:
		if n.Alias != nil {
			d.decode(n.Alias, v, path, line)
		}
		return
	}
	if line == 0 {
		line = n.Line
	}
	if path != "" {
		d.lines[path] = line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		// An empty value leaves the default in place.
		return
	}
	decoderFor(v.Type())(d, n, v, path, line)
}

// decodeFunc decodes a node (not null, not an alias) into a value of one
// type; line is where messages about the node point.
type decodeFunc func(d *decoder, n *yaml.Node, v reflect.Value, path string, line int)

// decoderFor returns how values of type t are decoded: the types YAML
// spells as strings by their own syntax, expect entries through their
// YAML form, the others by kind.
func decoderFor(t reflect.Type) decodeFunc {
	switch t {
	case reflect.TypeFor[time.Duration]():
		return (*decoder).duration
	case reflect.TypeFor[netip.Addr]():
		return (*decoder).addr
	case reflect.TypeFor[netip.Prefix]():
		return (*decoder).prefix
	case reflect.TypeFor[rules.Expected]():
		return (*decoder).expectEntry
	}
	switch t.Kind() {
	case reflect.Pointer:
		return (*decoder).pointer
	case reflect.Struct:
		return func(d *decoder, n *yaml.Node, v reflect.Value, path string, _ int) { d.decodeStruct(n, v, path) }
	case reflect.Slice:
		return (*decoder).list
	case reflect.Map:
		return (*decoder).mapping
	case reflect.String:
		return (*decoder).str
	case reflect.Bool:
		return (*decoder).boolean
	case reflect.Int:
		return (*decoder).integer
	}
	return func(d *decoder, n *yaml.Node, v reflect.Value, path string, _ int) {
		d.errorf(n.Line, "%s: cannot decode into %s", path, v.Type())
	}
}

// scalarValue decodes a scalar: parse returns its value and whether the
// text is one; want names what is expected, for messages.
func (d *decoder) scalarValue(n *yaml.Node, v reflect.Value, path, want string, parse func(s string) (any, bool)) {
	s, ok := d.scalar(n, path, want)
	if !ok {
		return
	}
	x, ok := parse(s)
	if !ok {
		d.errorf(n.Line, "%s: expected %s, got %q", path, want, s)
		return
	}
	v.Set(reflect.ValueOf(x).Convert(v.Type()))
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string, _ int) {
	d.scalarValue(n, v, path, "a duration like 1s or 100ms", func(s string) (any, bool) {
		dur, err := time.ParseDuration(s)
		return dur, err == nil && dur >= 0
	})
}

func (d *decoder) addr(n *yaml.Node, v reflect.Value, path string, _ int) {
	d.scalarValue(n, v, path, "an IP address", func(s string) (any, bool) {
		a, err := netip.ParseAddr(s)
		return a.Unmap(), err == nil && a.Zone() == ""
	})
}

func (d *decoder) prefix(n *yaml.Node, v reflect.Value, path string, _ int) {
	d.scalarValue(n, v, path, "an address or address/prefixlen", func(s string) (any, bool) {
		p, err := keepalived.ParseVIP(s)
		return p, err == nil
	})
}

func (d *decoder) str(n *yaml.Node, v reflect.Value, path string, _ int) {
	d.scalarValue(n, v, path, "a string", func(s string) (any, bool) { return s, true })
}

// boolean takes true and false, not yes, no, on or off.
func (d *decoder) boolean(n *yaml.Node, v reflect.Value, path string, _ int) {
	d.scalarValue(n, v, path, "true or false", func(s string) (any, bool) {
		b, err := strconv.ParseBool(strings.ToLower(s))
		return b, err == nil && n.Tag == "!!bool"
	})
}

// integer takes a plain whole number, not a quoted one.
func (d *decoder) integer(n *yaml.Node, v reflect.Value, path string, _ int) {
	d.scalarValue(n, v, path, "a whole number", func(s string) (any, bool) {
		i, err := strconv.ParseInt(s, 10, 32)
		return i, err == nil && n.Tag == "!!int"
	})
}

func (d *decoder) pointer(n *yaml.Node, v reflect.Value, path string, line int) {
	if v.IsNil() {
		v.Set(reflect.New(v.Type().Elem()))
	}
	d.decode(n, v.Elem(), path, line)
}

func (d *decoder) list(n *yaml.Node, v reflect.Value, path string, _ int) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, "%s: expected a list, got %s", path, kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		d.decode(c, s.Index(i), path+"["+strconv.Itoa(i)+"]", 0)
	}
	v.Set(s)
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string, _ int) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, "%s: expected a mapping, got %s", path, kindName(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	d.pairs(n, path, "%[2]s: duplicate key %[1]q (first at line %[3]d)", func(key string, k, val *yaml.Node) {
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, e, join(path, key), k.Line)
		m.SetMapIndex(reflect.ValueOf(key), e)
	})
	v.Set(m)
}

// pairs calls each for every key of mapping n and its value, except keys
// that are not scalars (reported) and duplicates (reported with dupFormat,
// whose arguments are the key, the mapping's path and the line of the
// first).
func (d *decoder) pairs(n *yaml.Node, path, dupFormat string, each func(key string, k, val *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key, ok := d.scalar(k, path, "a key")
		if !ok {
			continue
		}
		if first, dup := seen[key]; dup {
			d.errorf(k.Line, dupFormat, key, describe(path), first)
			continue
		}
		seen[key] = k.Line
		each(key, k, val)
	}
}

// scalar returns a scalar node's value, or reports what was expected.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n.Line, "%s: expected %s, got %s", describe(path), want, kindName(n))
		return "", false
	}
	return n.Value, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// decodeStruct decodes a mapping into a struct by the fields' yaml tags.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, "%s: expected a mapping, got %s", describe(path), kindName(n))
		return
	}
	t := v.Type()
	fields := map[string]int{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	d.pairs(n, path, "duplicate key %[1]q in %[2]s (first at line %[3]d)", func(key string, k, val *yaml.Node) {
		idx, ok := fields[key]
		if !ok {
			d.errorf(k.Line, "unknown key %q in %s (expected one of %s)", key, describe(path), strings.Join(names, ", "))
			return
		}
		d.decode(val, v.Field(idx), join(path, key), k.Line)
	})
}

// at returns the line of a decoded path, or of its closest decoded parent.
func (d *decoder) at(path string) int {
	for {
		if l, ok := d.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
}

func (d *decoder) check(cond bool, path, format string, args ...any) {
	if !cond {
		d.errorf(d.at(path), "%s: %s", path, fmt.Sprintf(format, args...))
	}
}
