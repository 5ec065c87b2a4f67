package keepalived

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// samplesDir holds keepalived.conf files in the style of keepalived's
// doc/samples, covering what people run (the vrrpguard check and
// keepalived -t lab test, internal/app, loads them too).
const samplesDir = "../../testdata/keepalived-samples"

// sampleBlocks maps a block keyword to the keyword table's block name for
// the blocks whose keywords the table lists.
var sampleBlocks = map[string]string{
	"global_defs":     gd,
	"vrrp_instance":   vi,
	"vrrp_sync_group": vsg,
	"vrrp_script":     vs,
	"authentication":  au,
}

// addrValueOpts are the address options that take a value.
var addrValueOpts = map[string]bool{"dev": true, "brd": true, "broadcast": true, "scope": true, "label": true,
	"peer": true, "track_group": true, "preferred_lft": true}

// TestSampleKeywords walks every keyword of every sample with the lexer and
// checks that each is either implemented (the keyword table) or warned
// about at its file:line.
func TestSampleKeywords(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.conf"))
	if err != nil || len(files) < 20 {
		t.Fatalf("samples: %v %v", files, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			o := Options{ConfigID: "lb-a"}
			_, ws, err := o.Parse(file, src)
			if err != nil {
				t.Fatalf("vrrpguard cannot load it: %v", err)
			}
			warned := map[string]bool{}
			for _, w := range ws {
				warned[w.File+":"+itoaLine(w.Line)] = true
			}
			lx := &lexer{opts: o, configID: o.ConfigID, defs: map[string]*definition{}}
			if err := lx.readFile(file, src); err != nil {
				t.Fatal(err)
			}
			root, err := buildTree(lx.out, file, strings.Count(string(src), "\n")+1)
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			var walk func(block string, nodes []*node)
			walk = func(block string, nodes []*node) {
				for _, n := range nodes {
					checked++
					k, known := lookupKeyword(block, n.kw())
					if !known || k.Status != Implemented {
						if !warned[n.pos()] {
							t.Errorf("%s: '%s' in %s is neither implemented nor warned about (warnings: %q)", n.pos(), n.kw(), block, warningStrings(ws))
						}
						continue // a skipped block is covered by its warning
					}
					if sub, ok := sampleBlocks[n.kw()]; ok && n.block {
						walk(sub, n.children)
					}
					if n.kw() == "virtual_ipaddress" || n.kw() == "virtual_ipaddress_excluded" {
						for _, l := range n.children {
							checkAddrOpts(t, l, warned)
						}
					}
				}
			}
			walk(Top, root.children)
			if checked == 0 {
				t.Error("no keyword walked")
			}
		})
	}
}

// checkAddrOpts checks the options of a virtual_ipaddress line.
func checkAddrOpts(t *testing.T, l *node, warned map[string]bool) {
	t.Helper()
	for i := 1; i < len(l.words); i++ {
		w := l.words[i]
		k, ok := lookupKeyword(va, w)
		if !ok {
			continue
		}
		if k.Status != Implemented && !warned[l.pos()] {
			t.Errorf("%s: address option '%s' neither implemented nor warned about", l.pos(), w)
		}
		if addrValueOpts[w] {
			i++
		}
	}
}

func itoaLine(n int) string { return strconv.Itoa(n) }

// TestREADMEExample: the example configuration README shows is the sample
// file the samples tests load (so the example is checked like them).
func TestREADMEExample(t *testing.T) {
	const name = "21-haproxy-pair.conf"
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	marker := "<!-- example: testdata/keepalived-samples/" + name
	_, rest, ok := strings.Cut(string(readme), marker)
	if !ok {
		t.Fatalf("README has no %q", marker)
	}
	_, rest, _ = strings.Cut(rest, "```\n")
	block, _, ok := strings.Cut(rest, "```")
	if !ok || block != string(conf) {
		t.Errorf("README's example differs from %s:\n%s", name, block)
	}
}
