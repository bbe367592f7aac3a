package docs

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// reasonConstants are the string constants of api/v1alpha1/reasons.go,
// condition and Event reasons, by value, with the name of the constant
// that first gives each.
func reasonConstants(t *testing.T, root string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, "api", "v1alpha1", "reasons.go"), nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				// A constant defined as another (SalesOfferNotFound =
				// ReasonOfferNotFound) adds no value of its own.
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				if _, seen := values[v]; !seen {
					values[v] = name.Name
				}
			}
		}
	}
	return values
}

// TestEveryReasonIsExplained checks that every condition and Event reason
// of api/v1alpha1/reasons.go has a row in the tables of docs/operations.md's
// "Troubleshooting by condition reason": what it means and what to do.
func TestEveryReasonIsExplained(t *testing.T) {
	root := repoRoot(t)
	reasons := reasonConstants(t, root)
	if len(reasons) < 40 {
		t.Fatalf("found %d reasons in api/v1alpha1/reasons.go: expected at least 40", len(reasons))
	}

	f, err := os.Open(filepath.Join(root, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	explained := map[string]bool{}
	inSection := false
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := scanner.Text()
		if strings.HasPrefix(line, "## ") {
			inSection = strings.TrimPrefix(line, "## ") == "Troubleshooting by condition reason"
			continue
		}
		if !inSection || !strings.HasPrefix(line, "|") {
			continue
		}
		// The first cell names the reasons the row explains.
		cells := strings.Split(line, "|")
		for _, span := range codeSpan.FindAllString(cells[1], -1) {
			explained[strings.Trim(span, "`")] = true
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	for value, name := range reasons {
		if !explained[value] {
			t.Errorf("reason %q (%s in api/v1alpha1/reasons.go) has no row in docs/operations.md, \"Troubleshooting by condition reason\"", value, name)
		}
	}
	t.Logf("%d reasons checked", len(reasons))
}
