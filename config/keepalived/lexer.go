package keepalived

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// This file turns keepalived.conf text into a flat stream of statements, the
// way keepalived 2.2.7's lib/parser.c read_line() does:
//
//  1. each physical line is "decommented": leading blanks are removed, '!' or
//     '#' outside double quotes starts a comment anywhere on the line, "\#"
//     and "\!" outside quotes are a literal '#' and '!', trailing blanks are
//     removed;
//  2. '@id ' / '@^id ' conditional prefixes are evaluated against the
//     config-id, '$NAME=value' lines define parameters and '$NAME' /
//     '${NAME}' are substituted (then the line is decommented again);
//  3. a line starting with "include" (or includer, includem, includew,
//     includeb, includea) includes the files matching the REST OF THE LINE,
//     spaces and braces included;
//  4. every '{' and '}' outside double quotes is split off into a statement
//     of its own, so "a { b }" is the three statements "a", "{", "b", "}".
//
// A statement is then split into words at blanks; a word starting with '"'
// runs to the next '"' (no escapes) and the quotes are dropped.

const (
	// maxLineLen is keepalived's MAXBUF-1: longer lines are cut by fgets().
	maxLineLen = 1023
	// maxIncludeDepth bounds nested includes (keepalived has no limit, but
	// runs out of file descriptors).
	maxIncludeDepth = 32
	// maxSubstLen and maxSubstSteps bound parameter substitution, which
	// can otherwise grow without end (e.g. $A=$A$A).
	maxSubstLen   = 64 << 10
	maxSubstSteps = 1000
	// maxExpandLines bounds the lines one line expands to through
	// multi-line parameters (which may refer to themselves).
	maxExpandLines = 10000
)

// stmt is one keepalived statement: a keyword and its arguments, or a lone
// brace.
type stmt struct {
	file  string
	line  int
	words []string
	// raw is the statement's text after comments, substitution and brace
	// splitting: keepalived re-reads it for scripts with its shell-like
	// quoting (see splitQuotedEscaped).
	raw string
	// brace is '{' or '}' for a block delimiter, 0 otherwise.
	brace byte
}

func (s stmt) pos() string { return s.file + ":" + strconv.Itoa(s.line) }

// definition is a keepalived $NAME=value parameter.
type definition struct {
	value string
	// lines holds the lines of a multi-line definition ("$NAME= \" followed
	// by continuation lines); value is then unused.
	lines     []string
	multiline bool
}

type lexer struct {
	opts     Options
	configID string
	defs     map[string]*definition
	out      []stmt
	warnings []Warning
	files    []string
	// stack holds the cleaned absolute paths of the files being read, for
	// include cycle detection, and names the files as the user wrote them.
	stack     []string
	stackName []string
	// collecting is the multi-line definition being read, if any.
	collecting *definition
	// budget counts the substitutions left for the current line.
	budget     int
	condWarned bool
	seqWarned  bool
}

