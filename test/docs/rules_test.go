package docs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// ruleID matches a program rule id (P1, S3, R7...) or a range of them
// (R1–R4, S1-S7), whose every id in between is named too.
var ruleID = regexp.MustCompile(`\b([POSBR])([0-9]+)(?:\s*[–-]\s*([POSBR])?([0-9]+))?\b`)

// ruleHeading matches a heading of docs/rules.md that defines a rule: its
// text starts with the id ("P1. A publisher needs an MPN ID").
var ruleHeading = regexp.MustCompile(`^([POSBR][0-9]+)\b`)

// codeDirs are where rule ids are named: the API (its comments become the
// CRDs' descriptions), the rules and records, the controllers, the
// commands, and the tests that name the rule they test.
var codeDirs = []string{"api", "internal", "controllers", "cmd", "test"}

// mention is where a rule id was first found.
type mention struct {
	file string
	line int
}

func (m mention) String() string { return fmt.Sprintf("%s:%d", m.file, m.line) }

// ruleMentions finds the rule ids named in the comments and string
// literals of the Go files under dirs (relative to root), whatever their
// build tags, and where each is first named.
func ruleMentions(t *testing.T, root string, dirs ...string) map[string]mention {
	t.Helper()
	found := map[string]mention{}
	fset := token.NewFileSet()
	note := func(text string, pos token.Pos) {
		for _, id := range idsIn(text) {
			if _, seen := found[id]; !seen {
				p := fset.Position(pos)
				rel, _ := filepath.Rel(root, p.Filename)
				found[id] = mention{file: rel, line: p.Line}
			}
		}
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && path == filepath.Join(root, "test", "docs"):
				// This package's own sources name ids as examples.
				return filepath.SkipDir
			case d.IsDir() || !strings.HasSuffix(path, ".go"):
				return nil
			}
			return textsOf(fset, path, note)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return found
}

// textsOf hands note the text of every comment and string literal of the
// Go file at path, with its position.
func textsOf(fset *token.FileSet, path string, note func(text string, pos token.Pos)) error {
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	for _, group := range f.Comments {
		for _, c := range group.List {
			note(c.Text, c.Pos())
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				note(s, lit.Pos())
			}
		}
		return true
	})
	return nil
}

// idsIn lists the rule ids text names, ranges expanded.
func idsIn(text string) []string {
	var ids []string
	for _, m := range ruleID.FindAllStringSubmatch(text, -1) {
		from, _ := strconv.Atoi(m[2])
		to := from
		if m[4] != "" && (m[3] == "" || m[3] == m[1]) {
			to, _ = strconv.Atoi(m[4])
		}
		if to < from || to-from > 20 {
			to = from
		}
		for n := from; n <= to; n++ {
			ids = append(ids, fmt.Sprintf("%s%d", m[1], n))
		}
		if m[3] != "" && m[3] != m[1] { // "B3-S6": two ids, not a range
			ids = append(ids, m[3]+m[4])
		}
	}
	return ids
}

// ruleHeadings are the rule ids docs/rules.md defines, by heading line.
func ruleHeadings(t *testing.T, root string) map[string]int {
	t.Helper()
	doc, err := readMarkdown(filepath.Join(root, "docs", "rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, h := range doc.headings {
		if m := ruleHeading.FindStringSubmatch(h.text); m != nil {
			if first, dup := ids[m[1]]; dup {
				t.Errorf("docs/rules.md:%d: rule %s has a second heading (the first is on line %d)", h.line, m[1], first)
			}
			ids[m[1]] = h.line
		}
	}
	return ids
}

// TestEveryRuleIDHasItsHeading checks that every rule id named in the code
// (comments, status messages, test names) is defined by a heading of
// docs/rules.md, and that every rule defined there is named by the code.
func TestEveryRuleIDHasItsHeading(t *testing.T) {
	root := repoRoot(t)
	headings := ruleHeadings(t, root)
	named := ruleMentions(t, root, codeDirs...)

	// The rules' own package and the API name nearly every rule: finding
	// few there means the extraction is broken, not that the docs are
	// complete.
	for _, dir := range []string{"internal/rewards", "api"} {
		if n := len(ruleMentions(t, root, dir)); n < 25 {
			t.Errorf("found %d distinct rule ids in %s: expected at least 25", n, dir)
		}
	}
	if len(headings) < 30 {
		t.Errorf("docs/rules.md has %d rule headings: expected at least 30", len(headings))
	}

	for _, id := range sortedIDs(named) {
		if _, ok := headings[id]; !ok {
			t.Errorf("rule %s, named at %s, has no heading in docs/rules.md (a heading starting with %q)", id, named[id], id+".")
		}
	}
	for _, id := range sortedIDs(headings) {
		if _, ok := named[id]; !ok {
			t.Errorf("docs/rules.md:%d defines rule %s, which nothing in %s names: say where it is enforced, or drop it",
				headings[id], id, strings.Join(codeDirs, ", "))
		}
	}
	t.Logf("%d rule ids named in the code, %d headings in docs/rules.md", len(named), len(headings))
}

func TestIDsIn(t *testing.T) {
	for text, want := range map[string]string{
		"rules O3–O6, B1–B5, R1–R6":           "O3 O4 O5 O6 B1 B2 B3 B4 B5 R1 R2 R3 R4 R5 R6",
		"(R3, scope Publisher)":               "R3",
		"one-time use (B3/S6)":                "B3 S6",
		"R1-R6, B4, O4, O6: a mixed workload": "R1 R2 R3 R4 R5 R6 B4 O4 O6",
		"rules S1–S4, and P2":                 "S1 S2 S3 S4 P2",
		"RFC3339, T1, P99x, S3bucket, aB2":    "",
		"B3-S6":                               "B3 S6",
	} {
		if got := strings.Join(idsIn(text), " "); got != want {
			t.Errorf("idsIn(%q) = %q, want %q", text, got, want)
		}
	}
}

func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if ids[i][0] != ids[j][0] {
			return strings.IndexByte("POSBR", ids[i][0]) < strings.IndexByte("POSBR", ids[j][0])
		}
		a, _ := strconv.Atoi(ids[i][1:])
		b, _ := strconv.Atoi(ids[j][1:])
		return a < b
	})
	return ids
}
