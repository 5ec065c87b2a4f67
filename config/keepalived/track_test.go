package keepalived

import (
	"strings"
	"testing"
	"time"
)

const trackInstance = `
vrrp_instance VI_1 {
 interface eth0
 virtual_router_id 51
 virtual_ipaddress {
  10.0.0.1/24
 }
 %s
}
`

func TestTrackProcessBlock(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      *TrackProcess // nil: dropped
		warn      string        // a warning containing this, "" for none
	}{
		{"defaults", "process haproxy", &TrackProcess{Process: "haproxy", Quorum: 1, QuorumMax: NoQuorumMax}, ""},
		{"params make it exact and full", `process "/usr/bin/a b" -f "x y"`,
			&TrackProcess{Process: "/usr/bin/a b", Params: []string{"-f", "x y"}, ParamMatch: "exact", FullCommand: true, Quorum: 1, QuorumMax: NoQuorumMax}, ""},
		{"param_match alone is exact", "process nginx\n param_match",
			&TrackProcess{Process: "nginx", ParamMatch: "exact", FullCommand: true, Quorum: 1, QuorumMax: NoQuorumMax}, ""},
		{"param_match partial before params", "param_match partial\n process nginx -g",
			&TrackProcess{Process: "nginx", Params: []string{"-g"}, ParamMatch: "partial", FullCommand: true, Quorum: 1, QuorumMax: NoQuorumMax}, ""},
		{"bad param_match", "process nginx\n param_match fuzzy",
			&TrackProcess{Process: "nginx", Quorum: 1, QuorumMax: NoQuorumMax}, "invalid type"},
		{"weight reverse, quorum, delays", "process x\n weight -20 reverse\n quorum 2\n quorum_max 4\n delay 1.5\n fork_delay 0.25",
			&TrackProcess{Process: "x", Weight: -20, Reverse: true, Quorum: 2, QuorumMax: 4, ForkDelay: 250 * time.Millisecond, TerminateDelay: 1500 * time.Millisecond}, ""},
		{"weight out of range", "process x\n weight 255",
			&TrackProcess{Process: "x", Quorum: 1, QuorumMax: NoQuorumMax}, "must be -254-254"},
		{"second weight ignored", "process x\n weight 5\n weight 7",
			&TrackProcess{Process: "x", Weight: 5, Quorum: 1, QuorumMax: NoQuorumMax}, "weight already set"},
		{"quorum_max 0: no process allowed", "process x\n quorum_max 0",
			&TrackProcess{Process: "x", Quorum: 0, QuorumMax: 0}, ""},
		{"quorum above quorum_max ignored", "process x\n quorum_max 2\n quorum 3",
			&TrackProcess{Process: "x", Quorum: 1, QuorumMax: 2}, "greater than quorum_max"},
		{"quorum_max below quorum ignored", "process x\n quorum 3\n quorum_max 2",
			&TrackProcess{Process: "x", Quorum: 3, QuorumMax: NoQuorumMax}, "less than quorum"},
		{"quorum 0 refused", "process x\n quorum 0",
			&TrackProcess{Process: "x", Quorum: 1, QuorumMax: NoQuorumMax}, "expected a number 1-65535"},
		{"delay 0 refused", "process x\n delay 0",
			&TrackProcess{Process: "x", Quorum: 1, QuorumMax: NoQuorumMax}, "delay: expected seconds"},
		{"unknown keyword", "process x\n frobnicate 1",
			&TrackProcess{Process: "x", Quorum: 1, QuorumMax: NoQuorumMax}, "unknown keyword 'frobnicate' in vrrp_track_process P"},
		{"no process: dropped", "weight 2", nil, "has no process"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "vrrp_track_process P {\n " + tc.src + "\n}\n"
			k, w, err := parse(t, src, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got *TrackProcess
			if len(k.TrackProcesses) > 0 {
				got = k.TrackProcesses[0]
				got.Name, got.File, got.Line = "", "", 0
			}
			if d := diff(tc.want, got); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
			checkWarning(t, w, tc.warn)
		})
	}
}

func checkWarning(t *testing.T, w []string, want string) {
	t.Helper()
	if want == "" {
		if len(w) > 0 {
			t.Errorf("warnings %q, want none", w)
		}
		return
	}
	for _, x := range w {
		if strings.Contains(x, want) && strings.HasPrefix(x, "keepalived.conf:") {
			return
		}
	}
	t.Errorf("no warning with %q and file:line in %q", want, w)
}