func (lx *lexer) warn(file string, line int, format string, args ...any) {
	lx.warnings = append(lx.warnings, Warning{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
}

// readFile lexes one file's content, recursing into includes.
func (lx *lexer) readFile(name string, src []byte) error {
	abs, err := filepath.Abs(name)
	if err != nil {
		abs = filepath.Clean(name)
	}
	lx.stack = append(lx.stack, abs)
	lx.stackName = append(lx.stackName, name)
	defer func() {
		lx.stack = lx.stack[:len(lx.stack)-1]
		lx.stackName = lx.stackName[:len(lx.stackName)-1]
	}()
	lx.files = append(lx.files, name)

	text := string(src)
	lineNo := 0
	for len(text) > 0 {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		lineNo++
		line = strings.TrimRight(line, "\r")
		if len(line) > maxLineLen {
			lx.warn(name, lineNo, "line is %d bytes long; keepalived reads lines of at most %d bytes and splits longer ones", len(line), maxLineLen)
		}
		if lx.collecting != nil && line == "" {
			// A blank line ends a multi-line definition.
			lx.collecting = nil
			continue
		}
		clean, unterminated := decomment(line)
		if unterminated {
			return &Error{File: name, Line: lineNo, Message: "unterminated quote"}
		}
		if clean == "" {
			continue
		}
		if d := lx.collecting; d != nil {
			if strings.HasSuffix(clean, `\`) {
				clean = strings.TrimRight(strings.TrimSuffix(clean, `\`), " \t")
				if clean != "" {
					d.lines = append(d.lines, clean)
				}
				continue
			}
			d.lines = append(d.lines, clean)
			lx.collecting = nil
			continue
		}
		if err := lx.logical(name, lineNo, clean); err != nil {
			return err
		}
	}
	return nil
}

// logical processes one decommented line (and the lines a multi-line
// parameter expands to).
func (lx *lexer) logical(file string, line int, text string) error {
	queue := []string{text}
	lx.budget = maxSubstSteps
	expanded := 0
	for len(queue) > 0 {
		text, queue = queue[0], queue[1:]
		more, err := lx.expand(file, line, text)
		if err != nil {
			return err
		}
		if len(more) == 0 {
			continue
		}
		if expanded += len(more) - 1; expanded > maxExpandLines {
			return &Error{File: file, Line: line, Message: fmt.Sprintf("parameter expansion produces more than %d lines (recursive definition?)", maxExpandLines)}
		}
		text = more[0]
		queue = append(append([]string(nil), more[1:]...), queue...)
		if pattern, kind, ok := includeLine(text); ok {
			if err := lx.include(file, line, pattern, kind); err != nil {
				return err
			}
			continue
		}
		// Split off the first brace. Like keepalived, the rest of the line
		// then goes through conditionals, substitution and include
		// handling again.
		var residue string
		switch p := findBrace(text); {
		case p < 0:
			err = lx.emit(file, line, text, 0)
		case p == 0:
			err = lx.emit(file, line, text[:1], text[0])
			residue = strings.TrimLeft(text[1:], " \t")
		default:
			err = lx.emit(file, line, text[:p], 0)
			residue = text[p:]
		}
		if err != nil {
			return err
		}
		if residue != "" {
			queue = append([]string{residue}, queue...)
		}
	}
	return nil
}

// expand applies conditional prefixes, parameter definitions and parameter
// substitution to a line. It returns the resulting lines (none if the line
// was a definition or is excluded by a conditional).
func (lx *lexer) expand(file string, line int, text string) ([]string, error) {
	var rest []string
	for {
		if text == "" {
			return rest, nil
		}
		if text[0] == '@' {
			keep, remainder := lx.conditional(file, line, text)
			if !keep {
				return rest, nil
			}
			text = remainder
			if text == "" {
				return rest, nil
			}
		}
		if text[0] == '$' {
			if name, value, ok := parseDefinition(text); ok {
				d := &definition{value: value}
				if strings.HasSuffix(value, `\`) {
					d.multiline = true
					first := strings.TrimRight(strings.TrimSuffix(value, `\`), " \t")
					d.value = ""
					if first != "" {
						d.lines = append(d.lines, first)
					}
					lx.collecting = d
				}
				lx.defs[name] = d
				return rest, nil
			}
		}
		if strings.HasPrefix(text, "~SEQ") || strings.HasPrefix(text, "~LST") {
			if !lx.seqWarned {
				lx.seqWarned = true
				lx.warn(file, line, "%s sequence/list blocks are not supported by vrrpguard; line ignored", text[:4])
			}
			return rest, nil
		}
		if text[0] == '~' {
			return append([]string{text}, rest...), nil
		}
		if !strings.Contains(text, "$") {
			return append([]string{text}, rest...), nil
		}
		out, extra, changed, err := lx.substitute(file, line, text)
		if err != nil {
			return nil, err
		}
		if !changed {
			return append([]string{text}, rest...), nil
		}
		var unterminated bool
		text, unterminated = decomment(out)
		if unterminated {
			return nil, &Error{File: file, Line: line, Message: "unterminated quote after parameter substitution"}
		}
		rest = append(extra, rest...)
	}
}

// conditional evaluates a line starting with '@'. It reports whether the
// line is kept and the line without its prefix.
func (lx *lexer) conditional(file string, line int, text string) (bool, string) {
	rev := strings.HasPrefix(text, "@^")
	off := 1
	if rev {
		off = 2
	}
	sp := strings.IndexAny(text[off:], " \t")
	if sp < 0 {
		return false, ""
	}
	id := text[off : off+sp]
	if !lx.condWarned {
		lx.condWarned = true
		lx.warn(file, line, "conditional configuration ('@') evaluated for config-id %q (keepalived -i); other nodes see a different configuration", lx.configID)
	}
	match := lx.configID != "" && id == lx.configID
	if match == rev {
		return false, ""
	}
	return true, strings.TrimLeft(text[off+sp:], " \t")
}

// parseDefinition recognises "$NAME=value" (blanks allowed before '=').
func parseDefinition(text string) (name, value string, ok bool) {
	if len(text) < 2 || text[0] != '$' || !isNameStart(text[1]) {
		return "", "", false
	}
	i := 2
	for i < len(text) && isNameChar(text[i]) {
		i++
	}
	name = text[1:i]
	j := i
	for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
		j++
	}
	if j >= len(text) || text[j] != '=' {
		return "", "", false
	}
	if j != i {
		// keepalived's name scan stops at the first non-name character
		// and requires '=' there.
		return "", "", false
	}
	value = strings.TrimLeft(text[j+1:], " \t")
	return name, value, true
}

func isNameStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isNameChar(c byte) bool { return isNameStart(c) || (c >= '0' && c <= '9') }

// substitute replaces $NAME and ${NAME} references. A reference to a
// multi-line definition at the end of the line expands to several lines:
// the first is merged into the result, the others are returned in extra.
func (lx *lexer) substitute(file string, line int, text string) (out string, extra []string, changed bool, err error) {
	b := []byte(text)
	for pos := 0; pos < len(b); {
		name, params, refEnd, ok := reference(b, pos)
		if !ok {
			pos++
			continue
		}
		value, d, known := lx.lookup(file, line, name, params)
		if !known {
			pos++
			continue
		}
		lx.budget--
		if lx.budget < 0 {
			return "", nil, false, &Error{File: file, Line: line, Message: "parameter substitution does not terminate (recursive definition?)"}
		}
		if d != nil && d.multiline {
			if refEnd != len(b) {
				// keepalived only expands multi-line parameters at the end
				// of a line.
				pos++
				continue
			}
			first := ""
			if len(d.lines) > 0 {
				first = d.lines[0]
				extra = append(extra, d.lines[1:]...)
			}
			b = append(b[:pos], first...)
			changed = true
			break
		}
		b = slices.Concat(b[:pos], []byte(value), b[refEnd:])
		changed = true
		if len(b) > maxSubstLen {
			return "", nil, false, &Error{File: file, Line: line, Message: fmt.Sprintf("parameter substitution makes the line longer than %d bytes (recursive definition?)", maxSubstLen)}
		}
		// Like keepalived, rescan the replacement text itself.
	}
	return string(b), extra, changed, nil
}

// reference recognises a parameter reference at b[pos]: $NAME (ended by a
// blank, ',', ')' or the end of the line) or ${NAME} (${NAME params} for
// the predefined _RANDOM). refEnd is the index after it.
func reference(b []byte, pos int) (name, params string, refEnd int, ok bool) {
	if b[pos] != '$' || pos+1 >= len(b) {
		return "", "", 0, false
	}
	braces := b[pos+1] == '{'
	start := pos + 1
	if braces {
		start++
	}
	end := start
	for end < len(b) && isNameChar(b[end]) {
		end++
	}
	if end == start || !isNameStart(b[start]) {
		return "", "", 0, false
	}
	name = string(b[start:end])
	if !braces {
		if end < len(b) && !strings.ContainsRune(" \t,)", rune(b[end])) {
			return "", "", 0, false
		}
		return name, "", end, true
	}
	k := end
	for k < len(b) && (b[k] == ' ' || (b[k] >= '0' && b[k] <= '9')) {
		k++
	}
	if k >= len(b) || b[k] != '}' {
		return "", "", 0, false
	}
	return name, strings.TrimSpace(string(b[end:k])), k + 1, true
}

// lookup finds a parameter, including keepalived's predefined ones.
func (lx *lexer) lookup(file string, line int, name, params string) (string, *definition, bool) {
	if d, ok := lx.defs[name]; ok {
		if params != "" {
			return "", nil, false
		}
		return d.value, d, true
	}
	switch name {
	case "_PWD":
		dir := "."
		if len(lx.stack) > 0 {
			dir = filepath.Dir(lx.stack[len(lx.stack)-1])
		}
		return dir, nil, params == ""
	case "_INSTANCE":
		return lx.configID, nil, params == ""
	case "_HASH":
		return "#", nil, params == ""
	case "_BANG":
		return "!", nil, params == ""
	case "_RANDOM":
		lx.warn(file, line, "${_RANDOM} is random in keepalived; vrrpguard substitutes its lower bound")
		lo := "0"
		if f := strings.Fields(params); len(f) > 0 {
			lo = f[0]
		}
		return lo, nil, true
	}
	return "", nil, false
}

// includeLine recognises keepalived's include keywords. The pattern is the
// whole rest of the line.
func includeLine(text string) (pattern string, kind byte, ok bool) {
	if !strings.HasPrefix(text, "include") || len(text) < 8 {
		return "", 0, false
	}
	switch {
	case text[7] == ' ' || text[7] == '\t':
		kind = 0
		pattern = text[8:]
	case len(text) > 8 && strings.IndexByte("rmwba", text[7]) >= 0 && (text[8] == ' ' || text[8] == '\t'):
		kind = text[7]
		pattern = text[9:]
	default:
		return "", 0, false
	}
	return strings.TrimLeft(pattern, " \t"), kind, true
}

// include reads the files an include line names. kind is the letter after
// "include" (0 for none): with 'a' and 'w' (and 'm' for a pattern without
// wildcards) a missing file is an error, otherwise a warning.
func (lx *lexer) include(file string, line int, pattern string, kind byte) error {
	if pattern == "" {
		return &Error{File: file, Line: line, Message: "include: expected a file name or pattern"}
	}
	if len(lx.stack) >= maxIncludeDepth {
		return &Error{File: file, Line: line, Message: fmt.Sprintf("includes nested more than %d deep", maxIncludeDepth)}
	}
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(file), pattern)
	}
	matches, wild, err := lx.expandPattern(pattern)
	if err != nil {
		return &Error{File: file, Line: line, Message: err.Error()}
	}
	strict := kind == 'a' || kind == 'w' || (kind == 'm' && !wild)
	if len(matches) == 0 {
		if strict {
			return &Error{File: file, Line: line, Message: fmt.Sprintf("include%s %s: no file matches", kindSuffix(kind), pattern)}
		}
		if !wild {
			lx.warn(file, line, "include %s: no such file", pattern)
		}
		return nil
	}
	for _, m := range matches {
		if err := lx.includeFile(file, line, m, kind, strict); err != nil {
			return err
		}
	}
	return nil
}

// expandPattern expands braces and wildcards; wild tells whether there
// were wildcards (only a name without any can name a missing file).
func (lx *lexer) expandPattern(pattern string) (matches []string, wild bool, err error) {
	for _, p := range expandBraces(pattern) {
		if !hasGlobMeta(p) {
			matches = append(matches, p)
			continue
		}
		wild = true
		m, err := lx.opts.glob()(p)
		if err != nil {
			return nil, true, fmt.Errorf("include %s: %w", p, err)
		}
		matches = append(matches, m...)
	}
	return matches, wild, nil
}

// includeFile reads one included file m, unless it would close a cycle or
// is not a regular non-executable file.
func (lx *lexer) includeFile(file string, line int, m string, kind byte, strict bool) error {
	abs, err := filepath.Abs(m)
	if err != nil {
		abs = filepath.Clean(m)
	}
	for i, s := range lx.stack {
		if s == abs {
			chain := append(append([]string(nil), lx.stackName[i:]...), m)
			return &Error{File: file, Line: line, Message: "include cycle: " + strings.Join(chain, " -> ")}
		}
	}
	if lx.opts.ReadFile == nil {
		// Like keepalived, skip what is not a regular, non-executable
		// file.
		if fi, err := os.Stat(m); err == nil && (!fi.Mode().IsRegular() || fi.Mode()&0o111 != 0) {
			lx.warn(file, line, "include: %s is not a regular non-executable file; keepalived skips it", m)
			return nil
		}
	}
	src, err := lx.opts.readFile()(m)
	switch {
	case errors.Is(err, fs.ErrNotExist) && strict:
		// Only a pattern without wildcards can name a missing file.
		return &Error{File: file, Line: line, Message: fmt.Sprintf("include%s %s: no such file", kindSuffix(kind), m), Err: err}
	case errors.Is(err, fs.ErrNotExist):
		lx.warn(file, line, "include%s %s: no such file", kindSuffix(kind), m)
		return nil
	case err != nil:
		return &Error{File: file, Line: line, Message: fmt.Sprintf("include%s: %v", kindSuffix(kind), err), Err: err}
	}
	return lx.readFile(m, src)
}

func kindSuffix(kind byte) string {
	if kind == 0 {
		return ""
	}
	return string(kind)
}

func hasGlobMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// expandBraces performs csh-style brace expansion, as glob(GLOB_BRACE):
// "a{b,c{d,e}}f" is abf, acdf, acef.
func expandBraces(p string) []string {
	const limit = 1024
	open := -1
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '{':
			if depth == 0 {
				open = i
			}
			depth++
		case '}':
			if depth == 0 {
				continue
			}
			depth--
			if depth != 0 {
				continue
			}
			// Split the alternatives at top-level commas.
			var alts []string
			d, last := 0, open+1
			for j := open + 1; j < i; j++ {
				switch p[j] {
				case '{':
					d++
				case '}':
					d--
				case ',':
					if d == 0 {
						alts = append(alts, p[last:j])
						last = j + 1
					}
				}
			}
			alts = append(alts, p[last:i])
			if len(alts) == 1 {
				// "{x}" without a comma is literal in glob(3) brace
				// expansion; keep it and carry on after it.
				rest := expandBraces(p[i+1:])
				out := make([]string, 0, len(rest))
				for _, r := range rest {
					out = append(out, p[:i+1]+r)
				}
				return out
			}
			var out []string
			for _, a := range alts {
				for _, e := range expandBraces(p[:open] + a + p[i+1:]) {
					out = append(out, e)
					if len(out) >= limit {
						return out
					}
				}
			}
			return out
		}
	}
	return []string{p}
}

// findBrace returns the index of the first '{' or '}' outside double
// quotes, or -1; like keepalived it gives up at an unclosed quote.
func findBrace(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{', '}':
			return i
		case '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return -1
			}
			i += j + 1
		}
	}
	return -1
}

// emit tokenises a statement and appends it to the output.
func (lx *lexer) emit(file string, line int, text string, brace byte) error {
	text = strings.TrimRight(text, " \t")
	if text == "" {
		return nil
	}
	if brace != 0 {
		lx.out = append(lx.out, stmt{file: file, line: line, words: []string{string(brace)}, raw: text, brace: brace})
		return nil
	}
	words, ok := splitWords(text)
	if !ok {
		return &Error{File: file, Line: line, Message: "unmatched quote"}
	}
	if len(words) == 0 {
		return nil
	}
	lx.out = append(lx.out, stmt{file: file, line: line, words: words, raw: text})
	return nil
}

// decomment removes comments and leading and trailing blanks from a line,
// exactly as keepalived's decomment(): '!' and '#' start a comment unless
// inside double quotes; "\!" and "\#" outside quotes are the literal
// characters; a trailing '\' is kept. It reports an unterminated quote.
func decomment(s string) (string, bool) {
	s = strings.TrimLeft(s, " \t")
	b := []byte(s)
	quote, cont := false, false
	skip := -1
scan:
	for p := 0; p < len(b); {
		switch b[p] {
		case '"':
			if skip < 0 {
				quote = !quote
			}
			p++
		case '\\':
			if p+1 < len(b) {
				if !quote && (b[p+1] == '#' || b[p+1] == '!') {
					b = append(b[:p], b[p+1:]...)
					p++
				} else {
					p += 2
				}
				continue
			}
			b = b[:p]
			cont = true
			break scan
		case '!', '#':
			if !quote && skip < 0 {
				skip = p
			}
			p++
		default:
			p++
		}
	}
	if skip >= 0 && skip < len(b) {
		b = b[:skip]
	}
	out := strings.TrimRight(string(b), " \t")
	if cont {
		out += `\`
	}
	return out, quote
}

// splitWords splits a statement into words like keepalived's
// alloc_strvec_r(): blanks separate words, a word starting with '"' runs to
// the next '"' and loses its quotes, and an unquoted word also ends at '"'.
func splitWords(s string) ([]string, bool) {
	var words []string
	for {
		s = strings.TrimLeft(s, " \t\r\n\v\f")
		if s == "" {
			return words, true
		}
		if s[0] == '"' {
			j := strings.IndexByte(s[1:], '"')
			if j < 0 {
				return words, false
			}
			words = append(words, s[1:1+j])
			s = s[j+2:]
			continue
		}
		j := strings.IndexAny(s, " \t\r\n\v\f\"")
		if j < 0 {
			return append(words, s), true
		}
		words = append(words, s[:j])
		s = s[j:]
	}
}

// splitQuotedEscaped splits a string like keepalived's
// alloc_strvec_quoted_escaped(), used for scripts and their arguments:
// blanks separate words, "..." and '...' group (and may be adjacent to other
// text: ab"c d" is one word "abc d"), and backslash escapes \a \b \E \f \n
// \r \t \v \NNN (octal) \xHH \cC and \C (any other character C) are
// decoded.
func splitQuotedEscaped(s string) ([]string, error) {
	var words []string
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return words, nil
		}
		var w []byte
		var quote byte
		for i < len(s) {
			c := s[i]
			switch {
			case c == '\\':
				ch, next, err := unescape(s, i+1)
				if err != nil {
					return nil, err
				}
				w = append(w, ch)
				i = next
				continue
			case quote != 0 && c == quote:
				quote = 0
				i++
				continue
			case quote != 0:
				w = append(w, c)
				i++
				continue
			case c == '"' || c == '\'':
				quote = c
				i++
				continue
			case isSpace(c):
			default:
				w = append(w, c)
				i++
				continue
			}
			break
		}
		if quote != 0 {
			return nil, fmt.Errorf("missing terminating %c", quote)
		}
		words = append(words, string(w))
	}
}

// unescape decodes the escape sequence after a backslash, which starts at
// s[i], and returns the character and the index after the sequence.
func unescape(s string, i int) (ch byte, next int, err error) {
	if i >= len(s) {
		return 0, i, errors.New("missing escaped character at end")
	}
	switch e := s[i]; {
	case e == 'x' && i+1 < len(s) && isHex(s[i+1]):
		i++
		for i < len(s) && isHex(s[i]) {
			ch = ch<<4 | hexVal(s[i])
			i++
		}
	case e == 'c' && i+1 < len(s):
		ch = s[i+1] & 0x1f
		i += 2
	case e >= '0' && e <= '7':
		ch = e - '0'
		i++
		for k := 0; k < 2 && i < len(s) && s[i] >= '0' && s[i] <= '7'; k++ {
			ch = ch<<3 + (s[i] - '0')
			i++
		}
	default:
		ch = map[byte]byte{'a': '\a', 'b': '\b', 'E': 0x1b, 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}[e]
		if ch == 0 {
			ch = e
		}
		i++
	}
	return ch, i, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// SplitScript splits a keepalived script command line (as stored in
// Script.Script or Instance.NotifyMaster etc.) into the program and its
// arguments with keepalived's rules: blanks separate words, single and
// double quotes group, and backslash escapes are decoded.
func SplitScript(cmd string) ([]string, error) {
	return splitQuotedEscaped(cmd)
}

func (o Options) readFile() func(string) ([]byte, error) {
	if o.ReadFile != nil {
		return o.ReadFile
	}
	return os.ReadFile
}

func (o Options) glob() func(string) ([]string, error) {
	if o.Glob != nil {
		return o.Glob
	}
	return filepath.Glob
}

// topKeywords start keepalived.conf statements at the top level.
var topKeywords = set("global_defs", "vrrp_instance", "vrrp_script", "vrrp_sync_group", "virtual_server",
	"virtual_server_group", "static_ipaddress", "static_routes", "static_rules", "vrrp_track_process",
	"vrrp_track_file", "track_file", "garp_group", "linkbeat_interfaces", "bfd_instance", "net_namespace",
	"include", "includer", "includem", "includew", "includeb", "includea")

// Recognize reports whether src reads as a keepalived.conf: a line, without
// its comment, starts with a keyword of keepalived.conf's top level
// (global_defs, vrrp_instance, include, ...), alone or before a brace.
func Recognize(src []byte) bool {
	for _, line := range strings.Split(string(src), "\n") {
		line, _ = decomment(line)
		f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == '{' || r == '}' })
		if len(f) > 0 && topKeywords[f[0]] {
			return true
		}
	}
	return false
}
