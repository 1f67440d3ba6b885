package route53

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/waymark-dns/waymark/controlplane"
)

// TestEveryCodeMapped keeps r53Code complete: every Code constant declared
// in controlplane/errors.go must map to a Route 53 code and a 4xx status.
func TestEveryCodeMapped(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "../../controlplane/errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					continue
				}
				code, _ := strconv.Unquote(lit.Value)
				n++
				r53, status, ok := r53Code(controlplane.Code(code))
				if !ok || r53 == "" || status < 400 || status >= 500 {
					t.Errorf("code %s: mapped to %q %d %v", code, r53, status, ok)
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("found only %d codes in controlplane/errors.go", n)
	}
}

func TestToR53Error(t *testing.T) {
	t.Parallel()
	i, j := 0, 2
	e, ok := toR53Error(&controlplane.Error{Code: controlplane.CodeInvalidChangeBatch, Message: "2 problems",
		Details: []controlplane.Detail{{Index: &i, Message: "first"}, {Index: &j, Message: "second"}}})
	if !ok || e.Code != "InvalidChangeBatch" || e.Status != http.StatusBadRequest || e.Message != "[first, second]" {
		t.Fatalf("%+v", e)
	}
	e, ok = toR53Error(controlplane.Errorf(controlplane.CodeHostedZoneNotEmpty, "not empty"))
	if !ok || e.Status != http.StatusBadRequest {
		t.Fatalf("HostedZoneNotEmpty is 400 in Route 53: %+v", e)
	}
	e, ok = toR53Error(controlplane.Errorf(controlplane.CodeNoSuchCidrCollection, "x"))
	if !ok || e.Code != "NoSuchCidrCollectionException" || e.Status != http.StatusNotFound {
		t.Fatalf("%+v", e)
	}
	if _, ok := toR53Error(strconvErr()); ok {
		t.Fatal("a plain error was mapped")
	}
	if !strings.Contains(errInvalidInput("x").Error(), "InvalidInput") {
		t.Fatal("Error()")
	}
}

func strconvErr() error { _, err := strconv.Atoi("x"); return err }
