// Package config reads vrrpguard's configuration: its own strict YAML
// (File, LoadYAML, Default) and an unchanged keepalived.conf
// (LoadKeepalived), and merges both into the VRRP segments vrrpguard
// expects to see (Expectations).
//
// The keepalived reader follows keepalived 2.2.7's own parser (lib/parser.c)
// rather than the manual where they differ:
//
//   - The file is line oriented. '!' or '#' starts a comment anywhere on a
//     line unless inside double quotes ("auth_pass s3cret!xyz" is the
//     password "s3cret"); "\#" and "\!" are literal.
//   - Every '{' and '}' outside double quotes is a statement of its own:
//     "a { b }" reads as "a", "{", "b", "}". A keyword's block may open on
//     the same or the next line.
//   - Words are separated by blanks; "..." groups words and loses its
//     quotes. Scripts (script, notify_*) are re-read with shell-like
//     quoting: single quotes and backslash escapes too (SplitScript).
//   - include (and includer, includem, includew, includeb, includea) takes
//     the whole rest of the line as a glob pattern, with csh-style braces,
//     relative to the including file's directory. Includes nest; a cycle is
//     an error. Matches that are directories or executable files are
//     skipped, as keepalived skips them.
//   - '@id' / '@^id' conditional lines are evaluated for a config-id
//     (KeepalivedOptions.ConfigID, by default the host name, as keepalived
//     does); '$NAME=value' parameters, including multi-line ones, are
//     substituted. ~SEQ and ~LST lines are skipped with a warning.
//   - track_script only finds vrrp_scripts defined earlier in the file.
//
// Keywords vrrpguard does not use (LVS virtual_server blocks, static
// routes, BFD, ...) and unknown keywords are warnings, never errors.
// Values that would make an expectation wrong (a bad VRID, priority,
// address or interval, a missing interface or virtual_router_id, duplicate
// instances, an unclosed block) are errors carrying "file:line: ...".
// Corrections keepalived itself makes (rounding a fractional VRRPv2
// advert_int, dropping authentication in VRRPv3, priority 255 for a MASTER
// without priority, ...) are applied, each with a warning.
//
// VRRP itself is RFC 3768 (version 2) and RFC 5798 (version 3).
package config
