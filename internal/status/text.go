package status

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the document as the terminal tables of `vrrpguard
// status`: the participant's instances (run), the segments with their
// routers, the virtual addresses and their holders, and the active
// findings. Times are shown in loc.
func WriteText(w io.Writer, d *Doc, loc *time.Location) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(d.Instances) > 0 {
		writeInstances(tw, d, loc)
		fmt.Fprintln(tw)
	}
	if len(d.Demotion) > 0 {
		writeDemotion(tw, d, loc)
		fmt.Fprintln(tw)
	}
	writeSegments(tw, d, loc)
	fmt.Fprintln(tw)
	writeVIPs(tw, d, loc)
	fmt.Fprintln(tw)
	writeFindings(tw, d)
	return tw.Flush()
}

func clock(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("15:04:05")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeInstances(tw io.Writer, d *Doc, loc *time.Location) {
	in := append(d.Instances[:0:0], d.Instances...)
	sort.SliceStable(in, func(i, j int) bool { return in[i].Instance < in[j].Instance })
	fmt.Fprintln(tw, "INSTANCE\tINTERFACE\tVRID\tVERSION\tSTATE\tPRIORITY\tMASTER\tSINCE\tREASON")
	for _, s := range in {
		master := s.Master
		if s.State == "MASTER" {
			master = "(self)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\tv%d/%s\t%s\t%d\t%s\t%s\t%s\n", s.Instance, s.Interface, s.VRID, s.Version, s.Family,
			s.State, s.Priority, dash(master), s.Since.In(loc).Format(time.RFC3339), s.Reason)
	}
}

func writeSegments(tw io.Writer, d *Doc, loc *time.Location) {
	fmt.Fprintln(tw, "INTERFACE\tFAMILY\tVRID\tHEALTH\tMASTERS\tMASTER\tSINCE\tROUTERS")
	if len(d.Segments) == 0 {
		fmt.Fprintln(tw, "(no VRRP advertisement seen yet)")
	}
	for _, g := range d.Segments {
		master := "-"
		if g.Master != "" {
			master = g.Master + " (" + g.MasterMAC + ")"
		}
		var rs []string
		for _, r := range g.Routers {
			rt := fmt.Sprintf("%s prio %d %s", r.Address, r.Priority, r.Role)
			if r.AuthDigest != "" {
				rt += " auth " + r.AuthDigest // as the page shows it
			}
			rs = append(rs, rt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\n", g.Interface, g.Family, g.VRID, strings.ToUpper(g.Health),
			g.Masters, master, clock(g.MasterSince, loc), dash(strings.Join(rs, ", ")))
	}
}

func writeVIPs(tw io.Writer, d *Doc, loc *time.Location) {
	fmt.Fprintln(tw, "VIP\tINTERFACE\tVRIDS\tHOLDERS")
	for _, v := range d.VIPs {
		var vrids []string
		for _, id := range v.VRIDs {
			vrids = append(vrids, fmt.Sprint(id))
		}
		var hs []string
		for _, h := range v.Holders {
			who := h.MAC
			if h.Router != "" {
				who += " (" + h.Router + ")"
			}
			hs = append(hs, who+" at "+clock(h.LastClaim, loc))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Address, dash(v.Interface), dash(strings.Join(vrids, ",")), dash(strings.Join(hs, ", ")))
	}
}

func writeFindings(tw io.Writer, d *Doc) {
	fmt.Fprintln(tw, "SEVERITY\tKIND\tINTERFACE\tVRID\tMESSAGE")
	if len(d.Findings) == 0 {
		fmt.Fprintln(tw, "(no active finding)")
	}
	for _, f := range d.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", f.Severity, f.Kind, dash(f.Interface), f.VRID, f.Message)
	}
}

func writeDemotion(tw io.Writer, d *Doc, loc *time.Location) {
	fmt.Fprintln(tw, "INSTANCE\tSELF-DEMOTION\tSINCE\tREASON\tRIVALS")
	for _, x := range d.Demotion {
		var rs []string
		for _, r := range x.Rivals {
			live := ""
			if r.Live {
				live = " live"
			}
			rs = append(rs, fmt.Sprintf("%s prio %d %s%s", r.Address, r.Priority, r.Claim, live))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", x.Instance, x.Mode, clock(x.Since, loc), dash(x.Reason), dash(strings.Join(rs, ", ")))
	}
}
