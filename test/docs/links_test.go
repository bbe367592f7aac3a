package docs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// documents are the Markdown files whose links must resolve: the README
// and every page of docs/.
func documents(t *testing.T, root string) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(root, "README.md")}, pages...)
}

// TestRelativeLinksResolve checks every relative link of README.md and
// docs/*.md: the file or directory exists inside the repository, and an
// anchor names a heading of the Markdown file it points to (by GitHub's
// slug rules) or a line of another file (#L12).
func TestRelativeLinksResolve(t *testing.T) {
	root := repoRoot(t)
	docs := map[string]*markdownDoc{}
	read := func(path string) (*markdownDoc, error) {
		if d, ok := docs[path]; ok {
			return d, nil
		}
		d, err := readMarkdown(path)
		docs[path] = d
		return d, err
	}
	checked, anchors := 0, 0
	for _, path := range documents(t, root) {
		doc, err := read(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, path)
		for _, l := range doc.links {
			if !isRelative(l.dest) {
				continue
			}
			checked++
			if strings.Contains(l.dest, "#") {
				anchors++
			}
			if problem := resolve(root, path, l.dest, read); problem != "" {
				t.Errorf("%s:%d: link %s: %s", rel, l.line, l.dest, problem)
			}
		}
	}
	// README.md and docs/ link to each other, into the code and to their
	// own sections: finding few links means the reading is broken.
	if checked < 100 || anchors < 30 {
		t.Errorf("checked %d relative links, %d of them with an anchor: expected at least 100 and 30", checked, anchors)
	}
	t.Logf("%d relative links checked, %d with an anchor", checked, anchors)
}

// isRelative reports whether dest is a link within the repository rather
// than to a site (a scheme such as https: or mailto:, or //host).
func isRelative(dest string) bool {
	if dest == "" || strings.HasPrefix(dest, "//") {
		return false
	}
	u, err := url.Parse(dest)
	return err != nil || u.Scheme == ""
}

var lineAnchor = regexp.MustCompile(`^L([0-9]+)(?:-L([0-9]+))?$`)

// resolve says what is wrong with the relative link dest of the Markdown
// file from, "" when nothing is.
func resolve(root, from, dest string, read func(string) (*markdownDoc, error)) string {
	u, err := url.Parse(dest)
	if err != nil {
		return "not a valid URL: " + err.Error()
	}
	target := from
	if u.Path != "" {
		if strings.HasPrefix(u.Path, "/") {
			return "starts with /: GitHub resolves it against the site, not the repository; use a path relative to the file"
		}
		target = filepath.Join(filepath.Dir(from), filepath.FromSlash(u.Path))
	}
	if rel, err := filepath.Rel(root, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "leaves the repository, so a clone of it alone does not have the target"
	}
	info, err := os.Stat(target)
	if err != nil {
		return "no such file or directory"
	}
	if u.Fragment == "" {
		return ""
	}
	switch {
	case info.IsDir():
		return "an anchor on a directory"
	case strings.HasSuffix(target, ".md"):
		doc, err := read(target)
		if err != nil {
			return err.Error()
		}
		if !doc.anchors[u.Fragment] {
			return fmt.Sprintf("no heading or anchor %q in %s", u.Fragment, filepath.Base(target))
		}
	default:
		return lineAnchorProblem(target, u.Fragment)
	}
	return ""
}

// lineAnchorProblem checks an anchor on a file that is not Markdown: GitHub
// anchors lines there (#L12, #L12-L20), within the file's length.
func lineAnchorProblem(target, fragment string) string {
	m := lineAnchor.FindStringSubmatch(fragment)
	if m == nil {
		return fmt.Sprintf("anchor %q on a file that is not Markdown: only line anchors such as #L12 exist there", fragment)
	}
	data, err := os.ReadFile(target)
	if err != nil {
		return err.Error()
	}
	lines := strings.Count(string(data), "\n") + 1
	for _, n := range m[1:] {
		if v, _ := strconv.Atoi(n); n != "" && v > lines {
			return fmt.Sprintf("line %d is past the end of %s (%d lines)", v, filepath.Base(target), lines)
		}
	}
	return ""
}

// codeLinkText is the text of a link that names a Go declaration: a code
// span holding an identifier, a qualified one (rewards.DecideActivation)
// or a method (ProgramState.NotInForce).
var codeLinkText = regexp.MustCompile("^`([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)?)(?:\\(\\))?`$")