func TestTrackFileBlock(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      *TrackFile
		warn      string
	}{
		{"defaults", "file /run/x", &TrackFile{Path: "/run/x", Weight: 1}, ""},
		{"weight 0", "file /run/x\n weight 0", &TrackFile{Path: "/run/x"}, ""},
		{"weight reverse", "file /run/x\n weight -254 reverse", &TrackFile{Path: "/run/x", Weight: -254, Reverse: true}, ""},
		{"init_file", "file /run/x\n init_file", &TrackFile{Path: "/run/x", Weight: 1, InitFile: true}, ""},
		{"init_file value overwrite", "file /run/x\n init_file -7 overwrite", &TrackFile{Path: "/run/x", Weight: 1, InitFile: true, InitValue: -7, InitOverwrite: true}, ""},
		{"init_file odd value", "file /run/x\n init_file 300", &TrackFile{Path: "/run/x", Weight: 1, InitFile: true, InitValue: 300}, "outside the sensible range"},
		{"bad weight", "file /run/x\n weight lots", &TrackFile{Path: "/run/x", Weight: 1}, "must be -254-254"},
		{"no file", "weight 2", nil, "has no file"},
		{"unknown", "file /run/x\n interval 2", &TrackFile{Path: "/run/x", Weight: 1}, "unknown keyword 'interval' in track_file F"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, w, err := parse(t, "track_file F {\n "+tc.src+"\n}\n", nil)
			if err != nil {
				t.Fatal(err)
			}
			var got *TrackFile
			if len(k.TrackFiles) > 0 {
				got = k.TrackFiles[0]
				got.Name, got.File, got.Line = "", "", 0
			}
			if d := diff(tc.want, got); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
			checkWarning(t, w, tc.warn)
		})
	}
}

func TestTrackEntries(t *testing.T) {
	head := "vrrp_track_process P {\n process x\n weight -30\n}\ntrack_file F {\n file /run/f\n weight 3 reverse\n}\n"
	for _, tc := range []struct {
		name, before, body, after string
		procs, files              []Track
		warn                      string
	}{
		{name: "block weights", body: "track_process {\n  P\n }\n track_file {\n  F\n }",
			procs: []Track{{Name: "P", Weight: -30}}, files: []Track{{Name: "F", Weight: 3, Reverse: true}}},
		{name: "own weights", body: "track_process {\n  P weight 254 reverse\n }\n track_file {\n  F weight 0 noreverse\n }",
			procs: []Track{{Name: "P", Weight: 254, Reverse: true}}, files: []Track{{Name: "F", Weight: 0}}},
		{name: "undefined", body: "track_process {\n  Q\n }", warn: "no vrrp_track_process Q is defined"},
		{name: "defined later", body: "track_file {\n  G\n }", after: "track_file G {\n file /run/g\n}\n", warn: "defined after this point"},
		{name: "duplicate", body: "track_process {\n  P\n  P weight 2\n }", procs: []Track{{Name: "P", Weight: -30}}, warn: "duplicate track_process P"},
		{name: "bad option", body: "track_file {\n  F wait 2\n }", warn: `unknown option "wait"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := head + strings.Replace(trackInstance, "%s", tc.body, 1) + tc.after
			k, w, err := parse(t, src, nil)
			if err != nil {
				t.Fatal(err)
			}
			in := k.Instances[0]
			if d := diff(tc.procs, in.TrackProcesses); d != "" {
				t.Errorf("track_process (-want +got)\n%s", d)
			}
			if d := diff(tc.files, in.TrackFiles); d != "" {
				t.Errorf("track_file (-want +got)\n%s", d)
			}
			checkWarning(t, w, tc.warn)
		})
	}
	// A sync group's.
	src := head + strings.Replace(trackInstance, "%s", "", 1) + "vrrp_sync_group G {\n group {\n  VI_1\n }\n track_process {\n  P weight 0\n }\n track_file {\n  F\n }\n}\n"
	k, _, err := parse(t, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := k.SyncGroups[0]
	if d := diff([]Track{{Name: "P"}}, g.TrackProcesses); d != "" {
		t.Errorf("sync group track_process (-want +got)\n%s", d)
	}
	if d := diff([]Track{{Name: "F", Weight: 3, Reverse: true}}, g.TrackFiles); d != "" {
		t.Errorf("sync group track_file (-want +got)\n%s", d)
	}
}