// TestCodeLinksNameDeclarations checks that a link whose text names a Go
// declaration in a code span, such as [`DecideActivation`](../internal/rewards/activation.go),
// points to the Go file that declares it: what the docs say enforces a
// rule does not silently move or disappear.
func TestCodeLinksNameDeclarations(t *testing.T) {
	root := repoRoot(t)
	checked := 0
	for _, path := range documents(t, root) {
		doc, err := readMarkdown(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, path)
		for _, l := range doc.links {
			m := codeLinkText.FindStringSubmatch(l.text)
			// [`reasons.go`](...) names the file, not a declaration.
			if m == nil || strings.HasSuffix(m[1], ".go") || !isRelative(l.dest) {
				continue
			}
			u, err := url.Parse(l.dest)
			if err != nil || !strings.HasSuffix(u.Path, ".go") {
				continue
			}
			checked++
			file := filepath.Join(filepath.Dir(path), filepath.FromSlash(u.Path))
			declared, err := declarations(file)
			if err != nil {
				t.Errorf("%s:%d: link %s: %v", rel, l.line, l.dest, err)
				continue
			}
			name := m[1]
			if !declared[name] {
				// A qualified name: the package's own name before the dot.
				if i := strings.Index(name, "."); i < 0 || !declared[name[i+1:]] || declared[name[:i]] {
					t.Errorf("%s:%d: link %s names %s, which %s does not declare", rel, l.line, l.dest, l.text, u.Path)
				}
			}
		}
	}
	if checked < 40 {
		t.Errorf("checked %d links naming a Go declaration: expected at least 40 (docs/rules.md alone names where each rule is enforced)", checked)
	}
	t.Logf("%d links naming a Go declaration checked", checked)
}

// declarations lists what a Go file declares at top level: functions,
// types, constants and variables by name, and methods (of a type, or of
// an interface) as Type.Method.
func declarations(path string) (map[string]bool, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil || len(d.Recv.List) == 0 {
				names[d.Name.Name] = true
				continue
			}
			names[receiverType(d.Recv.List[0].Type)+"."+d.Name.Name] = true
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					names[s.Name.Name] = true
					if iface, ok := s.Type.(*ast.InterfaceType); ok {
						for _, m := range iface.Methods.List {
							for _, n := range m.Names {
								names[s.Name.Name+"."+n.Name] = true
							}
						}
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						names[n.Name] = true
					}
				}
			}
		}
	}
	return names, nil
}

// receiverType is the name of a method's receiver type, without pointer or
// type parameters.
func receiverType(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return receiverType(x.X)
	case *ast.IndexExpr:
		return receiverType(x.X)
	case *ast.IndexListExpr:
		return receiverType(x.X)
	case *ast.Ident:
		return x.Name
	}
	return ""
}

func TestResolveFindsBrokenLinks(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	readme := write("README.md", "# Top\n\n## Quick start (no cluster)\n")
	write("docs/guide.md", "# Guide\n\n## Backups, and restores\n")
	write("main.go", "package main\n\nfunc main() {}\n")
	read := func(path string) (*markdownDoc, error) { return readMarkdown(path) }
	for dest, want := range map[string]string{
		"docs/guide.md":                          "",
		"docs/guide.md#backups-and-restores":     "",
		"#quick-start-no-cluster":                "",
		"main.go#L3":                             "",
		"docs/":                                  "",
		"docs/guide.md#backups":                  `no heading or anchor "backups" in guide.md`,
		"#quick-start":                           `no heading or anchor "quick-start" in README.md`,
		"docs/missing.md":                        "no such file or directory",
		"../outside.md":                          "leaves the repository, so a clone of it alone does not have the target",
		"main.go#L9":                             "line 9 is past the end of main.go (4 lines)",
		"main.go#main":                           `anchor "main" on a file that is not Markdown: only line anchors such as #L12 exist there`,
		"/docs/guide.md":                         "starts with /: GitHub resolves it against the site, not the repository; use a path relative to the file",
		"docs/guide.md#backups-and-restores-and": `no heading or anchor "backups-and-restores-and" in guide.md`,
	} {
		if got := resolve(root, readme, dest, read); got != want {
			t.Errorf("resolve(%q) = %q, want %q", dest, got, want)
		}
	}
}
